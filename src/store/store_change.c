/*
 * A change notification's payload, as store_pg_notify.c's triggers write
 * it (store_watch.h).  The text comes from the database, which every
 * daemon and operator tool sharing it can write to: parsed strictly,
 * anything else refused.
 */
#include "store/store_listen.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A decimal as the database prints one: digits, no sign, no blank, no
 * leading zero, at most 19 of them; 0 and *ret, or -EBADMSG. */
static int decimal(const char *s, uint64_t *ret)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 19 || s[n] || (s[0] == '0' && n > 1))
		return -EBADMSG;
	*ret = strtoull(s, NULL, 10);
	return 0;
}

int ib_store_change_parse(const char *p, struct ib_store_change *ret)
{
	uint64_t v;
	size_t n = 0;

	if (!p[0] || p[1] != ' ')
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	switch (p[0]) {
	case '4':
		if (decimal(p + 2, &v) < 0 || v > UINT32_MAX)
			return -EBADMSG;
		ret->topic = IB_STORE_TOPIC_LEASE4;
		ret->addr4 = (uint32_t)v;
		return 0;
	case '6':
		if (strlen(p + 2) != 32 || ib_hex_parse(p + 2, ret->addr6, 16, &n) < 0 || n != 16)
			return -EBADMSG;
		ret->topic = IB_STORE_TOPIC_LEASE6;
		return 0;
	case 'i':
		ret->topic = IB_STORE_TOPIC_INVENTORY;
		return 0;
	case 'm':
		if (decimal(p + 2, &v) < 0 || v > INT64_MAX)
			return -EBADMSG;
		ret->machine_id = (int64_t)v;
		ret->topic = IB_STORE_TOPIC_MACHINE;
		return 0;
	default:
		return -EBADMSG;
	}
}

