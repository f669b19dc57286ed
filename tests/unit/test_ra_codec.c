/*
 * Router Advertisement codec: round trip of what ironboot sends (each
 * combination of the M and O flags), the Router Solicitation check on
 * good and broken inputs and the solicitation we send.  Then the RA
 * server's decisions (issue #11): which links, what an RA says there, and
 * when a link listens, advertises or stays quiet, as tables of events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dhcp6/ra_codec.h"

/*
 * Every combination of the Managed and Other flags (RFC 4861 4.2): the
 * configured values reach the wire as bits 0x80 and 0x40 of byte 5 and
 * parse back, so `managed: false` and `other: false` are checked too.
 */
static const struct mo_case {
	bool managed;		/* M as configured */
	bool other;		/* O as configured */
	uint8_t wire;		/* byte 5 as sent */
} mo_cases[] = {
	{ false, false, 0x00 },
	{ false, true, 0x40 },
	{ true, false, 0x80 },
	{ true, true, 0xc0 },
};

/* The RA of the round-trip test with the given flags. */
static struct ib_ra mk_ra(bool managed, bool other)
{
	struct ib_ra ra = { .hop_limit = 64, .managed = managed, .other = other,
			    .router_lifetime = 0, .has_lladdr = true,
			    .lladdr = { 0x52, 0x54, 0, 0, 0, 1 }, .n_prefixes = 2 };

	ra.prefixes[0] = (struct ib_ra_prefix){ .len = 64, .on_link = true, .valid = 3600,
						.preferred = 1800 };
	inet_pton(AF_INET6, "fd00:b007::", ra.prefixes[0].prefix);
	inet_pton(AF_INET6, "fd00:b007:1::", ra.prefixes[1].prefix);
	ra.prefixes[1].len = 64;
	return ra;
}

static void test_flags_round_trip(void **state)
{
	for (size_t i = 0; i < sizeof(mo_cases) / sizeof(mo_cases[0]); i++) {
		const struct mo_case *tc = &mo_cases[i];
		struct ib_ra ra = mk_ra(tc->managed, tc->other), back;
		uint8_t buf[IB_RA_MAX_LEN];
		size_t len;

		assert_int_equal(ib_ra_build(&ra, buf, sizeof(buf), &len), 0);
		assert_int_equal(buf[5], tc->wire);
		assert_int_equal(ib_ra_parse(buf, len, &back), 0);
		assert_int_equal(back.managed, tc->managed);
		assert_int_equal(back.other, tc->other);
		/* the reserved bits stay zero whatever the flags */
		assert_int_equal(buf[5] & 0x3f, 0);
	}
}

static void test_round_trip(void **state)
{
	struct ib_ra ra = mk_ra(true, true);
	uint8_t buf[IB_RA_MAX_LEN];
	struct ib_ra back;
	size_t len;

	assert_int_equal(ib_ra_build(&ra, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 16 + 8 + 2 * 32);
	assert_int_equal(buf[0], IB_ICMP6_RA);
	assert_int_equal(buf[16 + 8 + 3], 0x80);	/* L, not A */
	assert_int_equal(ib_ra_parse(buf, len, &back), 0);
	assert_true(back.has_lladdr);
	assert_int_equal(back.n_prefixes, 2);
	assert_memory_equal(&back.prefixes[0], &ra.prefixes[0], sizeof(ra.prefixes[0]));
	for (size_t cut = 0; cut < len; cut++) {
		struct ib_ra part;
		int r = ib_ra_parse(buf, cut, &part);

		/* a cut between options still parses; anything else is refused */
		assert_true(r == 0 ? cut >= 16 && (cut - 16) % 8 == 0 : r < 0);
	}
	assert_int_equal(ib_ra_build(&ra, buf, len - 1, &len), -ENOBUFS);
}

static void test_rs(void **state)
{
	static const uint8_t ok[] = { 133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x52, 0x54, 0, 0, 0, 1 };
	static const uint8_t zero_len[] = { 133, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t past_end[] = { 133, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0 };
	static const uint8_t code1[] = { 133, 1, 0, 0, 0, 0, 0, 0 };

	assert_true(ib_rs_valid(ok, sizeof(ok)));
	assert_true(ib_rs_valid(ok, 8));
	assert_false(ib_rs_valid(ok, 7));
	assert_false(ib_rs_valid(zero_len, sizeof(zero_len)));
	assert_false(ib_rs_valid(past_end, sizeof(past_end)));
	assert_false(ib_rs_valid(code1, sizeof(code1)));
}

/* The solicitation auto mode sends: parses as one, with our MAC or without. */
static void test_rs_build(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	static const uint8_t want[] = { 133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x52, 0x54, 0, 0, 0, 1 };
	uint8_t buf[16];
	size_t len;

	assert_int_equal(ib_rs_build(mac, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_true(ib_rs_valid(buf, len));
	assert_int_equal(ib_rs_build(NULL, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 8);
	assert_true(ib_rs_valid(buf, len));
	assert_int_equal(ib_rs_build(mac, buf, 15, &len), -ENOBUFS);
}

/* ---- the links: a config built by hand (the codec library has no loader) ---- */

struct lab_cfg {
	struct ib_config cfg;		/* what the functions read */
	char *if4[2];			/* dhcp4.interfaces */
	char *if6[2];			/* dhcp6.interfaces */
	char *ra_if[2];			/* router_advertisements.interfaces */
	struct ib_subnet6 sn6[2];	/* dhcp6.subnets */
};

/* One case: the config as a few words, and what comes out. */
static const struct links_case {
	const char *name;		/* what it shows */
	enum ib_ra_mode mode;		/* router_advertisements.enabled */
	const char *ra_if;		/* its interfaces: one name or NULL */
	bool d4;			/* dhcp4.enabled */
	const char *d4_if;		/* dhcp4.interfaces: one name or NULL (all) */
	bool d6;			/* dhcp6.enabled */
	const char *d6_if;		/* dhcp6.interfaces: one name or NULL (all) */
	const char *sn_if[2];		/* interfaces of two dhcp6 subnets (NULL: relayed) */
	const char *want;		/* ib_ra_links(), names joined by ',' */
	bool all4;			/* and *ret_all4 */
	const char *boot;		/* ib_ra_boot_links() */
} links_cases[] = {
	{ "dhcp4 only, auto", IB_RA_AUTO, NULL, true, "srv0", false, NULL, { NULL, NULL },
	  "srv0", false, "srv0" },
	{ "dhcp4 on every interface", IB_RA_AUTO, NULL, true, NULL, false, NULL, { NULL, NULL },
	  "", true, "" },
	{ "dhcp4 and dhcp6 on one link, once", IB_RA_AUTO, NULL, true, "srv0", true, "srv0",
	  { "srv0", NULL }, "srv0", false, "srv0" },
	{ "dhcp6 adds its links, not relayed subnets", IB_RA_AUTO, NULL, true, "srv0", true, NULL,
	  { "srv1", NULL }, "srv0,srv1", false, "srv0,srv1" },
	{ "a dhcp6 subnet outside dhcp6.interfaces", IB_RA_AUTO, NULL, false, NULL, true, "srv0",
	  { "srv0", "srv1" }, "srv0", false, "srv0" },
	{ "dhcp6 disabled serves no link", IB_RA_AUTO, NULL, false, NULL, false, NULL,
	  { "srv0", NULL }, "", false, "" },
	{ "auto with interfaces: those", IB_RA_AUTO, "srv9", true, "srv0", false, NULL,
	  { NULL, NULL }, "srv9", false, "srv0" },
	{ "true: the listed interfaces", IB_RA_ON, "srv9", true, NULL, false, NULL, { NULL, NULL },
	  "srv9", false, "" },
	{ "false: none, boot links all the same", IB_RA_OFF, "srv9", true, "srv0", false, NULL,
	  { NULL, NULL }, "", false, "srv0" },
};

static void build_cfg(struct lab_cfg *l, const struct links_case *tc)
{
	memset(l, 0, sizeof(*l));
	l->cfg.dhcp6.ra = (struct ib_ra_config){ .mode = tc->mode, .interval = 30,
						 .router_lifetime = 1800, .managed = true,
						 .other = true };
	l->cfg.dhcp4.enabled = tc->d4;
	l->cfg.dhcp6.enabled = tc->d6;
	l->if4[0] = (char *)tc->d4_if;
	l->if6[0] = (char *)tc->d6_if;
	l->ra_if[0] = (char *)tc->ra_if;
	l->cfg.dhcp4.interfaces = l->if4;
	l->cfg.dhcp4.n_interfaces = tc->d4_if != NULL;
	l->cfg.dhcp6.interfaces = l->if6;
	l->cfg.dhcp6.n_interfaces = tc->d6_if != NULL;
	l->cfg.dhcp6.ra.interfaces = l->ra_if;
	l->cfg.dhcp6.ra.n_interfaces = tc->ra_if != NULL;
	for (size_t i = 0; i < 2; i++) {
		l->sn6[i] = (struct ib_subnet6){ .prefix_len = 64, .interface = (char *)tc->sn_if[i],
						 .valid_lifetime = 3600,
						 .preferred_lifetime = 1800 };
		inet_pton(AF_INET6, i ? "fd00:b007:1::" : "fd00:b007::", l->sn6[i].prefix);
	}
	l->cfg.dhcp6.subnets = l->sn6;
	l->cfg.dhcp6.n_subnets = tc->sn_if[0] ? (tc->sn_if[1] ? 2 : 1) : 0;
}

static void join(const char **names, size_t n, char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "", names[i]);
}

static void test_links(void **state)
{
	for (size_t i = 0; i < sizeof(links_cases) / sizeof(links_cases[0]); i++) {
		const struct links_case *tc = &links_cases[i];
		const char *names[IB_RA_MAX_LINKS];
		char got[128];
		struct lab_cfg l;
		bool all4 = !tc->all4;
		size_t n;

		build_cfg(&l, tc);
		n = ib_ra_links(&l.cfg, names, IB_RA_MAX_LINKS, &all4);
		join(names, n, got, sizeof(got));
		if (strcmp(got, tc->want) != 0 || all4 != tc->all4)
			fail_msg("%s: links \"%s\" all4 %d, want \"%s\" %d", tc->name, got, all4,
				 tc->want, tc->all4);
		n = ib_ra_boot_links(&l.cfg, names, IB_RA_MAX_LINKS, &all4);
		join(names, n, got, sizeof(got));
		if (strcmp(got, tc->boot) != 0)
			fail_msg("%s: boot links \"%s\", want \"%s\"", tc->name, got, tc->boot);
	}
}

/* ---- what an RA says on a link ---- */

static const struct layout_case {
	const char *name;		/* what it shows */
	size_t links_case;		/* the config: links_cases[i] */
	const char *link;		/* the link */
	bool managed, other;		/* configured M and O */
	uint8_t hop_limit;		/* expected: Cur Hop Limit */
	uint16_t lifetime;		/* router lifetime */
	bool m, o;			/* flags */
	size_t n_prefixes;		/* prefixes (on-link, never A) */
} layout_cases[] = {
	/* only DHCPv4 serves srv0: nothing but "there is no router here" */
	{ "auto, DHCPv4 only", 0, "srv0", true, true, 0, 0, false, false, 0 },
	/* DHCPv6 serves srv0: the configured flags and its prefix, lifetime 0 */
	{ "auto, DHCPv6 too", 2, "srv0", true, true, 0, 0, true, true, 1 },
	{ "auto, DHCPv6, M off", 2, "srv0", false, true, 0, 0, false, true, 1 },
	{ "auto, DHCPv6 elsewhere", 3, "srv0", true, true, 0, 0, false, false, 0 },
	{ "auto, the DHCPv6 link", 3, "srv1", true, true, 0, 0, true, true, 1 },
	/* true: as configured, lifetime included, wherever it is sent */
	{ "true", 7, "srv9", true, false, 64, 1800, true, false, 0 },
};

static void test_layout(void **state)
{
	for (size_t i = 0; i < sizeof(layout_cases) / sizeof(layout_cases[0]); i++) {
		const struct layout_case *tc = &layout_cases[i];
		struct lab_cfg l;
		struct ib_ra ra;

		build_cfg(&l, &links_cases[tc->links_case]);
		l.cfg.dhcp6.ra.managed = tc->managed;
		l.cfg.dhcp6.ra.other = tc->other;
		ib_ra_layout(&l.cfg, tc->link, &ra);
		if (ra.hop_limit != tc->hop_limit || ra.router_lifetime != tc->lifetime ||
		    ra.managed != tc->m || ra.other != tc->o || ra.n_prefixes != tc->n_prefixes)
			fail_msg("%s: hop %u lifetime %u M=%d O=%d prefixes %zu", tc->name,
				 ra.hop_limit, ra.router_lifetime, ra.managed, ra.other,
				 ra.n_prefixes);
		for (size_t k = 0; k < ra.n_prefixes; k++) {
			assert_true(ra.prefixes[k].on_link);
			assert_false(ra.prefixes[k].autonomous);
			assert_int_equal(ra.prefixes[k].len, 64);
		}
		assert_false(ra.has_lladdr);	/* the shell's */
	}
}

/* ---- when a link advertises: a table of events per scenario ---- */

enum op {
	START_AUTO,			/* ib_ra_link_start(auto) -> action */
	START_ON,			/* ib_ra_link_start(true) -> action */
	TICK,				/* ib_ra_link_tick() -> action (SENT follows a SEND_RA) */
	SENT,				/* ib_ra_link_sent() */
	SOLICIT,			/* ib_ra_link_solicited(arg = delay ms) */
	HEARD,				/* ib_ra_link_heard(from fe80::<arg>) -> verdict */
	END,
};

/* Who is heard: a router (lifetime 1800), an advertiser that is not one
 * (lifetime 0, as ironboot in auto mode), one with a SLAAC prefix. */
enum who { NOBODY, ROUTER, PEER, PEER_SLAAC, PEER_UNKNOWN_OURS };

struct step {
	enum op op;			/* what happens */
	int64_t t;			/* when, ms */
	uint32_t arg;			/* SOLICIT: delay; HEARD: last byte of fe80:: */
	enum who who;			/* HEARD: what it is */
	int want;			/* action or verdict; -1: none to check */
	enum ib_ra_phase phase;		/* the phase after */
	int64_t next;			/* ib_ra_link_next() after; -1: not checked */
};

#define OURS 0x10			/* our link-local: fe80::10 */
#define L IB_RA_LISTEN_MS
#define P IB_RA_PROBE_MS

static const struct step s_quiet_lab[] = {
	/* nobody else: listen 4 s, then advertise; the first 3 at most 16 s apart */
	{ START_AUTO, 0, 0, NOBODY, IB_RA_SEND_RS, IB_RA_LISTEN, L },
	{ TICK, L - 1, 0, NOBODY, IB_RA_NONE, IB_RA_LISTEN, L },
	{ SOLICIT, L - 1, 0, NOBODY, -1, IB_RA_LISTEN, L },	/* answered by the first RA */
	{ TICK, L, 0, NOBODY, IB_RA_SEND_RA, IB_RA_ADVERTISE, L },
	{ SENT, L, 0, NOBODY, -1, IB_RA_ADVERTISE, L + 16000 },
	{ TICK, L + 15999, 0, NOBODY, IB_RA_NONE, IB_RA_ADVERTISE, L + 16000 },
	{ TICK, L + 16000, 0, NOBODY, IB_RA_SEND_RA, IB_RA_ADVERTISE, -1 },
	{ SENT, L + 16000, 0, NOBODY, -1, IB_RA_ADVERTISE, L + 32000 },
	{ TICK, L + 32000, 0, NOBODY, IB_RA_SEND_RA, IB_RA_ADVERTISE, -1 },
	{ SENT, L + 32000, 0, NOBODY, -1, IB_RA_ADVERTISE, L + 62000 },	/* interval 30 s */
	/* RFC 4861 6.2.6: a solicitation 1 s after an RA waits for 3 s after it */
	{ SOLICIT, L + 33000, 100, NOBODY, -1, IB_RA_ADVERTISE, L + 35000 },
	{ TICK, L + 35000, 0, NOBODY, IB_RA_SEND_RA, IB_RA_ADVERTISE, -1 },
	{ SENT, L + 35000, 0, NOBODY, -1, IB_RA_ADVERTISE, L + 65000 },
	/* later, after the random delay (at most 500 ms) */
	{ SOLICIT, L + 45000, 900, NOBODY, -1, IB_RA_ADVERTISE, L + 45500 },
	{ SOLICIT, L + 45100, 10, NOBODY, -1, IB_RA_ADVERTISE, L + 45110 },
	{ .op = END },
};

static const struct step s_router_first[] = {
	/* a router answers our solicitation: never advertise */
	{ START_AUTO, 0, 0, NOBODY, IB_RA_SEND_RS, IB_RA_LISTEN, L },
	{ HEARD, 300, 1, ROUTER, IB_RA_NOW_QUIET, IB_RA_QUIET, 300 + P },
	{ TICK, L, 0, NOBODY, IB_RA_NONE, IB_RA_QUIET, 300 + P },
	{ SOLICIT, L, 0, NOBODY, -1, IB_RA_QUIET, 300 + P },	/* the router answers */
	/* its periodic RAs put the next probe off */
	{ HEARD, 200000, 1, ROUTER, IB_RA_STILL_QUIET, IB_RA_QUIET, 200000 + P },
	{ TICK, 300 + P, 0, NOBODY, IB_RA_NONE, IB_RA_QUIET, 200000 + P },
	/* silent for 5 min: probe; it answers: quiet, not a new episode */
	{ TICK, 200000 + P, 0, NOBODY, IB_RA_SEND_RS, IB_RA_LISTEN, 200000 + P + L },
	{ HEARD, 200000 + P + 100, 1, ROUTER, IB_RA_STILL_QUIET, IB_RA_QUIET, 200100 + 2 * P },
	/* probe again; nobody answers: advertise */
	{ TICK, 200100 + 2 * P, 0, NOBODY, IB_RA_SEND_RS, IB_RA_LISTEN, 200100 + 2 * P + L },
	{ TICK, 200100 + 2 * P + L, 0, NOBODY, IB_RA_SEND_RA, IB_RA_ADVERTISE, -1 },
	{ .op = END },
};

static const struct step s_router_later[] = {
	/* advertising, then a router appears: quiet at once */
	{ START_AUTO, 0, 0, NOBODY, IB_RA_SEND_RS, IB_RA_LISTEN, L },
	{ TICK, L, 0, NOBODY, IB_RA_SEND_RA, IB_RA_ADVERTISE, -1 },
	{ SENT, L, 0, NOBODY, -1, IB_RA_ADVERTISE, L + 16000 },
	{ HEARD, 9000, 7, ROUTER, IB_RA_NOW_QUIET, IB_RA_QUIET, 9000 + P },
	{ TICK, L + 16000, 0, NOBODY, IB_RA_NONE, IB_RA_QUIET, 9000 + P },
	{ SOLICIT, 10000, 0, NOBODY, -1, IB_RA_QUIET, 9000 + P },
	{ HEARD, 12000, 7, ROUTER, IB_RA_STILL_QUIET, IB_RA_QUIET, 12000 + P },
	{ .op = END },
};

static const struct step s_peers[] = {
	/* two daemons that started together: the lower link-local address stays */
	{ START_AUTO, 0, 0, NOBODY, IB_RA_SEND_RS, IB_RA_LISTEN, L },
	{ TICK, L, 0, NOBODY, IB_RA_SEND_RA, IB_RA_ADVERTISE, -1 },
	{ SENT, L, 0, NOBODY, -1, IB_RA_ADVERTISE, L + 16000 },
	{ HEARD, 5000, OURS + 1, PEER, IB_RA_OUTRANKED, IB_RA_ADVERTISE, L + 16000 },
	/* a SLAAC prefix or a router lifetime makes it a router: it wins */
	{ HEARD, 6000, OURS + 1, PEER_SLAAC, IB_RA_NOW_QUIET, IB_RA_QUIET, 6000 + P },
	{ .op = END },
};

static const struct step s_peer_lower[] = {
	{ START_AUTO, 0, 0, NOBODY, IB_RA_SEND_RS, IB_RA_LISTEN, L },
	{ TICK, L, 0, NOBODY, IB_RA_SEND_RA, IB_RA_ADVERTISE, -1 },
	{ SENT, L, 0, NOBODY, -1, IB_RA_ADVERTISE, L + 16000 },
	{ HEARD, 5000, OURS - 1, PEER, IB_RA_NOW_QUIET, IB_RA_QUIET, 5000 + P },
	{ .op = END },
};

static const struct step s_peer_while_listening[] = {
	/* one advertises already: defer to it whatever the addresses */
	{ START_AUTO, 0, 0, NOBODY, IB_RA_SEND_RS, IB_RA_LISTEN, L },
	{ HEARD, 400, OURS + 1, PEER, IB_RA_NOW_QUIET, IB_RA_QUIET, 400 + P },
	{ .op = END },
};

static const struct step s_peer_no_linklocal[] = {
	/* our link-local address unknown: no ranking, the other one wins */
	{ START_AUTO, 0, 0, NOBODY, IB_RA_SEND_RS, IB_RA_LISTEN, L },
	{ TICK, L, 0, NOBODY, IB_RA_SEND_RA, IB_RA_ADVERTISE, -1 },
	{ SENT, L, 0, NOBODY, -1, IB_RA_ADVERTISE, L + 16000 },
	{ HEARD, 5000, OURS + 1, PEER_UNKNOWN_OURS, IB_RA_NOW_QUIET, IB_RA_QUIET, 5000 + P },
	{ .op = END },
};

static const struct step s_enabled_true[] = {
	/* true: at once, and whoever else advertises */
	{ START_ON, 0, 0, NOBODY, IB_RA_SEND_RA, IB_RA_ADVERTISE, 0 },
	{ SENT, 0, 0, NOBODY, -1, IB_RA_ADVERTISE, 16000 },
	{ HEARD, 1000, 1, ROUTER, IB_RA_KEEP, IB_RA_ADVERTISE, 16000 },
	{ SOLICIT, 2000, 0, NOBODY, -1, IB_RA_ADVERTISE, 3000 },
	{ .op = END },
};

static void run_steps(const char *name, const struct step *st)
{
	struct ib_ra_link l;

	memset(&l, 0, sizeof(l));
	for (size_t i = 0; st[i].op != END; i++) {
		const struct step *s = &st[i];
		struct ib_ra_heard h = { .from = { 0xfe, 0x80 }, .ours = { 0xfe, 0x80 } };
		int got = -1;

		switch (s->op) {
		case START_AUTO: got = ib_ra_link_start(&l, true, 30, s->t); break;
		case START_ON: got = ib_ra_link_start(&l, false, 30, s->t); break;
		case TICK: got = ib_ra_link_tick(&l, s->t); break;
		case SENT: ib_ra_link_sent(&l, s->t); break;
		case SOLICIT: ib_ra_link_solicited(&l, s->t, s->arg); break;
		case HEARD:
			h.from[15] = (uint8_t)s->arg;
			h.ours[15] = OURS;
			if (s->who == PEER_UNKNOWN_OURS)
				memset(h.ours, 0, 16);
			h.router_lifetime = s->who == ROUTER ? 1800 : 0;
			h.slaac = s->who == PEER_SLAAC;
			got = ib_ra_link_heard(&l, &h, s->t);
			break;
		case END: break;
		}
		if ((s->want >= 0 && got != s->want) || l.phase != s->phase ||
		    (s->next >= 0 && ib_ra_link_next(&l) != s->next))
			fail_msg("%s, step %zu (t=%lld): got %d phase %d next %lld; want %d phase %d "
				 "next %lld", name, i, (long long)s->t, got, l.phase,
				 (long long)ib_ra_link_next(&l), s->want, s->phase,
				 (long long)s->next);
	}
}

static void test_link_schedule(void **state)
{
	static const struct { const char *name; const struct step *steps; } scenarios[] = {
		{ "no other router", s_quiet_lab },
		{ "a router answers the solicitation", s_router_first },
		{ "a router appears later", s_router_later },
		{ "a peer with a higher address", s_peers },
		{ "a peer with a lower address", s_peer_lower },
		{ "a peer heard while listening", s_peer_while_listening },
		{ "a peer, our address unknown", s_peer_no_linklocal },
		{ "enabled: true", s_enabled_true },
	};

	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run_steps(scenarios[i].name, scenarios[i].steps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_round_trip),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rs),
		cmocka_unit_test(test_rs_build),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_link_schedule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
