/*
 * The ADVERTISE holds (dhcp6_holds.h): slots in one array, a free list,
 * and two chained hash tables of slot indexes.
 */
#include "dhcp6/dhcp6_holds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"
#include "store/store.h"

#define NIL (-1)

struct slot {
	uint8_t addr[16];		/* the held address */
	uint8_t duid[IB_DUID_MAX];	/* for this client */
	uint8_t duid_len;		/* 0 = free slot */
	uint32_t iaid;
	int64_t until;			/* unix seconds */
	int32_t next_addr;		/* address chain (free list when free) */
	int32_t next_client;		/* client chain */
};

struct ib_d6_holds {
	struct slot *slots;		/* cap of them */
	size_t cap;
	size_t nbuckets;		/* a power of two, >= cap */
	int32_t *by_addr;		/* bucket heads */
	int32_t *by_client;
	int32_t free_head;		/* first free slot, or NIL */
	struct ib_ledger *ledger;	/* the holds filed by subnet and source */
	uint8_t key[IB_SIPHASH_KEY_LEN]; /* random: DUIDs come from the wire */
};

static size_t addr_bucket(const struct ib_d6_holds *h, const uint8_t addr[16])
{
	return ib_siphash(h->key, addr, 16) & (h->nbuckets - 1);
}

/* The DUID and IAID hashed as one string: IAID (4 bytes) then DUID. */
static size_t client_bucket(const struct ib_d6_holds *h, const uint8_t *duid, size_t len,
			    uint32_t iaid)
{
	uint8_t buf[4 + IB_DUID_MAX];

	buf[0] = (uint8_t)(iaid >> 24);
	buf[1] = (uint8_t)(iaid >> 16);
	buf[2] = (uint8_t)(iaid >> 8);
	buf[3] = (uint8_t)iaid;
	if (len > IB_DUID_MAX)
		len = IB_DUID_MAX;
	memcpy(buf + 4, duid, len);
	return ib_siphash(h->key, buf, 4 + len) & (h->nbuckets - 1);
}

static bool is_client(const struct slot *s, const struct ib_dhcp6_blob *duid, uint32_t iaid)
{
	return s->duid_len == duid->len && s->iaid == iaid && memcmp(s->duid, duid->p, duid->len) == 0;
}

int ib_d6_holds_new(size_t cap, struct ib_d6_holds **ret)
{
	struct ib_d6_holds *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	if (ib_siphash_key_random(h->key) < 0) {
		free(h);
		return -EIO;
	}
	h->cap = cap;
	for (h->nbuckets = 1; h->nbuckets < cap; h->nbuckets <<= 1)
		;
	h->slots = calloc(cap, sizeof(*h->slots));
	h->by_addr = malloc(h->nbuckets * sizeof(*h->by_addr));
	h->by_client = malloc(h->nbuckets * sizeof(*h->by_client));
	if (!h->slots || !h->by_addr || !h->by_client || ib_ledger_new(cap, &h->ledger) < 0) {
		ib_d6_holds_free(h);
		return -ENOMEM;
	}
	for (size_t i = 0; i < h->nbuckets; i++)
		h->by_addr[i] = h->by_client[i] = NIL;
	for (size_t i = 0; i < cap; i++)
		h->slots[i].next_addr = i + 1 < cap ? (int32_t)(i + 1) : NIL;
	h->free_head = cap ? 0 : NIL;
	*ret = h;
	return 0;
}

void ib_d6_holds_free(struct ib_d6_holds *h)
{
	if (!h)
		return;
	free(h->slots);
	free(h->by_addr);
	free(h->by_client);
	ib_ledger_free(h->ledger);
	free(h);
}

/* Unlinks slot i from the chain starting at *head (linked through next). */
static void unlink_from(struct ib_d6_holds *h, int32_t *head, int32_t i, bool addr_chain)
{
	for (int32_t *p = head; *p != NIL;) {
		struct slot *s = &h->slots[*p];

		if (*p == i) {
			*p = addr_chain ? s->next_addr : s->next_client;
			return;
		}
		p = addr_chain ? &s->next_addr : &s->next_client;
	}
}

static void remove_slot(struct ib_d6_holds *h, int32_t i)
{
	struct slot *s = &h->slots[i];

	unlink_from(h, &h->by_addr[addr_bucket(h, s->addr)], i, true);
	unlink_from(h, &h->by_client[client_bucket(h, s->duid, s->duid_len, s->iaid)], i, false);
	ib_ledger_remove(h->ledger, s->addr);
	s->duid_len = 0;
	s->next_addr = h->free_head;
	h->free_head = i;
}

int ib_d6_holds_find(struct ib_d6_holds *h, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		     int64_t now, uint8_t ret_addr[16], int64_t *ret_until)
{
	if (duid->len == 0 || duid->len > IB_DUID_MAX)
		return -ENOENT;
	for (int32_t i = h->by_client[client_bucket(h, duid->p, duid->len, iaid)]; i != NIL;
	     i = h->slots[i].next_client) {
		const struct slot *s = &h->slots[i];

		if (s->until > now && is_client(s, duid, iaid)) {
			memcpy(ret_addr, s->addr, 16);
			*ret_until = s->until;
			return 0;
		}
	}
	return -ENOENT;
}

enum ib_d6_holder ib_d6_holds_holder(struct ib_d6_holds *h, const uint8_t addr[16],
				     const struct ib_dhcp6_blob *duid, uint32_t iaid,
				     int64_t now)
{
	for (int32_t i = h->by_addr[addr_bucket(h, addr)]; i != NIL; i = h->slots[i].next_addr) {
		const struct slot *s = &h->slots[i];

		if (s->until > now && memcmp(s->addr, addr, 16) == 0)
			return is_client(s, duid, iaid) ? IB_D6_HELD_MINE : IB_D6_HELD_OTHER;
	}
	return IB_D6_HELD_NONE;
}

void ib_d6_holds_drop_addr(struct ib_d6_holds *h, const uint8_t addr[16])
{
	int32_t i = h->by_addr[addr_bucket(h, addr)];

	while (i != NIL) {
		int32_t next = h->slots[i].next_addr;

		if (memcmp(h->slots[i].addr, addr, 16) == 0)
			remove_slot(h, i);
		i = next;
	}
}

void ib_d6_holds_put(struct ib_d6_holds *h, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		     const uint8_t addr[16], int64_t until, int64_t now,
		     const struct ib_ledger_group *g)
{
	struct slot *s;
	int32_t i;

	if (duid->len == 0 || duid->len > IB_DUID_MAX)
		return;
	ib_d6_holds_drop(h, duid, iaid);
	ib_d6_holds_drop_addr(h, addr);		/* taken over, if another's */
	if (h->free_head == NIL)
		ib_d6_holds_expire(h, now);
	if (h->free_head == NIL)
		return;
	i = h->free_head;
	s = &h->slots[i];
	h->free_head = s->next_addr;
	memcpy(s->addr, addr, 16);
	memcpy(s->duid, duid->p, duid->len);
	s->duid_len = (uint8_t)duid->len;
	s->iaid = iaid;
	s->until = until;
	s->next_addr = h->by_addr[addr_bucket(h, addr)];
	h->by_addr[addr_bucket(h, addr)] = i;
	s->next_client = h->by_client[client_bucket(h, duid->p, duid->len, iaid)];
	h->by_client[client_bucket(h, duid->p, duid->len, iaid)] = i;
	/* a full ledger leaves the hold uncounted: it still expires */
	if (g)
		ib_ledger_add(h->ledger, addr, g, now, until);
}

size_t ib_d6_holds_in(struct ib_d6_holds *h, const struct ib_ledger_group *g, int64_t now)
{
	return ib_ledger_count(h->ledger, g, now);
}

int ib_d6_holds_oldest(struct ib_d6_holds *h, const uint8_t subnet[16], const uint64_t *source,
		       int64_t now, uint8_t ret_addr[16])
{
	return ib_ledger_oldest(h->ledger, subnet, source, now, ret_addr);
}

void ib_d6_holds_drop(struct ib_d6_holds *h, const struct ib_dhcp6_blob *duid, uint32_t iaid)
{
	int32_t i;

	if (duid->len == 0 || duid->len > IB_DUID_MAX)
		return;
	i = h->by_client[client_bucket(h, duid->p, duid->len, iaid)];
	while (i != NIL) {
		int32_t next = h->slots[i].next_client;

		if (is_client(&h->slots[i], duid, iaid))
			remove_slot(h, i);
		i = next;
	}
}

void ib_d6_holds_expire(struct ib_d6_holds *h, int64_t now)
{
	for (size_t i = 0; i < h->cap; i++)
		if (h->slots[i].duid_len && h->slots[i].until <= now)
			remove_slot(h, (int32_t)i);
}

size_t ib_d6_holds_count(const struct ib_d6_holds *h, int64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < h->cap; i++)
		n += h->slots[i].duid_len && h->slots[i].until > now;
	return n;
}
