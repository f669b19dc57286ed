/*
 * libFuzzer target for the DHCPv6 codec.
 *
 * Parses the input; a rejected datagram must carry a known reason.  An
 * accepted one must have every blob inside the input; its innermost
 * message is rebuilt from the parsed fields and parsed again, which must
 * give back the same values; the rebuilt message is then wrapped as a
 * RELAY-REPL back through the parsed relay chain (and as a RELAY-FORW),
 * and parsing that must give the same chain, with Interface-Id echoed.
 * The DUID and EUI-64 helpers run over the parsed ids and addresses.
 * Any broken property aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp6/dhcp6_codec.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define ITEMS_MAX (IB_DHCP6_MAX_LEN / 2)
#define TEXT_MAX (IB_DHCP6_MAX_LEN * 2)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input being checked, for blob bounds. */
struct input {
	const uint8_t *p;	/* fuzzer's bytes */
	size_t len;		/* their count */
};

static void check_blob(const struct input *in, struct ib_dhcp6_blob b)
{
	if (!b.p)
		return;
	CHECK(b.p >= in->p && b.len <= in->len && b.p + b.len <= in->p + in->len);
}

static void check_blobs(const struct input *in, const struct ib_dhcp6_msg *m)
{
	uint8_t mac[6];
	uint16_t type;

	check_blob(in, m->inner);
	check_blob(in, m->client_id);
	check_blob(in, m->server_id);
	check_blob(in, m->user_class);
	check_blob(in, m->domain_list);
	check_blob(in, m->bootfile_url);
	check_blob(in, m->bootfile_param);
	check_blob(in, m->status.msg);
	for (size_t i = 0; i < m->n_relays; i++) {
		check_blob(in, m->relays[i].interface_id);
		check_blob(in, m->relays[i].remote_id);
		check_blob(in, m->relays[i].lladdr);
		(void)ib_dhcp6_eui64_mac(m->relays[i].peer_address, mac);
	}
	for (size_t i = 0; i < m->n_vendor_class; i++)
		check_blob(in, m->vendor_class[i].data);
	for (size_t i = 0; i < m->n_vendor_opts; i++)
		check_blob(in, m->vendor_opts[i]);
	if (m->client_id.p) {
		int r = ib_dhcp6_duid_classify(m->client_id.p, m->client_id.len, &type);

		CHECK(r == 0 || r == -EBADMSG);
	}
	if (m->client_id.p && ib_dhcp6_duid_mac(m->client_id.p, m->client_id.len, mac) == 0) {
		CHECK(ib_dhcp6_duid_classify(m->client_id.p, m->client_id.len, &type) == 0);
		CHECK(type == IB_DUID_LLT || type == IB_DUID_LL);
	}
}

/* Splits items into a static array; n is 0 for an absent list. */
static void split_items(struct ib_dhcp6_blob wire, struct ib_dhcp6_blob *out, size_t *n)
{
	*n = 0;
	if (wire.p)
		CHECK(ib_dhcp6_items(wire, out, ITEMS_MAX, n) == 0);
}

/* The decoded domain names as pointers into text; false if not decodable. */
static bool split_domains(const struct ib_dhcp6_msg *m, char *text, const char **names,
			  size_t *n)
{
	char *s, *save = NULL;

	*n = 0;
	if (!m->domain_list.p || m->domain_list.len == 0)
		return true;
	if (ib_dhcp6_domains_decode(m->domain_list.p, m->domain_list.len, text, TEXT_MAX) < 0)
		return false;
	for (s = strtok_r(text, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
		if (*n >= IB_DHCP6_MAX_NAMES)
			return false;
		names[(*n)++] = s;
	}
	return true;
}

/* Storage the out points into while it is built. */
struct scratch {
	struct ib_dhcp6_blob uc[ITEMS_MAX];	/* user class items */
	struct ib_dhcp6_blob vc[ITEMS_MAX];	/* vendor class items */
	struct ib_dhcp6_blob bp[ITEMS_MAX];	/* bootfile parameters */
	char text[TEXT_MAX];			/* decoded domain names */
	const char *names[IB_DHCP6_MAX_NAMES];	/* pointers into text */
};

/* An out carrying every field of m the builder can write. */
static bool make_out(const struct ib_dhcp6_msg *m, struct scratch *s, struct ib_dhcp6_out *o)
{
	memset(o, 0, sizeof(*o));
	o->msg_type = m->msg_type;
	o->xid = m->xid;
	o->server_id = m->server_id;
	o->client_id = m->client_id;
	o->status = m->status;
	o->has_preference = m->has_preference;
	o->preference = m->preference;
	o->rapid_commit = m->rapid_commit;
	o->reconf_accept = m->reconf_accept;
	o->has_elapsed = m->has_elapsed;
	o->elapsed = m->elapsed;
	o->has_oro = m->has_oro;
	o->oro = m->oro;
	o->n_oro = m->n_oro;
	o->ia_na = m->ia_na;
	o->n_ia_na = m->n_ia_na;
	o->dns = m->dns;
	o->n_dns = m->n_dns;
	o->ntp = m->ntp;
	o->n_ntp = m->n_ntp;
	o->bootfile_url = m->bootfile_url;
	split_items(m->bootfile_param, s->bp, &o->n_bootfile_param);
	o->bootfile_param = s->bp;
	split_items(m->user_class, s->uc, &o->n_user_class);
	o->user_class = s->uc;
	if (m->n_vendor_class) {
		o->has_vendor_class = true;
		o->vendor_class_enterprise = m->vendor_class[0].enterprise;
		split_items(m->vendor_class[0].data, s->vc, &o->n_vendor_class);
		o->vendor_class = s->vc;
	}
	o->arch = m->arch;
	o->n_arch = m->n_arch;
	o->has_nii = m->has_nii;
	o->nii = m->nii;
	o->domains = s->names;
	return split_domains(m, s->text, s->names, &o->n_domains);
}

static bool same_blob(struct ib_dhcp6_blob a, struct ib_dhcp6_blob b)
{
	if (!a.p || !b.p)
		return !a.p && !b.p;
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static bool same_status(const struct ib_dhcp6_status *a, const struct ib_dhcp6_status *b)
{
	if (a->present != b->present)
		return false;
	return !a->present || (a->code == b->code && a->msg.len == b->msg.len &&
			       (a->msg.len == 0 || memcmp(a->msg.p, b->msg.p, a->msg.len) == 0));
}

static void check_ia(const struct ib_dhcp6_ia_na *a, const struct ib_dhcp6_ia_na *b)
{
	CHECK(a->iaid == b->iaid && a->t1 == b->t1 && a->t2 == b->t2);
	CHECK(a->n_addrs == b->n_addrs && same_status(&a->status, &b->status));
	for (size_t i = 0; i < a->n_addrs; i++) {
		CHECK(memcmp(a->addrs[i].addr, b->addrs[i].addr, 16) == 0);
		CHECK(a->addrs[i].preferred == b->addrs[i].preferred);
		CHECK(a->addrs[i].valid == b->addrs[i].valid);
		CHECK(same_status(&a->addrs[i].status, &b->addrs[i].status));
	}
}

/* Items lists come back byte for byte, or absent when they were empty. */
static void check_items(struct ib_dhcp6_blob a, size_t na, struct ib_dhcp6_blob b)
{
	if (na == 0)
		CHECK(!b.p);
	else
		CHECK(same_blob(a, b));
}

static void check_same(const struct ib_dhcp6_msg *a, const struct ib_dhcp6_msg *b,
		       const struct ib_dhcp6_out *o)
{
	CHECK(b->n_relays == 0 && a->msg_type == b->msg_type && a->xid == b->xid);
	CHECK(same_blob(a->client_id, b->client_id) && same_blob(a->server_id, b->server_id));
	CHECK(a->n_ia_na == b->n_ia_na && b->n_ia_ta == 0);
	for (size_t i = 0; i < a->n_ia_na; i++)
		check_ia(&a->ia_na[i], &b->ia_na[i]);
	CHECK(a->has_oro == b->has_oro && a->n_oro == b->n_oro);
	CHECK(memcmp(a->oro, b->oro, a->n_oro * sizeof(a->oro[0])) == 0);
	CHECK(a->has_preference == b->has_preference && a->preference == b->preference);
	CHECK(a->has_elapsed == b->has_elapsed && a->elapsed == b->elapsed);
	CHECK(same_status(&a->status, &b->status));
	CHECK(a->rapid_commit == b->rapid_commit && a->reconf_accept == b->reconf_accept);
	check_items(a->user_class, a->n_user_class, b->user_class);
	CHECK(a->user_class_ipxe == b->user_class_ipxe || a->n_user_class == 0);
	CHECK(b->n_vendor_class == (a->n_vendor_class ? 1u : 0u) && b->n_vendor_opts == 0);
	if (a->n_vendor_class)
		CHECK(a->vendor_class[0].enterprise == b->vendor_class[0].enterprise &&
		      same_blob(a->vendor_class[0].data, b->vendor_class[0].data));
	CHECK(a->n_dns == b->n_dns && memcmp(a->dns, b->dns, a->n_dns * 16) == 0);
	CHECK(a->n_ntp == b->n_ntp && memcmp(a->ntp, b->ntp, a->n_ntp * 16) == 0);
	if (o->n_domains)
		CHECK(same_blob(a->domain_list, b->domain_list));
	else
		CHECK(!b->domain_list.p);
	CHECK(same_blob(a->bootfile_url, b->bootfile_url));
	check_items(a->bootfile_param, a->n_bootfile_param, b->bootfile_param);
	CHECK(memcmp(a->arch, b->arch, a->n_arch * sizeof(a->arch[0])) == 0);
	CHECK(a->n_arch == b->n_arch && a->has_nii == b->has_nii);
	CHECK(memcmp(&a->nii, &b->nii, sizeof(a->nii)) == 0);
}

/* Wraps inner through m's chain and checks what parses back. */
static void check_wrap(const struct ib_dhcp6_msg *m, uint8_t type,
		       const uint8_t *inner, size_t inner_len)
{
	static uint8_t buf[IB_DHCP6_MAX_LEN];
	static struct ib_dhcp6_msg m3;
	struct ib_dhcp6_wrap w = { type, m->relays, m->n_relays, { inner, inner_len } };
	size_t len;

	CHECK(ib_dhcp6_build_relay(&w, buf, sizeof(buf), &len) == 0);
	CHECK(ib_dhcp6_parse(buf, len, &m3) == 0);
	CHECK(m3.n_relays == m->n_relays && m3.inner.len == inner_len);
	CHECK(memcmp(m3.inner.p, inner, inner_len) == 0);
	for (size_t i = 0; i < m->n_relays; i++) {
		const struct ib_dhcp6_relay *a = &m->relays[i], *b = &m3.relays[i];

		CHECK(b->msg_type == type && a->hop_count == b->hop_count);
		CHECK(memcmp(a->link_address, b->link_address, 16) == 0);
		CHECK(memcmp(a->peer_address, b->peer_address, 16) == 0);
		CHECK(same_blob(a->interface_id, b->interface_id));
		if (type == IB_DHCP6_RELAY_REPL) {
			CHECK(!b->remote_id.p && !b->lladdr.p);
		} else {
			CHECK(same_blob(a->remote_id, b->remote_id) && same_blob(a->lladdr, b->lladdr));
			CHECK(!a->lladdr.p || a->lladdr_type == b->lladdr_type);
		}
	}
}

static void check_round_trip(const struct ib_dhcp6_msg *m)
{
	static struct scratch s;
	static struct ib_dhcp6_out o;
	static struct ib_dhcp6_msg m2;
	static uint8_t buf[IB_DHCP6_MAX_LEN];
	size_t len;

	if (!make_out(m, &s, &o))
		o.n_domains = 0;	/* names the decoder refuses: left out */
	CHECK(ib_dhcp6_build(&o, buf, sizeof(buf), &len) == 0);
	CHECK(len <= m->inner.len);
	CHECK(ib_dhcp6_parse(buf, len, &m2) == 0);
	check_same(m, &m2, &o);
	/* One byte short of room: the builder says so instead of cutting. */
	CHECK(ib_dhcp6_build(&o, buf, len - 1, &len) == -ENOBUFS);
	CHECK(ib_dhcp6_build(&o, buf, sizeof(buf), &len) == 0);
	if (m->n_relays) {
		check_wrap(m, IB_DHCP6_RELAY_REPL, buf, len);
		check_wrap(m, IB_DHCP6_RELAY_FORW, buf, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ib_dhcp6_msg m;
	struct input in = { data, size };
	struct ib_dhcp6_blob b;

	if (ib_dhcp6_parse(data, size, &m) < 0) {
		CHECK(m.reject > IB_DHCP6_OK && m.reject < IB_DHCP6_REJ__MAX);
		CHECK(ib_dhcp6_reject_str(m.reject) != NULL);
		return 0;
	}
	CHECK(m.reject == IB_DHCP6_OK && m.n_relays <= IB_DHCP6_MAX_RELAYS);
	CHECK(m.msg_type >= IB_DHCP6_SOLICIT && m.msg_type <= IB_DHCP6_INFORMATION_REQUEST);
	check_blobs(&in, &m);
	if (ib_dhcp6_find_opt(&m, IB_OPT6_CLIENTID, &b) == 0)
		CHECK(same_blob(b, m.client_id));
	else
		CHECK(!m.client_id.p);
	check_round_trip(&m);
	return 0;
}
