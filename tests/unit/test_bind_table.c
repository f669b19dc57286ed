/*
 * The binding table of DHCPv6's lease cache (src/dhcp/bind_table.c):
 * put, get, the client index (own and older bindings), state changes,
 * removal, and a long random run against a plain array, through several
 * growths and backward-shift deletions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dhcp/bind_table.h"

static void bind_of(unsigned addr, unsigned client, uint8_t state, struct ib_bind *b)
{
	memset(b, 0, sizeof(*b));
	b->addr[0] = 0xfd;
	b->addr[14] = (uint8_t)(addr >> 8);
	b->addr[15] = (uint8_t)addr;
	b->state = state;
	b->expires = 1000 + addr;
	b->key.len = 3;
	b->key.b[0] = 'K';
	b->key.b[1] = (uint8_t)(client >> 8);
	b->key.b[2] = (uint8_t)client;
}

static void test_own_and_older(void **state)
{
	struct ib_bind_table *t;
	struct ib_bind a, b, c;
	const struct ib_bind *got;

	(void)state;
	assert_int_equal(ib_bind_table_new(&t), 0);
	bind_of(1, 7, 1, &a);
	bind_of(2, 7, 1, &b);
	bind_of(3, 8, 1, &c);
	assert_int_equal(ib_bind_put(t, &a, true), 0);
	assert_int_equal(ib_bind_put(t, &b, false), 0);	/* an older one of client 7 */
	assert_int_equal(ib_bind_table_count(t), 2);
	got = ib_bind_of(t, &a.key);
	assert_non_null(got);
	assert_memory_equal(got->addr, a.addr, 16);
	assert_int_equal(ib_bind_put(t, &b, true), 0);	/* now its own */
	assert_memory_equal(ib_bind_of(t, &a.key)->addr, b.addr, 16);
	assert_non_null(ib_bind_get(t, a.addr));	/* the older stays filed */
	/* another client takes address 2: client 7's index no longer names it */
	bind_of(2, 8, 1, &c);
	assert_int_equal(ib_bind_put(t, &c, true), 0);
	assert_null(ib_bind_of(t, &a.key));
	assert_memory_equal(ib_bind_of(t, &c.key)->addr, c.addr, 16);
	assert_int_equal(ib_bind_set_state(t, c.addr, 4, 99), 0);
	assert_int_equal(ib_bind_get(t, c.addr)->state, 4);
	assert_int_equal(ib_bind_get(t, c.addr)->expires, 99);
	assert_int_not_equal(ib_bind_set_state(t, c.addr, 0, 99), 0);	/* 0 is no state */
	ib_bind_remove(t, c.addr);
	assert_null(ib_bind_get(t, c.addr));
	assert_null(ib_bind_of(t, &c.key));
	assert_int_equal(ib_bind_table_count(t), 1);
	ib_bind_table_clear(t);
	assert_int_equal(ib_bind_table_count(t), 0);
	assert_null(ib_bind_get(t, a.addr));
	ib_bind_table_free(t);
	ib_bind_table_free(NULL);
}

#define N_ADDR 5000
#define N_CLIENT 3000

/* Random puts and removes against a model: every address's holder, and
 * every client's own address, as the table must answer them. */
static void test_random_model(void **state)
{
	static int holder[N_ADDR];	/* client + 1, 0: none */
	static int own[N_CLIENT];	/* address + 1, 0: none */
	struct ib_bind_table *t;
	struct ib_bind b;
	unsigned seed = 12345;

	(void)state;
	memset(holder, 0, sizeof(holder));
	memset(own, 0, sizeof(own));
	assert_int_equal(ib_bind_table_new(&t), 0);
	for (int step = 0; step < 60000; step++) {
		unsigned a, c;

		seed = seed * 1103515245u + 12345u;
		a = (seed >> 8) % N_ADDR;
		seed = seed * 1103515245u + 12345u;
		c = (seed >> 8) % N_CLIENT;
		if ((seed >> 4) % 4 == 0) {
			bind_of(a, 0, 1, &b);
			ib_bind_remove(t, b.addr);
			if (holder[a] && own[holder[a] - 1] == (int)a + 1)
				own[holder[a] - 1] = 0;
			holder[a] = 0;
			continue;
		}
		bind_of(a, c, 1, &b);
		if (holder[a] && own[holder[a] - 1] == (int)a + 1)
			own[holder[a] - 1] = 0;
		holder[a] = (int)c + 1;
		own[c] = (int)a + 1;
		assert_int_equal(ib_bind_put(t, &b, true), 0);
	}
	for (unsigned a = 0; a < N_ADDR; a++) {
		const struct ib_bind *e;

		bind_of(a, 0, 1, &b);
		e = ib_bind_get(t, b.addr);
		assert_int_equal(e != NULL, holder[a] != 0);
		if (e)
			assert_int_equal((e->key.b[1] << 8 | e->key.b[2]) + 1, holder[a]);
	}
	for (unsigned c = 0; c < N_CLIENT; c++) {
		const struct ib_bind *e;

		bind_of(0, c, 1, &b);
		e = ib_bind_of(t, &b.key);
		assert_int_equal(e != NULL, own[c] != 0);
		if (e)
			assert_int_equal((e->addr[14] << 8 | e->addr[15]) + 1, own[c]);
	}
	ib_bind_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_and_older),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
