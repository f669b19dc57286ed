/* DHCPv4 journal events: see dhcp4_server_journal.h. */
#include "dhcp4/dhcp4_server_journal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/jsonw.h"
#include "common/util.h"

/*
 * Option 97 (RFC 4578 2.3): type 0 then 16 bytes.  Printed as firmware
 * and dmidecode show it: the first three fields little-endian (SMBIOS 2.6).
 */
static void format_uuid(const uint8_t *u, char *out, size_t outlen)
{
	snprintf(out, outlen,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

void ib_d4_who_from_msg(const struct ib_dhcp4_msg *m, struct ib_d4_who *ret)
{
	const uint8_t *p;
	size_t len;

	memset(ret, 0, sizeof(*ret));
	ret->hw_len = m->hlen;
	memcpy(ret->hw, m->chaddr, m->hlen);
	if (ib_dhcp4_opt(m, IB_OPT_CLIENT_ID, &p, &len) && len <= sizeof(ret->client_id)) {
		memcpy(ret->client_id, p, len);
		ret->client_id_len = (uint8_t)len;
	}
	if (ib_dhcp4_opt(m, IB_OPT_CLIENT_UUID, &p, &len) && len == 17 && p[0] == 0)
		format_uuid(p + 1, ret->uuid, sizeof(ret->uuid));
}

void ib_d4_who_from_lease(const struct ib_lease4 *l, struct ib_d4_who *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->hw_len = l->hw_len;
	memcpy(ret->hw, l->hwaddr, l->hw_len);
	ret->client_id_len = l->client_id_len;
	memcpy(ret->client_id, l->client_id, l->client_id_len);
}

/* Starts an event about w through gate g (NULL: none); the caller writes
 * its detail with jw.  false: the gate thinned it out, write nothing. */
static bool begin(struct ib_journal *j, const struct ib_d4_who *w, const char *kind,
		  const struct ib_journal_gate *g, struct ib_jw *jw)
{
	struct ib_journal_who jwho = {
		.hw = w->hw, .hw_len = w->hw_len,
		.client_id = w->client_id, .client_id_len = w->client_id_len,
		.uuid = w->uuid[0] ? w->uuid : NULL,
	};
	size_t cap;
	char *buf = g ? ib_journal_add_slot_gated(j, &jwho, "dhcp4", kind, g, ib_now_us(), &cap) :
		    ib_journal_add_slot(j, &jwho, "dhcp4", kind, &cap);

	if (!buf)
		return false;
	ib_jw_init(jw, buf, cap);
	return true;
}

/* FNV-1a, for repeat keys (a collision only merges two summaries). */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

void ib_d4_journal_gate(const struct ib_d4_who *who, const struct ib_d4_note *n,
			const struct ib_dhcp4_decision *d, bool known,
			struct ib_journal_gate *ret)
{
	uintptr_t ptrs[3] = { (uintptr_t)d->reason, (uintptr_t)d->boot.file,
			      (uintptr_t)d->boot.why };
	uint64_t h = 0xcbf29ce484222325ull;

	*ret = (struct ib_journal_gate){ 0 };
	ret->limited = !known && d->action != IB_D4_ACK && d->action != IB_D4_RELEASE &&
		       d->action != IB_D4_DECLINE;
	if (n->type != IB_DHCP4_DISCOVER)
		return;
	/* the same client, answered the same way: a repeat */
	h = fnv(h, who->hw, who->hw_len);
	h = fnv(h, who->client_id, who->client_id_len);
	h = fnv(h, &d->action, sizeof(d->action));
	h = fnv(h, &d->address, sizeof(d->address));
	h = fnv(h, ptrs, sizeof(ptrs));
	ret->repeat_key = h ? h : 1;
}

static void copy_opt_str(const struct ib_dhcp4_msg *m, uint8_t code, char *out,
			 size_t outlen)
{
	const uint8_t *p;
	size_t len;

	out[0] = '\0';
	if (ib_dhcp4_opt(m, code, &p, &len))
		ib_str_sanitize(p, len, out, outlen);
}

void ib_d4_note_from_msg(const struct ib_dhcp4_msg *m, const struct sockaddr_in *from,
			 struct ib_d4_note *ret)
{
	ret->type = m->type;
	ret->xid = m->xid;
	ret->src = ntohl(from->sin_addr.s_addr);
	ret->giaddr = m->giaddr;
	ret->ciaddr = m->ciaddr;
	if (ib_dhcp4_opt_ip(m, IB_OPT_REQUESTED_IP, &ret->requested) < 0)
		ret->requested = 0;
	copy_opt_str(m, IB_OPT_VENDOR_CLASS, ret->vendor_class, sizeof(ret->vendor_class));
	copy_opt_str(m, IB_OPT_USER_CLASS, ret->user_class, sizeof(ret->user_class));
	copy_opt_str(m, IB_OPT_HOSTNAME, ret->hostname, sizeof(ret->hostname));
}

static const char *action_str(enum ib_dhcp4_action a)
{
	static const char *const names[] = {
		[IB_D4_DROP] = "ignore", [IB_D4_OFFER] = "offer", [IB_D4_ACK] = "ack",
		[IB_D4_NAK] = "nak", [IB_D4_INFORM] = "inform-ack",
		[IB_D4_RELEASE] = "release", [IB_D4_DECLINE] = "quarantine",
		[IB_D4_PROXY] = "proxy-answer",
	};

	return names[a];
}

static void note_request(struct ib_jw *w, const struct ib_d4_note *n,
			 const struct ib_dhcp4_decision *d)
{
	ib_jw_int(w, "xid", n->xid);
	ib_jw_ip4(w, "src", n->src);
	if (n->giaddr)
		ib_jw_ip4(w, "giaddr", n->giaddr);
	if (n->ciaddr)
		ib_jw_ip4(w, "ciaddr", n->ciaddr);
	if (n->requested)
		ib_jw_ip4(w, "requested", n->requested);
	if (d->boot.arch != 0xffff)
		ib_jw_int(w, "arch", d->boot.arch);
	ib_jw_str_opt(w, "vendor_class", n->vendor_class);
	ib_jw_str_opt(w, "user_class", n->user_class);
	ib_jw_str_opt(w, "hostname", n->hostname);
}

static void note_reply(struct ib_jw *w, const struct ib_dhcp4_decision *d,
		       const struct sockaddr_in *to, uint32_t src, int err)
{
	if (d->action == IB_D4_DROP || d->action == IB_D4_RELEASE ||
	    d->action == IB_D4_DECLINE)
		return;
	ib_jw_ip4(w, "from", src);
	ib_jw_ip4(w, "to", ntohl(to->sin_addr.s_addr));
	ib_jw_int(w, "port", ntohs(to->sin_port));
	/* the boot file or URL handed out (option 67), whole: the header's
	 * file field holds only names that fit its 128 bytes */
	if (d->action != IB_D4_NAK && d->boot.client != IB_BOOT_NONE)
		ib_jw_str_opt(w, "file", d->boot.file);
	/* where the client fetches it: siaddr (the next-server), which PXE
	 * answers repeat as option 66 (dhcp4_reply.c); `ironboot doctor`
	 * checks it is us */
	if (d->action != IB_D4_NAK && d->reply.siaddr)
		ib_jw_ip4(w, "next_server", d->reply.siaddr);
	if (d->action == IB_D4_OFFER)
		ib_jw_str(w, "lease", "advertised");
	else if (d->action == IB_D4_ACK)
		ib_jw_str(w, "lease", "committed");
	if (err < 0)
		ib_jw_str(w, "send_error", strerror(-err));
}

void ib_d4_journal_exchange(struct ib_journal *j, const struct ib_d4_who *who,
			    const struct ib_d4_note *n,
			    const struct ib_dhcp4_decision *d,
			    const struct sockaddr_in *to, uint32_t src, int err,
			    const struct ib_journal_gate *g)
{
	struct ib_jw w;

	if (!begin(j, who, ib_dhcp4_type_str(n->type), g, &w))
		return;
	note_request(&w, n, d);
	ib_jw_str(&w, "decision", action_str(d->action));
	if (d->address && d->action != IB_D4_NAK)
		ib_jw_ip4(&w, "address", d->address);
	ib_jw_str(&w, "reason", d->reason);
	if (d->take != IB_D4_TAKE_NONE)
		ib_jw_str(&w, "took_over", d->take == IB_D4_TAKE_CAP ? "source-share" : "pool-short");
	if (d->superseded)
		ib_jw_str(&w, "superseded", "offer to another client");
	if (d->boot.client != IB_BOOT_NONE) {
		ib_jw_str(&w, "boot", ib_boot_client_str(d->boot.client));
		ib_jw_str(&w, "boot_rule", d->boot.why);
	}
	note_reply(&w, d, to, src, err);
	ib_jw_end(&w);
}

void ib_d4_journal_lease(struct ib_journal *j, const struct ib_d4_who *who,
			 const char *kind, const struct ib_lease4 *l)
{
	struct ib_jw w;

	begin(j, who, kind, NULL, &w);
	ib_jw_ip4(&w, "address", l->address);
	ib_jw_int(&w, "expires", l->expires);
	ib_jw_str_opt(&w, "hostname", l->hostname);
	ib_jw_end(&w);
}

void ib_d4_journal_send_error(struct ib_journal *j, const struct ib_d4_who *who,
			      const struct sockaddr_in *to, int err, bool limited)
{
	struct ib_journal_gate g = { .limited = limited };
	struct ib_jw w;

	if (!begin(j, who, "reply-not-sent", &g, &w))
		return;
	ib_jw_ip4(&w, "to", ntohl(to->sin_addr.s_addr));
	ib_jw_int(&w, "port", ntohs(to->sin_port));
	ib_jw_str(&w, "error", strerror(-err));
	ib_jw_end(&w);
}
