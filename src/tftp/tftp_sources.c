/*
 * The server shell's bookkeeping of who holds transfers: a table of client
 * addresses (sources) keyed by SipHash under a random key, each with its
 * transfers and its counts in the two pools, and the list of
 * unacknowledged transfers, oldest first.  What admission needs (counts,
 * the oldest to evict, a repeated request's transfer) is then O(1) or
 * O(transfers of one address), however many transfers are in flight.
 * No syscalls here beyond the key's getrandom.  Each function is
 * described where tftp_server_int.h declares it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "tftp/tftp_server_int.h"

#define SRC_BUCKETS_MIN 256

/* Family and address of peer, as the table keys them. */
static size_t peer_key(const struct sockaddr_storage *peer, uint8_t out[17])
{
	memset(out, 0, 17);
	out[0] = (uint8_t)peer->ss_family;
	if (peer->ss_family == AF_INET) {
		memcpy(out + 1, &((const struct sockaddr_in *)peer)->sin_addr, 4);
		return 5;
	}
	memcpy(out + 1, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	return 17;
}

uint64_t ib_tftp_source_hash(const struct ib_tftp_server *s,
			     const struct sockaddr_storage *peer)
{
	uint8_t k[17];
	size_t n = peer_key(peer, k);

	return ib_siphash(s->src_key, k, n);
}

int ib_tftp_sources_init(struct ib_tftp_server *s)
{
	if (ib_siphash_key_random(s->src_key) < 0)
		return -EIO;
	s->src_tab = calloc(SRC_BUCKETS_MIN, sizeof(*s->src_tab));
	if (!s->src_tab)
		return -ENOMEM;
	s->src_buckets = SRC_BUCKETS_MIN;
	return 0;
}

void ib_tftp_sources_done(struct ib_tftp_server *s)
{
	free(s->src_tab);
	s->src_tab = NULL;
}

static bool same_source(const struct ib_tftp_source *src, int family,
			const uint8_t *addr)
{
	return src->family == family &&
	       memcmp(src->addr, addr, family == AF_INET ? 4 : 16) == 0;
}

struct ib_tftp_source *ib_tftp_source_find(struct ib_tftp_server *s,
					   const struct sockaddr_storage *peer)
{
	uint8_t k[17];
	size_t n = peer_key(peer, k);
	uint64_t h = ib_siphash(s->src_key, k, n);

	for (struct ib_tftp_source *src = s->src_tab[h & (s->src_buckets - 1)];
	     src; src = src->hnext)
		if (src->hash == h && same_source(src, peer->ss_family, k + 1))
			return src;
	return NULL;
}

/* Doubles the buckets when sources outnumber them (failure: stay). */
static void grow(struct ib_tftp_server *s)
{
	size_t nb = s->src_buckets * 2;
	struct ib_tftp_source **tab;

	if (s->n_src < s->src_buckets || !(tab = calloc(nb, sizeof(*tab))))
		return;
	for (size_t i = 0; i < s->src_buckets; i++)
		for (struct ib_tftp_source *src = s->src_tab[i], *next; src; src = next) {
			next = src->hnext;
			src->hnext = tab[src->hash & (nb - 1)];
			tab[src->hash & (nb - 1)] = src;
		}
	free(s->src_tab);
	s->src_tab = tab;
	s->src_buckets = nb;
}

static struct ib_tftp_source *source_get(struct ib_tftp_server *s,
					 const struct sockaddr_storage *peer)
{
	struct ib_tftp_source *src = ib_tftp_source_find(s, peer);
	uint8_t k[17];
	size_t n;

	if (src)
		return src;
	src = calloc(1, sizeof(*src));
	if (!src)
		return NULL;
	n = peer_key(peer, k);
	src->hash = ib_siphash(s->src_key, k, n);
	src->family = peer->ss_family;
	memcpy(src->addr, k + 1, n - 1);
	grow(s);
	src->hnext = s->src_tab[src->hash & (s->src_buckets - 1)];
	s->src_tab[src->hash & (s->src_buckets - 1)] = src;
	s->n_src++;
	return src;
}

static void source_put(struct ib_tftp_server *s, struct ib_tftp_source *src)
{
	struct ib_tftp_source **pp = &s->src_tab[src->hash & (s->src_buckets - 1)];

	if (src->conns)
		return;
	while (*pp != src)
		pp = &(*pp)->hnext;
	*pp = src->hnext;
	s->n_src--;
	free(src);
}

void ib_tftp_admit_counts_for(const struct ib_tftp_server *s,
			      const struct ib_tftp_source *src,
			      struct ib_tftp_admit_counts *ret)
{
	*ret = (struct ib_tftp_admit_counts){
		.live = s->n_live, .unacked = s->n_unacked,
		.stranger_unacked = s->n_stranger_unacked,
		.src_live = src ? src->n_live : 0,
		.src_unacked = src ? src->n_unacked : 0,
	};
}

int ib_tftp_source_attach(struct ib_tftp_server *s, struct ib_tftp_conn *c)
{
	struct ib_tftp_source *src = source_get(s, &c->peer);

	if (!src)
		return -ENOMEM;
	c->src = src;
	c->snext = src->conns;
	if (src->conns)
		src->conns->sprev = c;
	src->conns = c;
	/* newest at the tail of the unacked list */
	c->unacked = true;
	c->uprev = s->unacked_new;
	if (s->unacked_new)
		s->unacked_new->unext = c;
	else
		s->unacked_old = c;
	s->unacked_new = c;
	src->n_unacked++;
	s->n_unacked++;
	if (src->n_live == 0)
		s->n_stranger_unacked++;
	return 0;
}

static void unacked_unlink(struct ib_tftp_server *s, struct ib_tftp_conn *c)
{
	if (c->uprev)
		c->uprev->unext = c->unext;
	else
		s->unacked_old = c->unext;
	if (c->unext)
		c->unext->uprev = c->uprev;
	else
		s->unacked_new = c->uprev;
	c->uprev = c->unext = NULL;
	c->unacked = false;
	c->src->n_unacked--;
	s->n_unacked--;
	if (c->src->n_live == 0)
		s->n_stranger_unacked--;
}

void ib_tftp_source_promote(struct ib_tftp_server *s, struct ib_tftp_conn *c)
{
	unacked_unlink(s, c);
	/* its other waiting requests stop being a stranger's */
	if (c->src->n_live++ == 0)
		s->n_stranger_unacked -= c->src->n_unacked;
	s->n_live++;
}

void ib_tftp_source_detach(struct ib_tftp_server *s, struct ib_tftp_conn *c)
{
	struct ib_tftp_source *src = c->src;

	if (!src)
		return;
	if (c->unacked) {
		unacked_unlink(s, c);
	} else {
		s->n_live--;
		if (--src->n_live == 0)
			s->n_stranger_unacked += src->n_unacked;
	}
	if (c->sprev)
		c->sprev->snext = c->snext;
	else
		src->conns = c->snext;
	if (c->snext)
		c->snext->sprev = c->sprev;
	c->src = NULL;
	source_put(s, src);
}

struct ib_tftp_conn *ib_tftp_unacked_oldest(const struct ib_tftp_server *s,
					    bool stranger)
{
	struct ib_tftp_conn *c = s->unacked_old;

	/* A stranger's is found after at most the waiting requests of the
	 * few sources with transfers under way that are older. */
	while (c && stranger && c->src->n_live > 0)
		c = c->unext;
	return c;
}
