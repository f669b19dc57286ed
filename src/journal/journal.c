/* The journal's queue and its flush to the store: see journal.h. */
#include "journal/journal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct ib_journal {
	struct ib_store *store;			/* not owned */
	const struct ib_journal_config *cfg;	/* retention */
	struct ib_event *queue;			/* ring of IB_JOURNAL_QUEUE */
	size_t head;				/* oldest queued */
	size_t count;				/* queued */
	uint64_t dropped;			/* lost to a full queue */
};

int ib_journal_new(struct ib_store *store, const struct ib_journal_config *cfg,
		   struct ib_journal **ret)
{
	struct ib_journal *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->queue = calloc(IB_JOURNAL_QUEUE, sizeof(*j->queue));
	if (!j->queue) {
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

char *ib_journal_add_slot(struct ib_journal *j, const struct ib_journal_who *who,
			  const char *proto, const char *kind, size_t *ret_cap)
{
	struct ib_event *ev;

	if (j->count == IB_JOURNAL_QUEUE) {
		j->head = (j->head + 1) % IB_JOURNAL_QUEUE;
		j->count--;
		j->dropped++;
	}
	ev = &j->queue[(j->head + j->count) % IB_JOURNAL_QUEUE];
	j->count++;
	ev->id = 0;
	ev->ts_us = ib_now_us();
	ev->mac[0] = ev->client_id[0] = ev->uuid[0] = '\0';
	if (who && who->hw && who->hw_len)
		ib_mac_format(who->hw, who->hw_len, ev->mac, sizeof(ev->mac));
	if (who && who->client_id && who->client_id_len)
		ib_hex_format(who->client_id, who->client_id_len, ev->client_id,
			      sizeof(ev->client_id));
	if (who && who->uuid)
		copy_str(ev->uuid, sizeof(ev->uuid), who->uuid);
	copy_str(ev->proto, sizeof(ev->proto), proto);
	copy_str(ev->kind, sizeof(ev->kind), kind);
	memcpy(ev->detail, "{}", 3);
	*ret_cap = sizeof(ev->detail);
	return ev->detail;
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

int ib_journal_flush(struct ib_journal *j, bool in_tx)
{
	int r;

	if (j->count == 0)
		return 0;
	if (!in_tx && (r = ib_store_begin(j->store)) < 0)
		return r;
	/* the ring's events in at most two runs: head to the end, then from 0 */
	for (size_t done = 0; done < j->count;) {
		size_t at = (j->head + done) % IB_JOURNAL_QUEUE;
		size_t n = IB_MIN(j->count - done, IB_JOURNAL_QUEUE - at);

		r = ib_store_event_append_many(j->store, &j->queue[at], n);
		if (r < 0)
			goto err_append;
		done += n;
	}
	if (!in_tx && (r = ib_store_commit(j->store)) < 0)
		goto err_append;
	j->head = (j->head + j->count) % IB_JOURNAL_QUEUE;
	j->count = 0;
	return 0;

err_append:
	if (!in_tx)
		ib_store_rollback(j->store);
	return r;
}

size_t ib_journal_pending(const struct ib_journal *j)
{
	return j->count;
}

uint64_t ib_journal_dropped(const struct ib_journal *j)
{
	return j->dropped;
}

int ib_journal_prune(struct ib_journal *j, int64_t now_us)
{
	int64_t cutoff = 0;

	if (j->cfg->max_age_days)
		cutoff = now_us - (int64_t)j->cfg->max_age_days * 86400 * 1000000;
	return ib_store_event_prune(j->store, j->cfg->max_events, cutoff);
}

void ib_journal_who_for_peer(struct ib_store *store, const struct sockaddr *sa,
			     struct ib_journal_peer *buf, struct ib_journal_who *who)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
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

		if (ib_store_lease6_get(store, s6->sin6_addr.s6_addr, l) < 0)
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
	if (ib_store_lease4_get(store, v4, &buf->lease.v4) < 0)
		return;
	who->hw = buf->lease.v4.hwaddr;
	who->hw_len = buf->lease.v4.hw_len;
	who->client_id = buf->lease.v4.client_id;
	who->client_id_len = buf->lease.v4.client_id_len;
}
