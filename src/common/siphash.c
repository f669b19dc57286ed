/* SipHash-2-4: see siphash.h.  Written from the paper's description. */
#include "common/siphash.h"

#include <errno.h>
#include <sys/random.h>

static uint64_t rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* One SipRound over the four state words. */
static void round_(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

static void compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	round_(v);
	round_(v);
	v[0] ^= m;
}

uint64_t ib_siphash(const uint8_t key[IB_SIPHASH_KEY_LEN], const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
			  k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull };
	uint64_t last = (uint64_t)n << 56;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8)
		compress(v, le64(p + i));
	for (size_t j = 0; i + j < n; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	compress(v, last);
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		round_(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

int ib_siphash_key_random(uint8_t key[IB_SIPHASH_KEY_LEN])
{
	ssize_t r = getrandom(key, IB_SIPHASH_KEY_LEN, 0);

	if (r < 0)
		return -errno;
	return r == IB_SIPHASH_KEY_LEN ? 0 : -EIO;
}
