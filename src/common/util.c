/* Pure helpers: see util.h. */
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char hex_digits[] = "0123456789abcdef";

/* Hand-rolled: the journal formats a MAC per event. */
void ib_mac_format(const uint8_t *mac, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < len && o + 3 + (i > 0) <= outlen; i++) {
		if (i)
			out[o++] = ':';
		out[o++] = hex_digits[mac[i] >> 4];
		out[o++] = hex_digits[mac[i] & 15];
	}
	out[o] = '\0';
}

int ib_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ib_mac_parse(const char *s, uint8_t ret[6])
{
	uint8_t mac[6];
	char sep = s[0] && s[1] ? s[2] : '\0';

	/* one separator throughout, as ib_http_mac_normalize() accepts: the
	 * API must not store a MAC that the boot routes refuse */
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = ib_hex_digit(s[0]), lo = hi < 0 ? -1 : ib_hex_digit(s[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5) {
			if (*s != sep)
				return -EINVAL;
			s++;
		}
	}
	if (*s)
		return -EINVAL;
	memcpy(ret, mac, 6);
	return 0;
}

void ib_ip4_format(uint32_t a, char *out)
{
	char *p = out;

	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned v = (a >> shift) & 0xff;

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		if (shift)
			*p++ = '.';
	}
	*p = '\0';
}

void ib_ip6_format(const uint8_t a[16], char *out)
{
	static const char hex[] = "0123456789abcdef";
	int best = -1, best_len = 0, cur = -1;
	unsigned w[8];
	char *p = out;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	/* the longest run of zero words, the first of equal ones; two or more */
	for (int i = 0; i <= 8; i++) {
		if (i < 8 && w[i] == 0) {
			if (cur < 0)
				cur = i;
		} else if (cur >= 0) {
			if (i - cur > best_len) {
				best = cur;
				best_len = i - cur;
			}
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		/* ::a.b.c.d and ::ffff:a.b.c.d (IPv4-compatible, -mapped) */
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			ib_ip4_format((uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
				      (uint32_t)a[14] << 8 | a[15], p);
			return;
		}
		for (int shift = 12, started = 0; shift >= 0; shift -= 4) {
			unsigned d = w[i] >> shift & 0xf;

			if (d || started || shift == 0) {
				*p++ = hex[d];
				started = 1;
			}
		}
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	*p = '\0';
}

int ib_ip4_parse(const char *s, uint32_t *ret)
{
	struct in_addr in;

	/* inet_pton: exactly four decimal octets, no leading zeros. */
	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*ret = ntohl(in.s_addr);
	return 0;
}

uint32_t ib_prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

bool ib_addr_in_prefix(const uint8_t *addr, const uint8_t *prefix, unsigned len)
{
	size_t whole = len / 8;

	if (memcmp(addr, prefix, whole) != 0)
		return false;
	return len % 8 == 0 || ((addr[whole] ^ prefix[whole]) & (0xff00u >> (len % 8)) & 0xff) == 0;
}

int ib_cidr4_parse(const char *s, uint32_t *ret_net, uint8_t *ret_len)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	uint32_t a;
	unsigned len = 0;
	int digits = 0;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (ib_ip4_parse(buf, &a) < 0)
		return -EINVAL;
	for (s = slash + 1; *s >= '0' && *s <= '9' && digits < 3; s++, digits++)
		len = len * 10 + (unsigned)(*s - '0');
	if (*s || digits == 0 || len > 32)
		return -EINVAL;
	if (a & ~ib_prefix_mask((uint8_t)len))
		return -EINVAL;	/* host bits set: say what you mean */
	*ret_net = a;
	*ret_len = (uint8_t)len;
	return 0;
}

void ib_hex_format(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	const char *digits = hex_digits;
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < len && o + 2 < outlen; i++) {
		out[o++] = digits[p[i] >> 4];
		out[o++] = digits[p[i] & 15];
	}
	out[o] = '\0';
}

int ib_hex_parse(const char *s, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t n = 0;

	while (*s) {
		int hi, lo;

		if (*s == ':' || *s == '-') {
			s++;
			continue;
		}
		hi = ib_hex_digit(s[0]);
		lo = hi < 0 ? -1 : ib_hex_digit(s[1]);
		if (hi < 0 || lo < 0 || n >= cap)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	*ret_len = n;
	return 0;
}

void ib_str_sanitize(const uint8_t *src, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = src[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outlen)
				break;
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		}
	}
	out[o] = '\0';
}

int64_t ib_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ib_now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t ib_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool ib_dns_label_char_ok(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

int ib_dns_name_check(const char *name, size_t *ret_len)
{
	size_t len = strlen(name), label = 0;

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > IB_DNS_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if (!ib_dns_label_char_ok((unsigned char)name[i]) ||
			   ++label > IB_DNS_LABEL_MAX) {
			return -EINVAL;
		}
	}
	if (label == 0)
		return -EINVAL;
	*ret_len = len;
	return 0;
}

int ib_duid_mac(const uint8_t *duid, size_t len, uint8_t ret_mac[6])
{
	size_t off;

	if (len == 14 && duid[0] == 0 && duid[1] == 1)
		off = 8;			/* type, hardware type, time */
	else if (len == 10 && duid[0] == 0 && duid[1] == 3)
		off = 4;			/* type, hardware type */
	else
		return -ENOENT;
	if (duid[2] != 0 || duid[3] != 1)	/* IANA ARP hardware type 1 */
		return -ENOENT;
	memcpy(ret_mac, duid + off, 6);
	return 0;
}
