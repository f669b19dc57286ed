/*
 * The hold ledger: the addresses that OFFERs (DHCPv4) and ADVERTISEs
 * (DHCPv6) hold, filed by subnet and by the source the request came
 * through (a relay or an interface), oldest first.  It answers the two
 * questions a pool under a flood asks (issue #11): how many holds has one
 * source taken (the per-source cap), and which hold is the oldest (the one
 * a new client takes over when the pool is short).
 *
 * Family-neutral and used by both shells' caches, so it lives beside the
 * DHCPv4 cache only because src/dhcp4 is built first: an address is 16
 * bytes (IPv4 as ::ffff:a.b.c.d), a subnet is named by its network
 * address, a source is an opaque 64-bit value the policies make.  The
 * owner keeps the holds themselves (client, state) and tells the ledger of
 * every change; the ledger keeps no client identity.  Pure: no I/O and no
 * clock (`now` is passed in).
 */
#ifndef IB_DHCP4_HOLD_LEDGER_H
#define IB_DHCP4_HOLD_LEDGER_H

#include <stddef.h>
#include <stdint.h>

/* Sources past the group table's room share this one (per subnet). */
#define IB_LEDGER_SOURCE_OTHER UINT64_MAX
#define IB_LEDGER_GROUPS 256		/* (subnet, source) groups tracked at once */

/* Where a hold was taken. */
struct ib_ledger_group {
	uint8_t subnet[16];		/* network address of its subnet */
	uint64_t source;		/* the relay or interface it came through */
};

struct ib_ledger;

/* A ledger of at most cap holds.  0, -ENOMEM or -EIO (no random key). */
int ib_ledger_new(size_t cap, struct ib_ledger **ret);
/* Frees; accepts NULL. */
void ib_ledger_free(struct ib_ledger *l);
/* Forgets every hold. */
void ib_ledger_clear(struct ib_ledger *l);

/*
 * Records a hold on addr in group g, taken at since and live until until,
 * replacing any hold on addr.  0, or -ENOSPC when the ledger or its group
 * table is full (the hold is then not recorded: it is neither counted nor
 * taken over, and expires as usual).
 */
int ib_ledger_add(struct ib_ledger *l, const uint8_t addr[16], const struct ib_ledger_group *g,
		  int64_t since, int64_t until);
/* Forgets the hold on addr, if any. */
void ib_ledger_remove(struct ib_ledger *l, const uint8_t addr[16]);
/* Live holds (until > now) of group g. */
size_t ib_ledger_count(struct ib_ledger *l, const struct ib_ledger_group *g, int64_t now);
/*
 * The oldest live hold in subnet: of that source, or of any source when
 * source is NULL.  0 and *ret_addr, or -ENOENT.
 */
int ib_ledger_oldest(struct ib_ledger *l, const uint8_t subnet[16], const uint64_t *source,
		     int64_t now, uint8_t ret_addr[16]);
/* Holds recorded, expired ones not yet trimmed included (for tests). */
size_t ib_ledger_size(const struct ib_ledger *l);

/* The sources the policies name (kind in the top byte). */
static inline uint64_t ib_ledger_source_relay4(uint32_t relay)
{
	return 1ull << 56 | relay;
}

static inline uint64_t ib_ledger_source_link(int ifindex)
{
	return 2ull << 56 | (uint32_t)ifindex;
}

/* A DHCPv6 relay by its link-address (folded; a collision only merges
 * two relays' caps). */
static inline uint64_t ib_ledger_source_relay6(const uint8_t link[16])
{
	uint64_t v = 0;

	for (int i = 0; i < 16; i++)
		v = (v << 8 | v >> 56) ^ link[i];
	return 3ull << 56 | (v & ((1ull << 56) - 1));
}

/* An IPv4 address (host order) as the ledger's 16 bytes. */
void ib_ledger_addr4(uint32_t a, uint8_t ret[16]);
/* The IPv4 address of a ledger address made by ib_ledger_addr4(). */
uint32_t ib_ledger_to4(const uint8_t a[16]);

#endif
