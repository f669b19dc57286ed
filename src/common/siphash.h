/*
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed hash for tables whose
 * keys come from the network (MACs, client identifiers, DUIDs).  With a
 * random key per table, a hostile client cannot pick keys that collide into
 * one bucket and turn every lookup into a walk of the whole table.
 */
#ifndef IB_COMMON_SIPHASH_H
#define IB_COMMON_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define IB_SIPHASH_KEY_LEN 16

/* The 64-bit SipHash-2-4 of p[0..n) under key. */
uint64_t ib_siphash(const uint8_t key[IB_SIPHASH_KEY_LEN], const void *p, size_t n);

/* Fills key from the kernel's random pool (getrandom); 0 or -errno. */
int ib_siphash_key_random(uint8_t key[IB_SIPHASH_KEY_LEN]);

#endif
