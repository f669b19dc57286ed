/*
 * The binding table (bind_table.h): two open-addressing tables, by address
 * and by client key tag -> address, linear probing, backward-shift
 * deletion (no tombstones).  Slots are of the table's width: a narrow
 * table's address lives in the slot's head, a wide table's after it.
 */
#include "dhcp/bind_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"

#define KEY_INLINE 24			/* key bytes kept inside a slot */
#define CAP_MIN 1024			/* slots of a new table */
#define CAP_MAX ((size_t)1 << 31)	/* a client slot's tag is 32 bits */

/* A slot of the address table; state 0 = empty.  40 bytes. */
struct slot {
	uint8_t state;			/* the family's state; 0 = empty */
	uint8_t pad_;			/* (unused) */
	uint16_t key_len;		/* bytes of the holder's key */
	uint8_t a4[4];			/* a narrow table's address */
	int64_t expires;		/* unix seconds */
	union {
		uint8_t in[KEY_INLINE];	/* key_len <= KEY_INLINE */
		uint8_t *out;		/* else: allocated, owned by the slot */
	} key;				/* the holder's key */
};

_Static_assert(sizeof(struct slot) == 40, "a narrow slot grew past 40 bytes");

/* A wide table's slot: the head, then what only DHCPv6 keeps.  64 bytes. */
struct slot_wide {
	struct slot s;			/* state, key, expiry */
	int64_t since;			/* the holder's last write */
	uint8_t a16[16];		/* the address */
};

/*
 * A client slot is the low 32 bits of the key's hash (tag), then the
 * address of the key's own binding (all zero: an empty slot), packed at
 * 4 + addr_len bytes; the binding is verified against the key.
 */
struct ib_bind_table {
	uint8_t *e;			/* address table, cap slots of e_size */
	uint8_t *cs;			/* client table, cap slots of c_size */
	size_t e_size;			/* bytes of an address slot */
	size_t c_size;			/* bytes of a client slot */
	size_t alen;			/* bytes of an address: 4 or 16 */
	size_t cap;			/* slots in each table, power of two */
	size_t n;			/* bindings filed */
	ib_bind_watch_fn watch;		/* told every state change, or NULL */
	void *watch_ctx;		/* its context */
	uint8_t key[IB_SIPHASH_KEY_LEN]; /* random: keys and addresses come from the wire */
};

static struct slot *slot_at(const struct ib_bind_table *t, size_t i)
{
	return (struct slot *)(void *)(t->e + i * t->e_size);
}

static uint8_t *slot_addr(const struct ib_bind_table *t, struct slot *s)
{
	return t->alen == 4 ? s->a4 : ((struct slot_wide *)s)->a16;
}

static const uint8_t *slot_key(const struct slot *s)
{
	return s->key_len <= KEY_INLINE ? s->key.in : s->key.out;
}

static uint8_t *cs_at(const struct ib_bind_table *t, size_t i)
{
	return t->cs + i * t->c_size;
}

static uint32_t cs_tag(const uint8_t *c)
{
	uint32_t v;

	memcpy(&v, c, 4);
	return v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool cs_used(const struct ib_bind_table *t, const uint8_t *c)
{
	return !all_zero(c + 4, t->alen);
}

static size_t addr_home(const struct ib_bind_table *t, const uint8_t *a)
{
	return (size_t)ib_siphash(t->key, a, t->alen) & (t->cap - 1);
}

static uint32_t key_tag(const struct ib_bind_table *t, const uint8_t *k, size_t len)
{
	return (uint32_t)ib_siphash(t->key, k, len);
}

static void tell(const struct ib_bind_table *t, const uint8_t *a, uint8_t was, uint8_t now)
{
	if (t->watch && was != now)
		t->watch(t->watch_ctx, a, was, now);
}

/*
 * Writes one byte of each page of a fresh calloc() block.  A large block
 * is mapped lazily: the probes' first read of a page maps the shared zero
 * page, and the write after it faults again to copy it, flushing the TLB
 * of every CPU the other threads run on.  Written first, each page faults
 * once, cheaply.  (A million leases: about half a second less at start.)
 */
static void touch_pages(void *p, size_t n)
{
	volatile uint8_t *b = p;

	for (size_t i = 0; i < n; i += 4096)
		b[i] = 0;
}

/* Both tables with cap slots, empty, into *e and *cs; 0 or -ENOMEM. */
static int tables_alloc(const struct ib_bind_table *t, size_t cap, uint8_t **e, uint8_t **cs)
{
	*e = calloc(cap, t->e_size);
	*cs = calloc(cap, t->c_size);
	if (!*e || !*cs) {
		free(*e);
		free(*cs);
		return -ENOMEM;
	}
	touch_pages(*e, cap * t->e_size);
	touch_pages(*cs, cap * t->c_size);
	return 0;
}

int ib_bind_table_new(size_t addr_len, struct ib_bind_table **ret)
{
	struct ib_bind_table *t;

	if (addr_len != 4 && addr_len != 16)
		return -EINVAL;
	if (!(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	if (ib_siphash_key_random(t->key) < 0) {
		free(t);
		return -EIO;
	}
	t->alen = addr_len;
	t->e_size = addr_len == 4 ? sizeof(struct slot) : sizeof(struct slot_wide);
	t->c_size = 4 + addr_len;
	t->cap = CAP_MIN;
	if (tables_alloc(t, t->cap, &t->e, &t->cs) < 0) {
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

static void slot_key_free(struct slot *s)
{
	if (s->key_len > KEY_INLINE)
		free(s->key.out);
	s->key_len = 0;
}

void ib_bind_table_clear(struct ib_bind_table *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct slot *s = slot_at(t, i);

		if (s->state == 0)
			continue;
		tell(t, slot_addr(t, s), s->state, 0);
		slot_key_free(s);
	}
	memset(t->e, 0, t->cap * t->e_size);
	memset(t->cs, 0, t->cap * t->c_size);
	t->n = 0;
}

void ib_bind_table_free(struct ib_bind_table *t)
{
	if (!t)
		return;
	t->watch = NULL;
	ib_bind_table_clear(t);
	free(t->e);
	free(t->cs);
	free(t);
}

size_t ib_bind_table_count(const struct ib_bind_table *t)
{
	return t->n;
}

void ib_bind_table_watch(struct ib_bind_table *t, ib_bind_watch_fn fn, void *ctx)
{
	t->watch = fn;
	t->watch_ctx = ctx;
}

static struct slot *find_addr(const struct ib_bind_table *t, const uint8_t *a)
{
	for (size_t i = addr_home(t, a);; i = (i + 1) & (t->cap - 1)) {
		struct slot *s = slot_at(t, i);

		if (s->state == 0)
			return NULL;
		if (memcmp(slot_addr(t, s), a, t->alen) == 0)
			return s;
	}
}

static bool slot_held_by(const struct slot *s, const uint8_t *k, size_t len)
{
	return s->key_len == len && memcmp(slot_key(s), k, len) == 0;
}

/* The client slot naming key k's own binding, or NULL. */
static uint8_t *find_client(const struct ib_bind_table *t, const uint8_t *k, size_t len,
			    uint32_t tag)
{
	for (size_t i = tag & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		uint8_t *c = cs_at(t, i);
		const struct slot *s;

		if (!cs_used(t, c))
			return NULL;
		if (cs_tag(c) != tag)
			continue;
		s = find_addr(t, c + 4);
		if (s && slot_held_by(s, k, len))
			return c;
	}
}

static void answer(const struct ib_bind_table *t, struct slot *s, struct ib_bind *ret)
{
	memset(ret->addr, 0, sizeof(ret->addr));
	memcpy(ret->addr, slot_addr(t, s), t->alen);
	ret->state = s->state;
	ret->expires = s->expires;
	ret->since = t->alen == 4 ? 0 : ((struct slot_wide *)s)->since;
	ret->key = slot_key(s);
	ret->key_len = s->key_len;
}

bool ib_bind_get(const struct ib_bind_table *t, const uint8_t *addr, struct ib_bind *ret)
{
	struct slot *s = find_addr(t, addr);

	if (s)
		answer(t, s, ret);
	return s != NULL;
}

bool ib_bind_of(const struct ib_bind_table *t, const uint8_t *key, size_t key_len,
		struct ib_bind *ret)
{
	const uint8_t *c = find_client(t, key, key_len, key_tag(t, key, key_len));

	return c && ib_bind_get(t, c + 4, ret);
}

bool ib_bind_held_by(const struct ib_bind *b, const uint8_t *key, size_t key_len)
{
	return b->key_len == key_len && memcmp(b->key, key, key_len) == 0;
}

/* Whether slot j, whose home is home, may move back to the hole at i: not
 * when its home lies cyclically in (i, j]. */
static bool may_shift(size_t i, size_t j, size_t home)
{
	return (j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j));
}

static void cslot_delete(struct ib_bind_table *t, uint8_t *c)
{
	size_t i = (size_t)(c - t->cs) / t->c_size, j = i;

	memset(cs_at(t, i), 0, t->c_size);
	for (;;) {
		j = (j + 1) & (t->cap - 1);
		if (!cs_used(t, cs_at(t, j)))
			return;
		if (may_shift(i, j, cs_tag(cs_at(t, j)) & (t->cap - 1))) {
			memcpy(cs_at(t, i), cs_at(t, j), t->c_size);
			memset(cs_at(t, j), 0, t->c_size);
			i = j;
		}
	}
}

/* Empties s's slot (its key already freed), shifting its run back. */
static void slot_delete(struct ib_bind_table *t, struct slot *s)
{
	size_t i = (size_t)((uint8_t *)s - t->e) / t->e_size, j = i;

	memset(s, 0, t->e_size);
	t->n--;
	for (;;) {
		struct slot *sj;

		j = (j + 1) & (t->cap - 1);
		sj = slot_at(t, j);
		if (sj->state == 0)
			return;
		if (may_shift(i, j, addr_home(t, slot_addr(t, sj)))) {
			memcpy(slot_at(t, i), sj, t->e_size);
			memset(sj, 0, t->e_size);
			i = j;
		}
	}
}

/* Forgets s: its client slot if that names it, its key, its slot. */
static void remove_slot(struct ib_bind_table *t, struct slot *s, uint8_t next_state)
{
	uint8_t a[16];
	uint8_t *c = find_client(t, slot_key(s), s->key_len,
				 key_tag(t, slot_key(s), s->key_len));

	memcpy(a, slot_addr(t, s), t->alen);
	if (c && memcmp(c + 4, a, t->alen) == 0)
		cslot_delete(t, c);
	tell(t, a, s->state, next_state);
	slot_key_free(s);
	slot_delete(t, s);
}

void ib_bind_remove(struct ib_bind_table *t, const uint8_t *addr)
{
	struct slot *s = find_addr(t, addr);

	if (s)
		remove_slot(t, s, 0);
}

int ib_bind_set_state(struct ib_bind_table *t, const uint8_t *addr, uint8_t state,
		      int64_t expires)
{
	struct slot *s = find_addr(t, addr);

	if (!s || state == 0)
		return -ENOENT;
	tell(t, addr, s->state, state);
	s->state = state;
	s->expires = expires;
	return 0;
}

/* Files a slot's bytes (its key moves with them) under its address. */
static void insert_raw(struct ib_bind_table *t, const struct slot *src)
{
	size_t i = addr_home(t, slot_addr(t, (struct slot *)src));

	while (slot_at(t, i)->state != 0)
		i = (i + 1) & (t->cap - 1);
	memcpy(slot_at(t, i), src, t->e_size);
	t->n++;
}

static void insert_cslot(struct ib_bind_table *t, uint32_t tag, const uint8_t *addr)
{
	size_t k = tag & (t->cap - 1);
	uint8_t *c;

	while (cs_used(t, cs_at(t, k)))
		k = (k + 1) & (t->cap - 1);
	c = cs_at(t, k);
	memcpy(c, &tag, 4);
	memcpy(c + 4, addr, t->alen);
}

/* Moves everything into tables of cap slots; the client slots keep their
 * tags, the slots their keys.  0 or -ENOMEM (then nothing changed). */
static int resize(struct ib_bind_table *t, size_t cap)
{
	struct ib_bind_table old = *t;

	if (cap > CAP_MAX || tables_alloc(t, cap, &t->e, &t->cs) < 0) {
		t->e = old.e;
		t->cs = old.cs;
		return -ENOMEM;
	}
	t->cap = cap;
	t->n = 0;
	for (size_t i = 0; i < old.cap; i++) {
		const struct slot *s = slot_at(&old, i);
		const uint8_t *c = cs_at(&old, i);

		if (s->state != 0)
			insert_raw(t, s);
		if (cs_used(&old, c))
			insert_cslot(t, cs_tag(c), c + 4);
	}
	free(old.e);
	free(old.cs);
	return 0;
}

int ib_bind_table_reserve(struct ib_bind_table *t, size_t n)
{
	size_t cap = t->cap;

	while (n * 2 > cap && cap <= CAP_MAX)
		cap *= 2;
	return cap == t->cap ? 0 : resize(t, cap);
}

/* The slot of b in buf (its key allocated when long); 0 or -ENOMEM. */
static int make_slot(const struct ib_bind_table *t, const struct ib_bind *b, uint8_t *buf)
{
	struct slot *s = (struct slot *)(void *)buf;
	uint8_t *p = s->key.in;

	memset(buf, 0, t->e_size);
	if (b->key_len > KEY_INLINE && !(p = s->key.out = malloc(b->key_len)))
		return -ENOMEM;
	memcpy(p, b->key, b->key_len);
	s->key_len = b->key_len;
	s->state = b->state;
	s->expires = b->expires;
	memcpy(slot_addr(t, s), b->addr, t->alen);
	if (t->alen == 16)
		((struct slot_wide *)s)->since = b->since;
	return 0;
}

int ib_bind_put(struct ib_bind_table *t, const struct ib_bind *b, bool own)
{
	_Alignas(8) uint8_t buf[sizeof(struct slot_wide)];
	struct slot *old;
	uint8_t told = 0, *c;		/* the state the watcher was last told */
	uint32_t tag;

	if (b->state == 0 || b->key_len > IB_BIND_KEY_MAX || all_zero(b->addr, t->alen))
		return -EINVAL;
	if ((old = find_addr(t, b->addr))) {
		remove_slot(t, old, b->state);
		told = b->state;
	}
	if (ib_bind_table_reserve(t, t->n + 1) < 0 || make_slot(t, b, buf) < 0) {
		tell(t, b->addr, told, 0);
		return -ENOMEM;
	}
	tell(t, b->addr, told, b->state);
	insert_raw(t, (struct slot *)(void *)buf);
	if (!own)
		return 0;
	/* the key's slot names its older binding, if it has one: now this */
	tag = key_tag(t, b->key, b->key_len);
	if ((c = find_client(t, b->key, b->key_len, tag)))
		memcpy(c + 4, b->addr, t->alen);
	else
		insert_cslot(t, tag, b->addr);
	return 0;
}

size_t ib_bind_drop_if(struct ib_bind_table *t,
		       bool (*drop)(void *ctx, const struct ib_bind *b), void *ctx)
{
	struct ib_bind b;
	size_t n = 0;

	/* a deletion at i shifts a later slot (or one seen before, wrapped
	 * round) into i: i is looked at again, so none is missed */
	for (size_t i = 0; i < t->cap;) {
		struct slot *s = slot_at(t, i);

		if (s->state == 0) {
			i++;
			continue;
		}
		answer(t, s, &b);
		if (!drop(ctx, &b)) {
			i++;
			continue;
		}
		remove_slot(t, s, 0);
		n++;
	}
	return n;
}

void ib_bind_foreach(const struct ib_bind_table *t,
		     void (*fn)(void *ctx, const struct ib_bind *b), void *ctx)
{
	struct ib_bind b;

	for (size_t i = 0; i < t->cap; i++) {
		struct slot *s = slot_at(t, i);

		if (s->state != 0) {
			answer(t, s, &b);
			fn(ctx, &b);
		}
	}
}
