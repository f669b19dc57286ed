/*
 * The DHCPv4 lease cache (src/dhcp4/dhcp4_leases.c): bindings by address
 * and by client, one address per client, keys kept in the entry and keys
 * too long for it, states and expiry, the OFFER hold, loading from a
 * store (sized once, refused rows), and a long random run checked against
 * a plain array after every step (deletion inside probe chains, growth).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "dhcp4/dhcp4_leases.h"

#define NOW 1700000000
#define BASE 0x0a000000u		/* 10.0.0.0 */

/* A DISCOVER from chaddr 52:54:00:00:hi:lo, with a client-id of cid_len
 * bytes (0: none) made from n. */
static void msg_of(unsigned n, size_t cid_len, struct ib_dhcp4_msg *ret)
{
	uint8_t b[600] = { 1, 1, 6, 0 };
	size_t o = 240;

	b[28] = 0x52;
	b[29] = 0x54;
	b[32] = (uint8_t)(n >> 8);
	b[33] = (uint8_t)n;
	memcpy(b + 236, (uint8_t[]){ 0x63, 0x82, 0x53, 0x63 }, 4);
	b[o++] = 53, b[o++] = 1, b[o++] = 1;
	if (cid_len) {
		b[o++] = 61;
		b[o++] = (uint8_t)cid_len;
		b[o] = 0xff;		/* RFC 4361: IAID + DUID */
		for (size_t i = 1; i < cid_len; i++)
			b[o + i] = (uint8_t)(n * 7 + i);
		o += cid_len;
	}
	b[o++] = 255;
	assert_int_equal(ib_dhcp4_parse(b, o, ret), 0);
}

static struct ib_dhcp4_msg *msg_new(unsigned n, size_t cid_len)
{
	struct ib_dhcp4_msg *m = malloc(sizeof(*m));

	assert_non_null(m);
	msg_of(n, cid_len, m);
	return m;
}

struct fix {
	struct ib_d4_leases *c;
	struct ib_lease_view v;
	int64_t now;
};

static void fix_init(struct fix *f)
{
	assert_int_equal(ib_d4_leases_new(&f->c), 0);
	f->now = NOW;
	ib_d4_leases_view(f->c, &f->now, &f->v);
}

static int set(struct fix *f, uint32_t a, enum ib_d4_state st, const struct ib_dhcp4_msg *m,
	       int64_t expires)
{
	struct ib_d4_key k;

	ib_d4_key_from_msg(m, &k);
	return ib_d4_leases_set(f->c, a, st, &k, expires);
}

/* The address the cache has for m's client, or 0. */
static uint32_t addr_of(struct fix *f, const struct ib_dhcp4_msg *m)
{
	struct ib_lease4 l;

	return f->v.find_client(f->v.ctx, m, &l) == 0 ? l.address : 0;
}

/* A cache and two clients (chaddr only), for the tests below. */
struct two {
	struct fix f;
	struct ib_dhcp4_msg *m1, *m2;
};

static int two_setup(void **state)
{
	static struct two t;

	fix_init(&t.f);
	t.m1 = msg_new(1, 0);
	t.m2 = msg_new(2, 0);
	*state = &t;
	return 0;
}

static int two_teardown(void **state)
{
	struct two *t = *state;

	ib_d4_leases_free(t->f.c);
	free(t->m1);
	free(t->m2);
	return 0;
}

static void test_bind_and_find(void **state)
{
	struct two *t = *state;
	struct ib_dhcp4_msg *m1 = t->m1, *m2 = t->m2;
	struct fix *f = &t->f;
	struct ib_d4_key k;
	struct ib_lease4 l;

	assert_int_equal(set(f, BASE + 5, IB_D4_BOUND, m1, NOW + 60), 0);
	assert_int_equal(ib_d4_leases_count(f->c), 1);
	assert_int_equal(f->v.find_client(f->v.ctx, m1, &l), 0);
	assert_int_equal(l.address, BASE + 5);
	assert_int_equal(l.expires, NOW + 60);
	assert_int_equal(l.state, IB_LEASE_ACTIVE);
	assert_int_equal(f->v.find_client(f->v.ctx, m2, &l), -ENOENT);
	assert_true(f->v.is_free(f->v.ctx, BASE + 5, m1));	/* its own */
	assert_false(f->v.is_free(f->v.ctx, BASE + 5, m2));	/* someone else's */
	assert_true(f->v.is_free(f->v.ctx, BASE + 6, m2));
	ib_d4_key_from_msg(m1, &k);
	assert_true(ib_d4_leases_bound(f->c, &k, NOW));
	assert_false(ib_d4_leases_bound(f->c, &k, NOW + 60));	/* expired */
	/* until when: its own address only, live only, bound only */
	assert_int_equal(ib_d4_leases_bound_until(f->c, BASE + 5, &k, NOW), NOW + 60);
	assert_int_equal(ib_d4_leases_bound_until(f->c, BASE + 5, &k, NOW + 60), 0);
	assert_int_equal(ib_d4_leases_bound_until(f->c, BASE + 6, &k, NOW), 0);
	ib_d4_key_from_msg(m2, &k);
	assert_int_equal(ib_d4_leases_bound_until(f->c, BASE + 5, &k, NOW), 0);
	ib_d4_key_from_msg(m1, &k);
	f->now = NOW + 60;
	assert_true(f->v.is_free(f->v.ctx, BASE + 5, m2));	/* expired: free */
	/* 0.0.0.0 is never a lease; FREE is no state to set */
	assert_int_equal(set(f, 0, IB_D4_BOUND, m2, NOW + 60), -EINVAL);
	assert_int_equal(set(f, BASE + 7, IB_D4_FREE, m2, NOW + 60), -EINVAL);
	assert_int_equal(ib_d4_leases_count(f->c), 1);
}

static void test_one_address_per_client(void **state)
{
	struct two *t = *state;
	struct ib_dhcp4_msg *m1 = t->m1, *m2 = t->m2;
	struct fix *f = &t->f;

	assert_int_equal(set(f, BASE + 5, IB_D4_BOUND, m1, NOW + 60), 0);
	assert_int_equal(set(f, BASE + 6, IB_D4_BOUND, m1, NOW + 60), 0);
	assert_int_equal(ib_d4_leases_count(f->c), 1);
	assert_int_equal(addr_of(f, m1), BASE + 6);
	assert_true(f->v.is_free(f->v.ctx, BASE + 5, m2));
	/* an address given to another client leaves the first with none */
	assert_int_equal(set(f, BASE + 6, IB_D4_BOUND, m2, NOW + 60), 0);
	assert_int_equal(addr_of(f, m1), 0);
	assert_int_equal(addr_of(f, m2), BASE + 6);
	assert_int_equal(ib_d4_leases_count(f->c), 1);
	ib_d4_leases_remove(f->c, BASE + 6);
	assert_int_equal(addr_of(f, m2), 0);
	assert_int_equal(ib_d4_leases_count(f->c), 0);
}

/* Client-ids of every length around the entry's inline room, and the
 * longest; each is its own client, distinct from its chaddr. */
static void test_key_lengths(void **state)
{
	static const size_t lens[] = { 2, 7, 22, 23, 24, 25, 64, 255 };
	struct ib_dhcp4_msg *m[IB_ARRAY_SIZE(lens)], *hw = msg_new(9, 0);
	struct fix f;
	struct ib_d4_key k;

	(void)state;
	fix_init(&f);
	for (size_t i = 0; i < IB_ARRAY_SIZE(lens); i++) {
		m[i] = msg_new(9, lens[i]);
		assert_int_equal(set(&f, BASE + 10 + (uint32_t)i, IB_D4_BOUND, m[i], NOW + 60), 0);
	}
	assert_int_equal(ib_d4_leases_count(f.c), IB_ARRAY_SIZE(lens));
	assert_int_equal(addr_of(&f, hw), 0);
	for (size_t i = 0; i < IB_ARRAY_SIZE(lens); i++) {
		assert_int_equal(addr_of(&f, m[i]), BASE + 10 + i);
		ib_d4_key_from_msg(m[i], &k);
		assert_int_equal(k.len, lens[i] + 1);
		assert_true(ib_d4_leases_bound(f.c, &k, NOW));
		assert_false(f.v.is_free(f.v.ctx, BASE + 10 + (uint32_t)i, hw));
	}
	/* moved, replaced and removed: every key freed once (ASan) */
	assert_int_equal(set(&f, BASE + 40, IB_D4_BOUND, m[7], NOW + 60), 0);
	assert_int_equal(set(&f, BASE + 40, IB_D4_BOUND, m[6], NOW + 60), 0);
	assert_int_equal(addr_of(&f, m[7]), 0);
	ib_d4_leases_remove(f.c, BASE + 14);
	assert_int_equal(addr_of(&f, m[4]), 0);
	assert_int_equal(ib_d4_leases_count(f.c), IB_ARRAY_SIZE(lens) - 2);
	ib_d4_leases_clear(f.c);
	assert_int_equal(ib_d4_leases_count(f.c), 0);
	assert_int_equal(set(&f, BASE + 41, IB_D4_BOUND, m[7], NOW + 60), 0);
	ib_d4_leases_free(f.c);		/* with a long key still held */
	for (size_t i = 0; i < IB_ARRAY_SIZE(lens); i++)
		free(m[i]);
	free(hw);
}

static void test_states(void **state)
{
	struct two *t = *state;
	struct ib_dhcp4_msg *m1 = t->m1, *m2 = t->m2;
	struct fix *f = &t->f;
	struct ib_d4_key k;
	struct ib_lease4 l;

	/* a quarantined address is free for nobody, its decliner included */
	assert_int_equal(set(f, BASE + 5, IB_D4_QUARANTINED, m1, NOW + 600), 0);
	assert_false(f->v.is_free(f->v.ctx, BASE + 5, m1));
	assert_int_equal(f->v.find_client(f->v.ctx, m1, &l), 0);
	assert_int_equal(l.state, IB_LEASE_DECLINED);
	ib_d4_key_from_msg(m1, &k);
	assert_false(ib_d4_leases_bound(f->c, &k, NOW));
	/* an OFFER: held against others, forgotten on request */
	assert_int_equal(set(f, BASE + 6, IB_D4_OFFERED, m2, NOW + 30), 0);
	assert_true(f->v.offered_to_other(f->v.ctx, BASE + 6, m1));
	assert_false(f->v.offered_to_other(f->v.ctx, BASE + 6, m2));
	ib_d4_key_from_msg(m2, &k);
	assert_false(ib_d4_leases_bound(f->c, &k, NOW));
	ib_d4_leases_forget_offer(f->c, &k);
	assert_int_equal(addr_of(f, m2), 0);
	/* forget_offer leaves a binding alone */
	assert_int_equal(set(f, BASE + 6, IB_D4_BOUND, m2, NOW + 30), 0);
	ib_d4_leases_forget_offer(f->c, &k);
	assert_int_equal(addr_of(f, m2), BASE + 6);
}

/*
 * The model: per address, the client number holding it (-1 none); per
 * client, its address (0 none).  Random sets and removes over a range
 * larger than the first table, each step checked in full now and then.
 */
#define M_ADDRS 3000
#define M_CLIENTS 700

static void model_check(struct fix *f, struct ib_dhcp4_msg **m, const int *holder,
			const uint32_t *addr, size_t n)
{
	for (unsigned c = 0; c < M_CLIENTS; c++)
		assert_int_equal(addr_of(f, m[c]), addr[c]);
	for (unsigned a = 0; a < M_ADDRS; a++) {
		unsigned other = holder[a] < 0 ? 0 : ((unsigned)holder[a] + 1) % M_CLIENTS;

		assert_int_equal(f->v.is_free(f->v.ctx, BASE + 1 + a, m[other]), holder[a] < 0);
	}
	assert_int_equal(ib_d4_leases_count(f->c), n);
}

/* A stored row of m's client at a. */
static void row_of(const struct ib_dhcp4_msg *m, uint32_t a, enum ib_lease_state st,
		   int64_t expires, struct ib_lease4 *l)
{
	memset(l, 0, sizeof(*l));
	l->address = a;
	l->htype = m->htype;
	l->hw_len = m->hlen;
	memcpy(l->hwaddr, m->chaddr, m->hlen);
	l->state = st;
	l->expires = expires;
}

/*
 * Another daemon's write, followed (ib_d4_leases_follow): the row as the
 * store holds it is filed (bound, quarantined, forgotten), the client's
 * other entry ends as the store ended it, and an OFFER of this daemon's
 * own outlives a row that frees its address.
 */
static void test_follow(void **state)
{
	struct two *t = *state;
	struct fix *f = &t->f;
	struct ib_lease4 l;

	row_of(t->m1, BASE + 5, IB_LEASE_ACTIVE, NOW + 60, &l);
	assert_int_equal(ib_d4_leases_follow(f->c, BASE + 5, &l, NOW), 0);
	assert_int_equal(addr_of(f, t->m1), BASE + 5);
	assert_false(f->v.is_free(f->v.ctx, BASE + 5, t->m2));
	/* the other daemon moved the client: its old address is let go */
	row_of(t->m1, BASE + 9, IB_LEASE_ACTIVE, NOW + 60, &l);
	assert_int_equal(ib_d4_leases_follow(f->c, BASE + 9, &l, NOW), 0);
	assert_int_equal(addr_of(f, t->m1), BASE + 9);
	assert_true(f->v.is_free(f->v.ctx, BASE + 5, t->m2));
	/* declined: quarantined for everyone */
	row_of(t->m1, BASE + 9, IB_LEASE_DECLINED, NOW + 60, &l);
	assert_int_equal(ib_d4_leases_follow(f->c, BASE + 9, &l, NOW), 0);
	assert_false(f->v.is_free(f->v.ctx, BASE + 9, t->m2));
	/* released, expired, or no row: forgotten */
	row_of(t->m1, BASE + 9, IB_LEASE_RELEASED, NOW, &l);
	assert_int_equal(ib_d4_leases_follow(f->c, BASE + 9, &l, NOW), 0);
	assert_int_equal(ib_d4_leases_count(f->c), 0);
	assert_int_equal(set(f, BASE + 3, IB_D4_BOUND, t->m2, NOW + 60), 0);
	row_of(t->m2, BASE + 3, IB_LEASE_ACTIVE, NOW, &l);	/* expired at now */
	assert_int_equal(ib_d4_leases_follow(f->c, BASE + 3, &l, NOW), 0);
	assert_int_equal(ib_d4_leases_count(f->c), 0);
	/* this daemon's OFFER is no row's: a row-less address keeps it */
	assert_int_equal(set(f, BASE + 4, IB_D4_OFFERED, t->m2, NOW + 30), 0);
	assert_int_equal(ib_d4_leases_follow(f->c, BASE + 4, NULL, NOW), 0);
	assert_int_equal(ib_d4_leases_count(f->c), 1);
	/* but another client's binding there replaces it */
	row_of(t->m1, BASE + 4, IB_LEASE_ACTIVE, NOW + 60, &l);
	assert_int_equal(ib_d4_leases_follow(f->c, BASE + 4, &l, NOW), 0);
	assert_int_equal(addr_of(f, t->m1), BASE + 4);
	assert_false(f->v.is_free(f->v.ctx, BASE + 4, t->m2));
}

/*
 * Two daemons on one store (ib_d4_leases_scatter): their next-fit searches
 * start at random places of their own, so their first offers to two
 * clients differ (a 65,000-address pool: a false failure once in 65,000
 * runs), while without it both start at the pool's first address.
 */
static void test_scatter(void **state)
{
	struct ib_pool4 pool = { BASE + 10, BASE + 65010 };
	struct ib_subnet4 sn = { .network = BASE, .prefix_len = 8, .broadcast = BASE | 0xffffff,
				 .pools = &pool, .n_pools = 1 };
	struct fix a, b;
	struct ib_dhcp4_msg *m1 = msg_new(1, 0), *m2 = msg_new(2, 0);
	uint32_t x = 0, y = 0;

	(void)state;
	fix_init(&a);
	fix_init(&b);
	assert_int_equal(a.v.pick_free(a.v.ctx, &sn, m1, &x), 0);
	assert_int_equal(b.v.pick_free(b.v.ctx, &sn, m2, &y), 0);
	assert_int_equal(x, BASE + 10);		/* lockstep: the same first address */
	assert_int_equal(y, BASE + 10);
	ib_d4_leases_scatter(a.c);
	ib_d4_leases_scatter(b.c);
	assert_int_equal(a.v.pick_free(a.v.ctx, &sn, m1, &x), 0);
	assert_int_equal(b.v.pick_free(b.v.ctx, &sn, m2, &y), 0);
	assert_true(x >= pool.start && x <= pool.end && y >= pool.start && y <= pool.end);
	assert_int_not_equal(x, y);
	ib_d4_leases_free(a.c);
	ib_d4_leases_free(b.c);
	free(m1);
	free(m2);
}

static void test_model(void **state)
{
	static int holder[M_ADDRS];
	static uint32_t addr[M_CLIENTS];
	static struct ib_dhcp4_msg *m[M_CLIENTS];
	unsigned seed = 12345;
	struct fix f;
	size_t n = 0;

	(void)state;
	fix_init(&f);
	for (unsigned c = 0; c < M_CLIENTS; c++)
		m[c] = msg_new(c, c % 3 == 0 ? 0 : c % 3 == 1 ? 7 : 40);
	memset(holder, 0xff, sizeof(holder));
	for (unsigned step = 0; step < 30000; step++) {
		unsigned a = (unsigned)rand_r(&seed) % M_ADDRS;
		unsigned c = (unsigned)rand_r(&seed) % M_CLIENTS;

		if (rand_r(&seed) % 4 == 0) {
			ib_d4_leases_remove(f.c, BASE + 1 + a);
			if (holder[a] >= 0) {
				addr[holder[a]] = 0;
				holder[a] = -1;
				n--;
			}
		} else {
			assert_int_equal(set(&f, BASE + 1 + a, IB_D4_BOUND, m[c], NOW + 60), 0);
			if (holder[a] >= 0) {
				addr[holder[a]] = 0;
				n--;
			}
			if (addr[c]) {
				holder[addr[c] - BASE - 1] = -1;
				n--;
			}
			holder[a] = (int)c;
			addr[c] = BASE + 1 + a;
			n++;
		}
		if (step % 1500 == 0)
			model_check(&f, m, holder, addr, n);
	}
	model_check(&f, m, holder, addr, n);
	assert_true(n > 500);		/* well past the first table's half */
	ib_d4_leases_free(f.c);
	for (unsigned c = 0; c < M_CLIENTS; c++)
		free(m[c]);
}

/* Loading: unexpired ACTIVE and DECLINED rows, a refused row said. */
static void test_load(void **state)
{
	char dir[] = "/tmp/ib-test-d4leases-XXXXXX", path[64], err[256];
	struct ib_dhcp4_msg *m = msg_new(3, 0);
	struct ib_d4_load_refused ref;
	struct ib_store *s;
	struct fix f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.db", dir);
	assert_int_equal(ib_store_sqlite_open(path, &s, err), 0);
	assert_int_equal(ib_store_begin(s), 0);
	for (uint32_t i = 0; i < 5000; i++) {
		struct ib_lease4 l = { .address = BASE + 1 + i, .subnet = BASE, .htype = 1,
				       .hw_len = 6, .cltt = NOW, .expires = NOW + 60,
				       .state = IB_LEASE_ACTIVE };

		memcpy(l.hwaddr, (uint8_t[]){ 0x52, 0x54, 0, 0, (uint8_t)(i >> 8), (uint8_t)i }, 6);
		if (i % 10 == 1)
			l.state = IB_LEASE_DECLINED;
		if (i % 10 == 2)
			l.expires = NOW;		/* expired: not loaded */
		if (i == 7)
			l.hw_len = 5;			/* refused */
		assert_int_equal(ib_store_lease4_commit(s, &l, NOW - 1), 0);
	}
	assert_int_equal(ib_store_commit(s), 0);
	fix_init(&f);
	assert_int_equal(ib_d4_leases_load(f.c, s, NULL, NOW, &ref), 0);
	assert_int_equal(ib_d4_leases_count(f.c), 5000 - 500 - 1);
	assert_int_equal(ref.n, 1);
	assert_int_equal(ref.first, BASE + 8);
	assert_int_equal(addr_of(&f, m), BASE + 4);	/* 52:54:00:00:00:03 */
	assert_false(f.v.is_free(f.v.ctx, BASE + 2, m));	/* declined */
	assert_true(f.v.is_free(f.v.ctx, BASE + 3, m));	/* expired */
	/* a second load replaces the first */
	assert_int_equal(ib_d4_leases_load(f.c, s, NULL, NOW + 60, NULL), 0);
	assert_int_equal(ib_d4_leases_count(f.c), 0);
	ib_d4_leases_free(f.c);
	ib_store_free(s);
	free(m);
	for (size_t i = 0; i < 3; i++) {
		char p[80];

		snprintf(p, sizeof(p), "%s%s", path, (const char *[]){ "", "-wal", "-shm" }[i]);
		unlink(p);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* Two subnets: 10.0.0.0/24 with one pool over all of it (network and
 * broadcast inside), 10.0.1.0/24 with 10.0.1.10-19; n: how many. */
static void cfg_of(struct ib_config *cfg, struct ib_subnet4 *sn, struct ib_pool4 *p, size_t n)
{
	memset(cfg, 0, sizeof(*cfg));
	p[0] = (struct ib_pool4){ BASE, BASE + 255 };
	p[1] = (struct ib_pool4){ BASE + 256 + 10, BASE + 256 + 19 };
	for (size_t i = 0; i < 2; i++)
		sn[i] = (struct ib_subnet4){ .network = BASE + 256 * (uint32_t)i, .prefix_len = 24,
					     .mask = 0xffffff00u,
					     .broadcast = BASE + 256 * (uint32_t)i + 255,
					     .pools = &p[i], .n_pools = 1 };
	cfg->dhcp4.subnets = sn;
	cfg->dhcp4.n_subnets = n;
}

static uint64_t active_in(struct fix *f, size_t pool)
{
	struct ib_lease_count n;

	assert_true(ib_d4_leases_pool_counts(f->c, pool, &n));
	return n.active;
}

/* The pools' tally: counts follow every change, the bitmap's pick skips
 * network and broadcast, a full pool is swept (expired OFFERs leave), a
 * refused reload rolls back, and a reload's stale rows are dropped. */
static void test_pools(void **state)
{
	struct ib_config a, b;
	struct ib_subnet4 sa[2], sb[2];
	struct ib_pool4 pa[2], pb[2];
	struct ib_dhcp4_msg *m[13];
	struct ib_lease_count n;
	struct fix f;
	uint32_t got;
	size_t dropped = 99;

	(void)state;
	for (unsigned i = 0; i < 13; i++)
		m[i] = msg_new(100 + i, 0);
	cfg_of(&a, sa, pa, 2);
	cfg_of(&b, sb, pb, 1);
	fix_init(&f);
	assert_false(ib_d4_leases_pool_counts(f.c, 0, &n));	/* no config yet */
	assert_int_equal(ib_d4_leases_configure(f.c, &a), 0);
	assert_int_equal(f.v.pick_free(f.v.ctx, &sa[0], m[0], &got), 0);
	assert_int_equal(got, BASE + 1);			/* not the network */
	assert_int_equal(set(&f, got, IB_D4_BOUND, m[0], NOW + 60), 0);
	assert_int_equal(f.v.pick_free(f.v.ctx, &sa[0], m[1], &got), 0);
	assert_int_equal(got, BASE + 2);
	assert_int_equal(set(&f, got, IB_D4_QUARANTINED, m[1], NOW + 60), 0);
	assert_int_equal(active_in(&f, 0), 1);
	assert_true(ib_d4_leases_pool_counts(f.c, 0, &n));
	assert_int_equal(n.declined, 1);
	/* the second pool full of OFFERs past their time: a sweep finds one */
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(set(&f, BASE + 266 + i, IB_D4_OFFERED, m[2 + i], NOW - 1), 0);
	assert_int_equal(f.v.pick_free(f.v.ctx, &sa[1], m[12], &got), 0);
	assert_int_equal(ib_d4_leases_count(f.c), 2);		/* the sweep ended them */
	assert_int_equal(set(&f, got, IB_D4_BOUND, m[12], NOW + 60), 0);
	assert_int_equal(active_in(&f, 1), 1);
	/* bound to the brim: nothing free, before and after the one sweep */
	for (unsigned i = 0; i < 10; i++)
		if (BASE + 266 + i != got)
			assert_int_equal(set(&f, BASE + 266 + i, IB_D4_BOUND, m[2 + i], NOW + 60), 0);
	assert_int_equal(active_in(&f, 1), 10);
	assert_int_equal(f.v.pick_free(f.v.ctx, &sa[1], m[0], &got), -ENOSPC);
	assert_int_equal(f.v.pick_free(f.v.ctx, &sa[1], m[0], &got), -ENOSPC);
	/* the release of one frees its bit at once */
	ib_d4_leases_remove(f.c, BASE + 270);
	assert_int_equal(active_in(&f, 1), 9);
	assert_int_equal(f.v.pick_free(f.v.ctx, &sa[1], m[0], &got), 0);
	assert_int_equal(got, BASE + 270);
	/* a refused reload to b: back to a's pools, counts as they are */
	assert_int_equal(ib_d4_leases_configure(f.c, &b), 0);
	assert_false(ib_d4_leases_pool_counts(f.c, 1, &n));
	ib_d4_leases_rollback(f.c);
	assert_int_equal(active_in(&f, 1), 9);
	assert_int_equal(ib_d4_leases_reconcile(f.c, NULL, &a, NOW, &dropped), 0);
	assert_int_equal(dropped, 99);				/* nothing was stale */
	/* an accepted reload to b, then a refused one (back to a, undone)
	 * before the reclaim tick: the reconcile b owes still runs, and the
	 * second subnet's rows go */
	assert_int_equal(ib_d4_leases_configure(f.c, &b), 0);
	assert_int_equal(ib_d4_leases_configure(f.c, &a), 0);
	ib_d4_leases_rollback(f.c);
	assert_int_equal(ib_d4_leases_reconcile(f.c, NULL, &b, NOW, &dropped), 0);
	assert_int_equal(dropped, 9);
	assert_int_equal(ib_d4_leases_count(f.c), 2);
	assert_int_equal(active_in(&f, 0), 1);
	ib_d4_leases_free(f.c);
	for (unsigned i = 0; i < 13; i++)
		free(m[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_and_find, two_setup, two_teardown),
		cmocka_unit_test_setup_teardown(test_one_address_per_client, two_setup,
						two_teardown),
		cmocka_unit_test(test_key_lengths),
		cmocka_unit_test_setup_teardown(test_states, two_setup, two_teardown),
		cmocka_unit_test_setup_teardown(test_follow, two_setup, two_teardown),
		cmocka_unit_test(test_scatter),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_pools),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
