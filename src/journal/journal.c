/* The journal's queue and its flush to the store: see journal.h. */
#include "journal/journal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonw.h"
#include "common/log.h"
#include "common/util.h"

#define SEC_US 1000000LL
#define LIMITS 4			/* protocols with a rate limit of their own */

/* An event whose repeats are being counted. */
struct repeat {
	uint64_t key;			/* its repeat key; 0 = free */
	int64_t first_us;		/* when it was queued */
	int64_t last_us;		/* its last repeat */
	uint64_t n;			/* repeats counted since */
	char mac[48];			/* who, proto and kind, as queued */
	char client_id[IB_STORE_CLIENT_ID_MAX * 2 + 1];
	char uuid[40];
	char proto[8];
	char kind[32];
};

/* One protocol's (or source address's) token bucket. */
struct limit {
	char proto[8];			/* "" = free */
	char source[48];		/* a source's bucket: its address, else "" */
	double tokens;			/* up to the burst */
	int64_t at_us;			/* tokens counted up to then */
	uint64_t dropped;		/* since the last summary */
	int64_t first_us, last_us;	/* first and last of those */
};

struct ib_journal {
	struct ib_store *store;			/* not owned */
	const struct ib_journal_config *cfg;	/* retention */
	struct ib_event *queue;			/* ring of IB_JOURNAL_QUEUE */
	size_t head;				/* oldest queued */
	size_t count;				/* queued */
	size_t sealed;				/* of those, the first written in
						 * the caller's open transaction:
						 * told once it commits */
	uint64_t added;				/* queued, since start */
	uint64_t dropped;			/* lost to a full queue */
	struct repeat *repeats;			/* IB_JOURNAL_REPEATS */
	struct limit limits[LIMITS];
	struct limit *sources;			/* IB_JOURNAL_SOURCES */
	uint64_t thinned;			/* repeats and rate-limited, counted */
	ib_journal_listen_fn listen;		/* told of each stored event, or NULL */
	void *listen_ctx;			/* its context */
};

int ib_journal_new(struct ib_store *store, const struct ib_journal_config *cfg,
		   struct ib_journal **ret)
{
	struct ib_journal *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->queue = calloc(IB_JOURNAL_QUEUE, sizeof(*j->queue));
	j->repeats = calloc(IB_JOURNAL_REPEATS, sizeof(*j->repeats));
	j->sources = calloc(IB_JOURNAL_SOURCES, sizeof(*j->sources));
	if (!j->queue || !j->repeats || !j->sources) {
		free(j->queue);
		free(j->repeats);
		free(j->sources);
		free(j);
		return -ENOMEM;
	}
	j->store = store;
	j->cfg = cfg;
	*ret = j;
	return 0;
}

void ib_journal_free(struct ib_journal *j)
{
	if (!j)
		return;
	free(j->queue);
	free(j->repeats);
	free(j->sources);
	free(j);
}

void ib_journal_set_config(struct ib_journal *j, const struct ib_journal_config *cfg)
{
	j->cfg = cfg;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Queues an event at ts_us; its detail buffer ("{}") and capacity. */
static struct ib_event *queue_event(struct ib_journal *j, const struct ib_journal_who *who,
				    const char *proto, const char *kind, int64_t ts_us)
{
	struct ib_event *ev;

	if (j->count == IB_JOURNAL_QUEUE) {
		j->head = (j->head + 1) % IB_JOURNAL_QUEUE;
		j->count--;
		j->dropped++;
		if (j->sealed)
			j->sealed--;	/* stored with its transaction, untold */
	}
	ev = &j->queue[(j->head + j->count) % IB_JOURNAL_QUEUE];
	j->count++;
	j->added++;
	ev->id = 0;
	ev->ts_us = ts_us;
	ev->mac[0] = ev->client_id[0] = ev->uuid[0] = '\0';
	if (who && who->hw && who->hw_len)
		ib_mac_format(who->hw, who->hw_len, ev->mac, sizeof(ev->mac));
	if (who && who->client_id && who->client_id_len)
		ib_hex_format(who->client_id, who->client_id_len, ev->client_id,
			      sizeof(ev->client_id));
	/* The uuid is a wire string (DHCP option 97, an HTTP query): stored
	 * escaped, so the journal holds only printable ASCII there. */
	if (who && who->uuid)
		ib_str_sanitize((const uint8_t *)who->uuid, strnlen(who->uuid, 64), ev->uuid,
				sizeof(ev->uuid));
	copy_str(ev->proto, sizeof(ev->proto), proto);
	copy_str(ev->kind, sizeof(ev->kind), kind);
	memcpy(ev->detail, "{}", 3);
	return ev;
}

char *ib_journal_add_slot(struct ib_journal *j, const struct ib_journal_who *who,
			  const char *proto, const char *kind, size_t *ret_cap)
{
	struct ib_event *ev = queue_event(j, who, proto, kind, ib_now_us());

	*ret_cap = sizeof(ev->detail);
	return ev->detail;
}

/* Queues the summary of r's repeats, if any, and forgets them. */
static void summarise_repeats(struct ib_journal *j, struct repeat *r)
{
	struct ib_event *ev;
	struct ib_jw w;

	if (r->n) {
		ev = queue_event(j, NULL, r->proto, r->kind, r->last_us);
		memcpy(ev->mac, r->mac, sizeof(ev->mac));
		memcpy(ev->client_id, r->client_id, sizeof(ev->client_id));
		memcpy(ev->uuid, r->uuid, sizeof(ev->uuid));
		ib_jw_init(&w, ev->detail, sizeof(ev->detail));
		ib_jw_int(&w, "repeated", (int64_t)r->n);
		ib_jw_int(&w, "since_us", r->first_us);
		ib_jw_int(&w, "last_us", r->last_us);
		ib_jw_end(&w);
	}
	r->key = 0;
	r->n = 0;
}

/* Queues the summary of the rate limit's drops, if any. */
static void summarise_drops(struct ib_journal *j, struct limit *l)
{
	struct ib_event *ev;
	struct ib_jw w;

	if (!l->dropped)
		return;
	ev = queue_event(j, NULL, l->proto, IB_JOURNAL_LIMITED_KIND, l->last_us);
	ib_jw_init(&w, ev->detail, sizeof(ev->detail));
	ib_jw_int(&w, "dropped", (int64_t)l->dropped);
	ib_jw_int(&w, "first_us", l->first_us);
	ib_jw_int(&w, "last_us", l->last_us);
	if (l->source[0]) {
		ib_jw_str(&w, "client", l->source);
		ib_jw_str(&w, "reason", "events of one client over the journal's rate limit");
	} else {
		ib_jw_str(&w, "reason", "events of unknown clients over the journal's rate limit");
	}
	ib_jw_end(&w);
	l->dropped = 0;
}

/* The token bucket of proto (made on first use; NULL when all are taken). */
static struct limit *limit_of(struct ib_journal *j, const char *proto, int64_t now_us)
{
	for (size_t i = 0; i < LIMITS; i++) {
		struct limit *l = &j->limits[i];

		if (strncmp(l->proto, proto, sizeof(l->proto) - 1) == 0 && l->proto[0])
			return l;
		if (!l->proto[0]) {
			copy_str(l->proto, sizeof(l->proto), proto);
			l->tokens = IB_JOURNAL_LIMIT_BURST;
			l->at_us = now_us;
			return l;
		}
	}
	return NULL;
}

/* Takes a token of l (rate per second, up to burst); false (counted)
 * when there is none. */
static bool take_from(struct limit *l, int64_t now_us, double rate, double burst)
{
	if (now_us > l->at_us) {
		l->tokens += (double)(now_us - l->at_us) * rate / SEC_US;
		if (l->tokens > burst)
			l->tokens = burst;
		l->at_us = now_us;
	}
	if (l->tokens >= 1) {
		l->tokens -= 1;
		return true;
	}
	if (!l->dropped)
		l->first_us = now_us;
	l->dropped++;
	l->last_us = now_us;
	return false;
}

/* Takes a token of proto's bucket; false (counted) when there is none. */
static bool take_token(struct ib_journal *j, const char *proto, int64_t now_us)
{
	struct limit *l = limit_of(j, proto, now_us);

	return !l || take_from(l, now_us, IB_JOURNAL_LIMIT_RATE, IB_JOURNAL_LIMIT_BURST);
}

/* Takes a token of source's bucket (FNV-1a of the address, direct-mapped;
 * a bucket another address held is summarised and restarted). */
static bool take_source(struct ib_journal *j, const char *proto, const char *source,
			int64_t now_us)
{
	uint32_t h = 2166136261u;
	struct limit *l;

	for (const char *c = source; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	l = &j->sources[h % IB_JOURNAL_SOURCES];
	if (strncmp(l->source, source, sizeof(l->source) - 1) || strcmp(l->proto, proto)) {
		summarise_drops(j, l);
		memset(l, 0, sizeof(*l));
		copy_str(l->proto, sizeof(l->proto), proto);
		copy_str(l->source, sizeof(l->source), source);
		l->tokens = IB_JOURNAL_SOURCE_BURST;
		l->at_us = now_us;
	}
	return take_from(l, now_us, IB_JOURNAL_SOURCE_RATE, IB_JOURNAL_SOURCE_BURST);
}

char *ib_journal_add_slot_gated(struct ib_journal *j, const struct ib_journal_who *who,
				const char *proto, const char *kind,
				const struct ib_journal_gate *g, int64_t now_us, size_t *ret_cap)
{
	struct repeat *r = NULL;
	struct ib_event *ev;

	if (g->repeat_key) {
		r = &j->repeats[g->repeat_key % IB_JOURNAL_REPEATS];
		if (r->key == g->repeat_key && now_us - r->first_us < IB_JOURNAL_REPEAT_SEC * SEC_US) {
			r->n++;
			r->last_us = now_us;
			j->thinned++;
			return NULL;
		}
	}
	if ((g->source && !take_source(j, proto, g->source, now_us)) ||
	    (g->limited && !take_token(j, proto, now_us))) {
		j->thinned++;
		return NULL;
	}
	if (r)
		summarise_repeats(j, r);	/* the key it held is replaced */
	ev = queue_event(j, who, proto, kind, now_us);
	if (r) {
		r->key = g->repeat_key;
		r->first_us = r->last_us = now_us;
		memcpy(r->mac, ev->mac, sizeof(r->mac));
		memcpy(r->client_id, ev->client_id, sizeof(r->client_id));
		memcpy(r->uuid, ev->uuid, sizeof(r->uuid));
		memcpy(r->proto, ev->proto, sizeof(r->proto));
		memcpy(r->kind, ev->kind, sizeof(r->kind));
	}
	*ret_cap = sizeof(ev->detail);
	return ev->detail;
}

/* Summarises the drops of the n buckets of v that are due at now_us. */
static void tick_limits(struct ib_journal *j, struct limit *v, size_t n, int64_t now_us,
			bool all)
{
	for (size_t i = 0; i < n; i++) {
		struct limit *l = &v[i];

		if (l->dropped && (all || now_us - l->last_us >= SEC_US ||
				   now_us - l->first_us >= IB_JOURNAL_REPEAT_SEC * SEC_US))
			summarise_drops(j, l);
	}
}

void ib_journal_tick(struct ib_journal *j, int64_t now_us, bool all)
{
	for (size_t i = 0; i < IB_JOURNAL_REPEATS; i++) {
		struct repeat *r = &j->repeats[i];

		if (r->key && (all || now_us - r->first_us >= IB_JOURNAL_REPEAT_SEC * SEC_US))
			summarise_repeats(j, r);
	}
	tick_limits(j, j->limits, LIMITS, now_us, all);
	tick_limits(j, j->sources, IB_JOURNAL_SOURCES, now_us, all);
}

uint64_t ib_journal_thinned(const struct ib_journal *j)
{
	return j->thinned;
}

void ib_journal_add(struct ib_journal *j, const struct ib_journal_who *who,
		    const char *proto, const char *kind, json_t *detail)
{
	static const char marker[] = "{\"truncated\":true}";
	size_t cap, n;
	char *buf = ib_journal_add_slot(j, who, proto, kind, &cap);

	if (detail) {
		n = json_dumpb(detail, buf, cap - 1, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (n == 0 || n >= cap - 1)
			memcpy(buf, marker, sizeof(marker));
		else
			buf[n] = '\0';
	}
	json_decref(detail);
}

/* The first n queued events, now durable, to a structured log (the
 * systemd journal's fields, log.h); nothing without one. */
static void log_events(const struct ib_journal *j, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct ib_event *e = &j->queue[(j->head + i) % IB_JOURNAL_QUEUE];
		struct ib_log_fields f = { .mac = e->mac, .stage = e->proto,
					   .event = e->kind, .detail = e->detail };

		ib_log_machine_event(&f);
	}
}

void ib_journal_set_listener(struct ib_journal *j, ib_journal_listen_fn fn, void *ctx)
{
	j->listen = fn;
	j->listen_ctx = ctx;
}

/* The first n queued events, durable, to the listener (their ids are set
 * by now), then NULL: the batch is over. */
static void tell_listener(const struct ib_journal *j, size_t n)
{
	if (!j->listen)
		return;
	for (size_t i = 0; i < n; i++)
		j->listen(j->listen_ctx, &j->queue[(j->head + i) % IB_JOURNAL_QUEUE]);
	j->listen(j->listen_ctx, NULL);
}

/* The first n queued events are durable: logged, told, dropped. */
static void stored(struct ib_journal *j, size_t n)
{
	log_events(j, n);
	tell_listener(j, n);
	j->head = (j->head + n) % IB_JOURNAL_QUEUE;
	j->count -= n;
}

/* in_tx: the caller's transaction; else nowait: the lock now or -EAGAIN */
static int flush(struct ib_journal *j, bool in_tx, bool nowait)
{
	int r;

	if (j->sealed && !in_tx)
		return -EBUSY;		/* the caller's transaction is still open */
	if (j->count == j->sealed)
		return 0;
	if (!in_tx && (r = nowait ? ib_store_begin_nowait(j->store)
				  : ib_store_begin(j->store)) < 0)
		return r;
	/* the ring's events in at most two runs: head to the end, then from 0 */
	for (size_t done = j->sealed; done < j->count;) {
		size_t at = (j->head + done) % IB_JOURNAL_QUEUE;
		size_t n = IB_MIN(j->count - done, IB_JOURNAL_QUEUE - at);

		r = ib_store_event_append_many(j->store, &j->queue[at], n);
		if (r < 0)
			goto err_append;
		done += n;
	}
	if (in_tx) {
		j->sealed = j->count;	/* told by ib_journal_settle() */
		return 0;
	}
	if ((r = ib_store_commit(j->store)) < 0)
		goto err_append;
	stored(j, j->count);
	return 0;

err_append:
	if (!in_tx)
		ib_store_rollback(j->store);
	return r;
}

int ib_journal_flush(struct ib_journal *j, bool in_tx)
{
	return flush(j, in_tx, false);
}

int ib_journal_flush_nowait(struct ib_journal *j)
{
	return flush(j, false, true);
}

void ib_journal_settle(struct ib_journal *j, bool committed)
{
	if (!j->sealed)
		return;
	if (committed) {
		stored(j, j->sealed);
	} else {
		/* rolled back: still queued, written (and told) by a later flush */
		for (size_t i = 0; i < j->sealed; i++)
			j->queue[(j->head + i) % IB_JOURNAL_QUEUE].id = 0;
	}
	j->sealed = 0;
}

size_t ib_journal_pending(const struct ib_journal *j)
{
	return j->count;
}

uint64_t ib_journal_added(const struct ib_journal *j)
{
	return j->added;
}

uint64_t ib_journal_dropped(const struct ib_journal *j)
{
	return j->dropped;
}

int ib_journal_prune(struct ib_journal *j, int64_t now_us)
{
	int64_t cutoff = 0;

	int r;

	if (j->cfg->max_age_days)
		cutoff = now_us - (int64_t)j->cfg->max_age_days * 86400 * 1000000;
	/* on the loop: never wait for another connection's write lock */
	if ((r = ib_store_begin_nowait(j->store)) < 0)
		return r;
	if ((r = ib_store_event_prune(j->store, j->cfg->max_events, cutoff)) < 0) {
		ib_store_rollback(j->store);
		return r;
	}
	return ib_store_commit(j->store);
}

void ib_journal_who_for_peer(struct ib_store *store, const struct sockaddr *sa,
			     struct ib_journal_peer *buf, struct ib_journal_who *who)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	int64_t now = ib_now_us() / 1000000;
	uint32_t v4;

	memset(who, 0, sizeof(*who));
	if (!sa)
		return;
	if (sa->sa_family == AF_INET) {
		v4 = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	} else if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(&v4, &s6->sin6_addr.s6_addr[12], 4);
		v4 = ntohl(v4);
	} else if (sa->sa_family == AF_INET6) {
		struct ib_lease6 *l = &buf->lease.v6;

		/* only a binding that holds now: an address released or
		 * expired may be anyone's (http_auth.c asks the same) */
		if (ib_store_lease6_get(store, s6->sin6_addr.s6_addr, l) < 0 ||
		    l->state != IB_LEASE_ACTIVE || l->expires <= now)
			return;
		if (l->has_mac) {
			who->hw = l->mac;
			who->hw_len = 6;
		}
		who->client_id = l->duid;
		who->client_id_len = l->duid_len;
		return;
	} else {
		return;
	}
	if (ib_store_lease4_get(store, v4, &buf->lease.v4) < 0 ||
	    buf->lease.v4.state != IB_LEASE_ACTIVE || buf->lease.v4.expires <= now)
		return;
	who->hw = buf->lease.v4.hwaddr;
	who->hw_len = buf->lease.v4.hw_len;
	who->client_id = buf->lease.v4.client_id;
	who->client_id_len = buf->lease.v4.client_id_len;
}
