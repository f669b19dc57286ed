/*
 * The binding table (bind_table.h): two open-addressing tables, by address
 * and by client key hash -> address, linear probing, backward-shift
 * deletion (no tombstones).
 */
#include "dhcp/bind_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"

#define CAP_MIN 1024			/* slots of a new table */

/* Client index slot: key hash -> address (checked against the entry). */
struct cslot {
	uint64_t key_hash;		/* hash of the client's key */
	uint8_t addr[16];		/* its own binding's address */
	bool used;			/* slot taken */
};

struct ib_bind_table {
	struct ib_bind *e;		/* by address; state 0 = empty */
	struct cslot *cs;		/* by client */
	size_t cap;			/* slots in each table, power of two */
	size_t n;			/* entries in use */
	uint8_t key[IB_SIPHASH_KEY_LEN]; /* random: keys and addresses come from the wire */
};

static size_t addr_home(const struct ib_bind_table *t, const uint8_t a[16])
{
	return (size_t)ib_siphash(t->key, a, 16) & (t->cap - 1);
}

static uint64_t key_hash(const struct ib_bind_table *t, const struct ib_bind_key *k)
{
	return ib_siphash(t->key, k->b, k->len);
}

int ib_bind_table_new(struct ib_bind_table **ret)
{
	struct ib_bind_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	if (ib_siphash_key_random(t->key) < 0) {
		free(t);
		return -EIO;
	}
	t->cap = CAP_MIN;
	t->e = calloc(t->cap, sizeof(*t->e));
	t->cs = calloc(t->cap, sizeof(*t->cs));
	if (!t->e || !t->cs) {
		ib_bind_table_free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

void ib_bind_table_free(struct ib_bind_table *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->cs);
	free(t);
}

void ib_bind_table_clear(struct ib_bind_table *t)
{
	memset(t->e, 0, t->cap * sizeof(*t->e));
	memset(t->cs, 0, t->cap * sizeof(*t->cs));
	t->n = 0;
}

size_t ib_bind_table_count(const struct ib_bind_table *t)
{
	return t->n;
}

bool ib_bind_key_eq(const struct ib_bind_key *a, const struct ib_bind_key *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

static struct ib_bind *find_addr(const struct ib_bind_table *t, const uint8_t a[16])
{
	for (size_t i = addr_home(t, a);; i = (i + 1) & (t->cap - 1)) {
		if (t->e[i].state == 0)
			return NULL;
		if (memcmp(t->e[i].addr, a, 16) == 0)
			return &t->e[i];
	}
}

static struct cslot *find_client(const struct ib_bind_table *t, const struct ib_bind_key *k,
				 uint64_t h)
{
	for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct cslot *s = &t->cs[i];
		const struct ib_bind *e;

		if (!s->used)
			return NULL;
		if (s->key_hash != h)
			continue;
		e = find_addr(t, s->addr);
		if (e && ib_bind_key_eq(&e->key, k))
			return s;
	}
}

const struct ib_bind *ib_bind_get(const struct ib_bind_table *t, const uint8_t addr[16])
{
	return find_addr(t, addr);
}

const struct ib_bind *ib_bind_of(const struct ib_bind_table *t, const struct ib_bind_key *key)
{
	const struct cslot *s = find_client(t, key, key_hash(t, key));

	return s ? find_addr(t, s->addr) : NULL;
}

/* Whether slot j, whose home is home, may move back to the hole at i: not
 * when its home lies cyclically in (i, j]. */
static bool may_shift(size_t i, size_t j, size_t home)
{
	return (j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j));
}

static void cslot_delete(struct ib_bind_table *t, struct cslot *s)
{
	size_t i = (size_t)(s - t->cs), j = i;

	t->cs[i].used = false;
	for (;;) {
		j = (j + 1) & (t->cap - 1);
		if (!t->cs[j].used)
			return;
		if (may_shift(i, j, t->cs[j].key_hash & (t->cap - 1))) {
			t->cs[i] = t->cs[j];
			t->cs[j].used = false;
			i = j;
		}
	}
}

static void entry_delete(struct ib_bind_table *t, struct ib_bind *e)
{
	size_t i = (size_t)(e - t->e), j = i;

	t->e[i].state = 0;
	t->n--;
	for (;;) {
		j = (j + 1) & (t->cap - 1);
		if (t->e[j].state == 0)
			return;
		if (may_shift(i, j, addr_home(t, t->e[j].addr))) {
			t->e[i] = t->e[j];
			t->e[j].state = 0;
			i = j;
		}
	}
}

void ib_bind_remove(struct ib_bind_table *t, const uint8_t addr[16])
{
	struct ib_bind *e = find_addr(t, addr);
	struct cslot *s;

	if (!e)
		return;
	s = find_client(t, &e->key, e->key_hash);
	if (s && memcmp(s->addr, addr, 16) == 0)
		cslot_delete(t, s);
	entry_delete(t, e);
}

int ib_bind_set_state(struct ib_bind_table *t, const uint8_t addr[16], uint8_t state,
		      int64_t expires)
{
	struct ib_bind *e = find_addr(t, addr);

	if (!e || state == 0)
		return -ENOENT;
	e->state = state;
	e->expires = expires;
	return 0;
}

static void insert_entry(struct ib_bind_table *t, const struct ib_bind *src)
{
	size_t i = addr_home(t, src->addr);

	while (t->e[i].state != 0)
		i = (i + 1) & (t->cap - 1);
	t->e[i] = *src;
	t->n++;
}

static void insert_slot(struct ib_bind_table *t, uint64_t h, const uint8_t addr[16])
{
	size_t k = h & (t->cap - 1);

	while (t->cs[k].used)
		k = (k + 1) & (t->cap - 1);
	t->cs[k].key_hash = h;
	memcpy(t->cs[k].addr, addr, 16);
	t->cs[k].used = true;
}

/* Doubles both tables; on -ENOMEM they are as they were. */
static int grow(struct ib_bind_table *t)
{
	struct ib_bind *old = t->e, *ne = calloc(t->cap * 2, sizeof(*ne));
	struct cslot *olds = t->cs, *ns = calloc(t->cap * 2, sizeof(*ns));
	size_t old_cap = t->cap;

	if (!ne || !ns) {
		free(ne);
		free(ns);
		return -ENOMEM;
	}
	t->e = ne;
	t->cs = ns;
	t->cap = old_cap * 2;
	t->n = 0;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].state != 0)
			insert_entry(t, &old[i]);
		if (olds[i].used)
			insert_slot(t, olds[i].key_hash, olds[i].addr);
	}
	free(old);
	free(olds);
	return 0;
}

int ib_bind_put(struct ib_bind_table *t, const struct ib_bind *b, bool own)
{
	struct ib_bind e = *b;
	struct cslot *s;

	if (e.state == 0)
		return -EINVAL;
	e.key_hash = key_hash(t, &e.key);
	ib_bind_remove(t, e.addr);
	if ((t->n + 1) * 2 > t->cap && grow(t) < 0) {
		ib_bind_table_clear(t);
		return -ENOMEM;
	}
	insert_entry(t, &e);
	if (!own)
		return 0;
	/* the key's slot names its older binding, if it has one: now this */
	s = find_client(t, &e.key, e.key_hash);
	if (s)
		memcpy(s->addr, e.addr, 16);
	else
		insert_slot(t, e.key_hash, e.addr);
	return 0;
}
