/* DHCPv6 journal events: see dhcp6_server_journal.h. */
#include "dhcp6/dhcp6_server_journal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/jsonw.h"
#include "common/util.h"

static void journal_who(const struct ib_d6_exchange *x, struct ib_journal_who *who)
{
	memset(who, 0, sizeof(*who));
	if (x->d->has_mac) {
		who->hw = x->d->mac;
		who->hw_len = 6;
	}
	who->client_id = x->msg->client_id.p;
	who->client_id_len = x->msg->client_id.len;
}

static void jw_ip6(struct ib_jw *w, const char *key, const uint8_t a[16])
{
	char t[IB_IP6_STRLEN];

	ib_ip6_format(a, t);
	ib_jw_str(w, key, t);
}

/* What the exchange did to the client's lease, for the journal. */
static const char *lease_outcome(const struct ib_dhcp6_decision *d)
{
	bool any = false;

	for (size_t i = 0; i < d->n_ia; i++)
		any |= d->ia[i].has_addr;
	switch (d->action) {
	case IB_D6_ADVERTISE: return any ? "advertised" : "none";
	case IB_D6_COMMIT: return any ? "committed" : "none";
	case IB_D6_RELEASE: return any ? "released" : "none";
	case IB_D6_DECLINE: return any ? "declined" : "none";
	default: return NULL;
	}
}

/* FNV-1a, for repeat keys (a collision only merges two summaries). */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* Whether the inventory lists the machine's MAC (a known machine). */
static bool in_inventory(const struct ib_config *cfg, const struct ib_dhcp6_decision *d)
{
	for (size_t i = 0; d->has_mac && i < cfg->n_machines; i++)
		if (cfg->machines[i].has_mac && memcmp(cfg->machines[i].mac, d->mac, 6) == 0)
			return true;
	return false;
}

void ib_d6_journal_gate(const struct ib_config *cfg, const struct ib_dhcp6_msg *m,
			const struct ib_dhcp6_decision *d, struct ib_journal_gate *ret)
{
	struct ib_journal_gate *g = ret;
	uint64_t h = 0xcbf29ce484222325ull;
	uintptr_t why = (uintptr_t)d->reason;

	*g = (struct ib_journal_gate){ 0 };
	g->limited = d->action != IB_D6_COMMIT && d->action != IB_D6_RELEASE &&
		     d->action != IB_D6_DECLINE && !d->resv && !in_inventory(cfg, d);
	if (m->msg_type != IB_DHCP6_SOLICIT)
		return;
	/* the same client, answered the same way: a repeat */
	h = fnv(h, m->client_id.p, m->client_id.len);
	h = fnv(h, &d->action, sizeof(d->action));
	h = fnv(h, &why, sizeof(why));
	for (size_t i = 0; i < d->n_ia; i++)
		h = fnv(h, d->ia[i].addr, d->ia[i].has_addr ? 16 : 0);
	h = fnv(h, d->boot.url, strnlen(d->boot.url, sizeof(d->boot.url)));
	g->repeat_key = h ? h : 1;
}

void ib_d6_journal_exchange(struct ib_journal *j, const struct ib_d6_exchange *x,
			    const struct ib_journal_gate *g, int err)
{
	const struct ib_dhcp6_decision *d = x->d;
	const struct ib_dhcp6_msg *m = x->msg;
	char vc[64] = "", *buf;
	struct ib_journal_who who;
	struct ib_jw w;
	const char *lease;
	size_t cap;

	journal_who(x, &who);
	buf = ib_journal_add_slot_gated(j, &who, "dhcp6", ib_dhcp6_type_str(m->msg_type), g,
					ib_now_us(), &cap);
	if (!buf)
		return;		/* a repeat, or over the rate limit: counted */
	ib_jw_init(&w, buf, cap);
	ib_jw_int(&w, "xid", m->xid);
	jw_ip6(&w, "src", x->from->sin6_addr.s6_addr);
	ib_jw_str(&w, "interface", x->ifname);
	if (m->n_relays)
		ib_jw_int(&w, "relays", (int64_t)m->n_relays);
	/* RFC 8415 13.1: the innermost non-zero link-address names the
	 * client's link (the doctor's relay-no-subnet reads it) */
	for (size_t i = m->n_relays; i-- > 0;) {
		static const uint8_t zero[16];

		if (memcmp(m->relays[i].link_address, zero, 16) != 0) {
			jw_ip6(&w, "link", m->relays[i].link_address);
			break;
		}
	}
	if (d->has_mac)
		ib_jw_str(&w, "mac_from", d->mac_from);
	if (m->n_arch)
		ib_jw_int(&w, "arch", m->arch[0]);
	if (m->user_class_ipxe)
		ib_jw_str(&w, "user_class", "iPXE");
	if (m->n_vendor_class) {
		struct ib_dhcp6_blob items[4];
		size_t n = 0;
		int r = ib_dhcp6_items(m->vendor_class[0].data, items, 4, &n);

		/* RFC 8415 21.16: the first length-prefixed item, e.g. "PXEClient:Arch:00007" */
		if ((r == 0 && n) || r == -ENOBUFS) {
			ib_str_sanitize(items[0].p, items[0].len, vc, sizeof(vc));
			ib_jw_str(&w, "vendor_class", vc);
		}
	}
	ib_jw_str(&w, "decision", d->action == IB_D6_DROP ? "drop" :
		  d->action == IB_D6_ADVERTISE ? "advertise" : "reply");
	ib_jw_str(&w, "reason", d->reason);
	for (size_t i = 0; i < d->n_ia; i++) {
		if (d->ia[i].has_addr) {
			jw_ip6(&w, "address", d->ia[i].addr);
			if (d->ia[i].take != IB_D6_TAKE_NONE)
				ib_jw_str(&w, "took_over", d->ia[i].take == IB_D6_TAKE_CAP ?
					  "source-share" : "pool-short");
			break;
		}
	}
	if (d->has_status)
		ib_jw_str(&w, "status", ib_dhcp6_status_str(d->status));
	else if (d->n_ia && d->ia[0].has_status)
		ib_jw_str(&w, "status", ib_dhcp6_status_str(d->ia[0].status));
	if (d->boot.client != IB_BOOT6_NONE) {
		ib_jw_str(&w, "boot", ib_boot6_client_str(d->boot.client));
		ib_jw_str(&w, "file", d->boot.url);
		ib_jw_str(&w, "boot_rule", d->boot.why);
		/* the count only: up to 1 KB of them would not fit the event;
		 * `ironboot explain` shows them */
		if (d->boot.n_params)
			ib_jw_int(&w, "bootfile_params", (int64_t)d->boot.n_params);
	}
	/* what happened: an ADVERTISE of no address is no lease advertised */
	if ((lease = lease_outcome(d)))
		ib_jw_str(&w, "lease", lease);
	if (err < 0)
		ib_jw_str(&w, "send_error", strerror(-err));
	ib_jw_end(&w);
}

void ib_d6_journal_not_sent(struct ib_journal *j, const struct ib_journal_who *who,
			    uint8_t type, const char *to, uint16_t port, int err, bool limited)
{
	const struct ib_journal_gate g = { .limited = limited };
	struct ib_jw w;
	size_t cap;
	char *buf = ib_journal_add_slot_gated(j, who, "dhcp6", "reply-not-sent", &g, ib_now_us(),
					      &cap);

	if (!buf)
		return;
	ib_jw_init(&w, buf, cap);
	ib_jw_str(&w, "request", ib_dhcp6_type_str(type));
	ib_jw_str(&w, "to", to);
	ib_jw_int(&w, "port", port);
	ib_jw_str(&w, "error", strerror(-err));
	ib_jw_end(&w);
}

void ib_d6_journal_lease(struct ib_journal *j, const struct ib_lease6 *l, const char *event)
{
	struct ib_journal_who who = { .client_id = l->duid, .client_id_len = l->duid_len };
	char addr[INET6_ADDRSTRLEN];

	if (l->has_mac) {
		who.hw = l->mac;
		who.hw_len = 6;
	}
	inet_ntop(AF_INET6, l->address, addr, sizeof(addr));
	ib_journal_add(j, &who, "dhcp6", event, json_pack("{s:s}", "address", addr));
}
