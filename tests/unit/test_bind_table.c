/*
 * The binding table both DHCP families' lease caches keep
 * (src/dhcp/bind_table.c), narrow (4-byte addresses) and wide (16): put,
 * get, the client index (own and older bindings), state changes, removal,
 * keys kept inline and allocated, the watch's running count per state,
 * drop_if, and a long random run against a plain array, through several
 * growths and backward-shift deletions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp/bind_table.h"

/* A test binding: its key bytes live beside it. */
struct tb {
	struct ib_bind b;		/* the binding */
	uint8_t key[64];		/* its key */
};

/* Address addr of a table of width alen; client's key is 3 bytes, or 40
 * (allocated past the slot's 24 inline bytes) when client is odd. */
static void bind_of(size_t alen, unsigned addr, unsigned client, uint8_t state, struct tb *t)
{
	memset(t, 0, sizeof(*t));
	t->b.addr[0] = alen == 16 ? 0xfd : 198;
	t->b.addr[alen - 2] = (uint8_t)(addr >> 8);
	t->b.addr[alen - 1] = (uint8_t)addr;
	t->b.state = state;
	t->b.expires = 1000 + addr;
	t->b.since = alen == 16 ? 500 + addr : 0;
	t->key[0] = 'K';
	t->key[1] = (uint8_t)(client >> 8);
	t->key[2] = (uint8_t)client;
	t->b.key = t->key;
	t->b.key_len = (client & 1) ? 40 : 3;
}

/* The watch's picture: bindings per state. */
static size_t per_state[8];

static void count_states(void *ctx, const uint8_t *addr, uint8_t was, uint8_t now)
{
	(void)ctx;
	(void)addr;
	if (was)
		per_state[was]--;
	if (now)
		per_state[now]++;
}

static void own_and_older(size_t alen)
{
	struct ib_bind_table *t;
	struct tb a, b, c;
	struct ib_bind got;

	memset(per_state, 0, sizeof(per_state));
	assert_int_equal(ib_bind_table_new(alen, &t), 0);
	ib_bind_table_watch(t, count_states, NULL);
	bind_of(alen, 1, 7, 1, &a);
	bind_of(alen, 2, 7, 1, &b);
	bind_of(alen, 3, 8, 1, &c);
	assert_int_equal(ib_bind_put(t, &a.b, true), 0);
	assert_int_equal(ib_bind_put(t, &b.b, false), 0);	/* an older one of client 7 */
	assert_int_equal(ib_bind_table_count(t), 2);
	assert_int_equal(per_state[1], 2);
	assert_true(ib_bind_of(t, a.key, a.b.key_len, &got));
	assert_memory_equal(got.addr, a.b.addr, alen);
	assert_int_equal(got.since, a.b.since);
	assert_int_equal(got.key_len, 40);
	assert_memory_equal(got.key, a.key, 40);
	assert_int_equal(ib_bind_put(t, &b.b, true), 0);	/* now its own */
	assert_true(ib_bind_of(t, a.key, a.b.key_len, &got));
	assert_memory_equal(got.addr, b.b.addr, alen);
	assert_true(ib_bind_get(t, a.b.addr, &got));	/* the older stays filed */
	/* another client takes address 2: client 7's index no longer names it */
	bind_of(alen, 2, 8, 1, &c);
	assert_int_equal(ib_bind_put(t, &c.b, true), 0);
	assert_false(ib_bind_of(t, a.key, a.b.key_len, &got));
	assert_true(ib_bind_of(t, c.key, c.b.key_len, &got));
	assert_memory_equal(got.addr, c.b.addr, alen);
	assert_true(ib_bind_held_by(&got, c.key, c.b.key_len));
	assert_false(ib_bind_held_by(&got, a.key, a.b.key_len));
	assert_int_equal(ib_bind_set_state(t, c.b.addr, 4, 99), 0);
	assert_int_equal(per_state[1], 1);
	assert_int_equal(per_state[4], 1);
	assert_true(ib_bind_get(t, c.b.addr, &got));
	assert_int_equal(got.state, 4);
	assert_int_equal(got.expires, 99);
	assert_int_not_equal(ib_bind_set_state(t, c.b.addr, 0, 99), 0);	/* 0 is no state */
	ib_bind_remove(t, c.b.addr);
	assert_int_equal(per_state[4], 0);
	assert_false(ib_bind_get(t, c.b.addr, &got));
	assert_false(ib_bind_of(t, c.key, c.b.key_len, &got));
	assert_int_equal(ib_bind_table_count(t), 1);
	memset(c.b.addr, 0, sizeof(c.b.addr));
	assert_int_equal(ib_bind_put(t, &c.b, true), -EINVAL);	/* no address */
	ib_bind_table_clear(t);
	assert_int_equal(per_state[1], 0);
	assert_int_equal(ib_bind_table_count(t), 0);
	assert_false(ib_bind_get(t, a.b.addr, &got));
	ib_bind_table_free(t);
	ib_bind_table_free(NULL);
}

static void test_own_and_older(void **state)
{
	(void)state;
	own_and_older(4);
	own_and_older(16);
	assert_int_equal(ib_bind_table_new(6, &(struct ib_bind_table *){ NULL }), -EINVAL);
}

#define N_ADDR 5000
#define N_CLIENT 3000

/* drop_if's predicate: the addresses whose low byte is odd. */
static bool odd_addr(void *ctx, const struct ib_bind *b)
{
	size_t alen = *(size_t *)ctx;

	return b->addr[alen - 1] & 1;
}

/* Random puts and removes against a model: every address's holder, and
 * every client's own address, as the table must answer them. */
static void random_model(size_t alen)
{
	static int holder[N_ADDR];	/* client + 1, 0: none */
	static int own[N_CLIENT];	/* address + 1, 0: none */
	struct ib_bind_table *t;
	struct ib_bind got;
	struct tb b;
	unsigned seed = 12345;
	size_t n_held = 0, dropped = 0;

	memset(holder, 0, sizeof(holder));
	memset(own, 0, sizeof(own));
	memset(per_state, 0, sizeof(per_state));
	assert_int_equal(ib_bind_table_new(alen, &t), 0);
	ib_bind_table_watch(t, count_states, NULL);
	for (int step = 0; step < 60000; step++) {
		unsigned a, c;

		seed = seed * 1103515245u + 12345u;
		a = 1 + (seed >> 8) % (N_ADDR - 1);
		seed = seed * 1103515245u + 12345u;
		c = (seed >> 8) % N_CLIENT;
		if ((seed >> 4) % 4 == 0) {
			bind_of(alen, a, 0, 1, &b);
			ib_bind_remove(t, b.b.addr);
			if (holder[a] && own[holder[a] - 1] == (int)a + 1)
				own[holder[a] - 1] = 0;
			holder[a] = 0;
			continue;
		}
		bind_of(alen, a, c, 1, &b);
		if (holder[a] && own[holder[a] - 1] == (int)a + 1)
			own[holder[a] - 1] = 0;
		holder[a] = (int)c + 1;
		own[c] = (int)a + 1;
		assert_int_equal(ib_bind_put(t, &b.b, true), 0);
	}
	for (unsigned a = 0; a < N_ADDR; a++) {
		bool found;

		bind_of(alen, a, 0, 1, &b);
		found = ib_bind_get(t, b.b.addr, &got);
		assert_int_equal(found, holder[a] != 0);
		n_held += found;
		if (found)
			assert_int_equal((got.key[1] << 8 | got.key[2]) + 1, holder[a]);
	}
	assert_int_equal(per_state[1], n_held);
	for (unsigned c = 0; c < N_CLIENT; c++) {
		bool found;

		bind_of(alen, 0, c, 1, &b);
		found = ib_bind_of(t, b.key, b.b.key_len, &got);
		assert_int_equal(found, own[c] != 0);
		if (found)
			assert_int_equal((got.addr[alen - 2] << 8 | got.addr[alen - 1]) + 1, own[c]);
	}
	/* drop the odd addresses: exactly those go, the rest stay findable */
	for (unsigned a = 1; a < N_ADDR; a += 2)
		dropped += holder[a] != 0;
	assert_int_equal(ib_bind_drop_if(t, odd_addr, &alen), dropped);
	assert_int_equal(ib_bind_table_count(t), n_held - dropped);
	assert_int_equal(per_state[1], n_held - dropped);
	for (unsigned a = 0; a < N_ADDR; a++) {
		bind_of(alen, a, 0, 1, &b);
		assert_int_equal(ib_bind_get(t, b.b.addr, &got), holder[a] != 0 && !(a & 1));
	}
	ib_bind_table_free(t);
}

static void test_random_model(void **state)
{
	(void)state;
	random_model(4);
	random_model(16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_and_older),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
