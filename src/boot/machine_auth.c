/*
 * Who may read a machine's boot script and install configs: see
 * machine_auth.h.  Pure: the facts come from the HTTP shell.
 */
#include "boot/machine_auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

/* The journal's word and the 403's words for each outcome. */
static const struct {
	const char *name;		/* journal "auth" */
	const char *text;		/* 403 body, after "forbidden: " */
} how_table[IB_MACHINE_AUTH_N_HOW] = {
	[IB_MACHINE_AUTH_LEASE4] = { "lease4", "authorized by the DHCPv4 lease" },
	[IB_MACHINE_AUTH_LEASE6] = { "lease6", "authorized by the DHCPv6 binding" },
	[IB_MACHINE_AUTH_RESERVATION] = { "reservation", "authorized by a reservation" },
	[IB_MACHINE_AUTH_NEIGHBOUR] = { "neighbour", "authorized by the neighbour table" },
	[IB_MACHINE_AUTH_TOKEN] = { "token", "authorized by the machine's token" },
	[IB_MACHINE_AUTH_REFUSED_OTHER] = { "other-machine",
		"this address is another machine's (by its lease, reservation or "
		"neighbour entry); fetch from the machine's own address, or pass its token" },
	[IB_MACHINE_AUTH_REFUSED_UNBOUND] = { "unbound",
		"no lease, reservation or neighbour entry ties this address to the machine "
		"asked for; fetch from the machine's own address, or pass its token" },
	[IB_MACHINE_AUTH_REFUSED_TOKEN] = { "wrong-token",
		"the token is not the machine's, and this address is not the machine's" },
	[IB_MACHINE_AUTH_REFUSED_NO_MAC] = { "no-machine",
		"no mac in the query, and no lease, reservation or neighbour entry names "
		"the machine holding this address" },
};

const char *ib_machine_auth_name(enum ib_machine_auth_how how)
{
	return how < IB_MACHINE_AUTH_N_HOW ? how_table[how].name : "?";
}

const char *ib_machine_auth_text(enum ib_machine_auth_how how)
{
	return how < IB_MACHINE_AUTH_N_HOW ? how_table[how].text : "?";
}

/* What the source address resolves to: the first of ironboot's own
 * records that names a MAC, else the neighbour entry. */
struct resolved {
	const char *mac;		/* the machine of the address, or NULL */
	enum ib_machine_auth_how how;	/* by which fact */
	bool matched;			/* a fact names the MAC asked for */
};

static void resolve(const struct ib_machine_auth_facts *f, struct resolved *ret)
{
	const struct {
		const char *mac;
		enum ib_machine_auth_how how;
	} own[] = {
		{ f->lease4, IB_MACHINE_AUTH_LEASE4 },
		{ f->lease6, IB_MACHINE_AUTH_LEASE6 },
		{ f->reserved, IB_MACHINE_AUTH_RESERVATION },
	};

	*ret = (struct resolved){ 0 };
	for (size_t i = 0; i < IB_ARRAY_SIZE(own) && !ret->matched; i++) {
		if (!own[i].mac[0])
			continue;
		if (!ret->mac || (f->asked && strcmp(f->asked, own[i].mac) == 0)) {
			ret->mac = own[i].mac;
			ret->how = own[i].how;
		}
		ret->matched = f->asked && strcmp(f->asked, own[i].mac) == 0;
	}
	/* the link layer speaks only for addresses ironboot has no record of */
	if (!ret->mac && f->neighbour[0]) {
		ret->mac = f->neighbour;
		ret->how = IB_MACHINE_AUTH_NEIGHBOUR;
		ret->matched = f->asked && strcmp(f->asked, f->neighbour) == 0;
	}
}

void ib_machine_auth_decide(const struct ib_machine_auth_facts *f, struct ib_machine_auth *ret)
{
	struct resolved res;
	const char *mac = NULL;

	resolve(f, &res);
	*ret = (struct ib_machine_auth){ 0 };
	if (f->asked ? res.matched : res.mac != NULL) {
		ret->authorized = true;
		ret->how = res.how;
		mac = f->asked ? f->asked : res.mac;
	} else if (f->asked && f->token_given && f->token_ok) {
		ret->authorized = true;
		ret->how = IB_MACHINE_AUTH_TOKEN;
	} else if (!f->asked) {
		ret->how = IB_MACHINE_AUTH_REFUSED_NO_MAC;
	} else if (f->token_given) {
		ret->how = IB_MACHINE_AUTH_REFUSED_TOKEN;
	} else {
		ret->how = res.mac ? IB_MACHINE_AUTH_REFUSED_OTHER : IB_MACHINE_AUTH_REFUSED_UNBOUND;
	}
	if (f->asked)
		mac = f->asked;
	ret->serve = ret->authorized || !f->strict;
	snprintf(ret->mac, sizeof(ret->mac), "%s", mac ? mac : "");
}

int ib_machine_auth_reserved4(const struct ib_config *cfg, uint32_t addr, char *ret)
{
	ret[0] = '\0';
	for (size_t i = 0; i < cfg->dhcp4.n_subnets; i++) {
		const struct ib_subnet4 *s = &cfg->dhcp4.subnets[i];

		if ((addr & s->mask) != s->network)
			continue;
		for (size_t j = 0; j < s->n_reservations; j++) {
			const struct ib_reservation4 *r = &s->reservations[j];

			if (r->has_mac && r->address == addr) {
				ib_mac_format(r->mac, 6, ret, IB_BOOT_MAC_STRLEN);
				return 0;
			}
		}
	}
	return -ENOENT;
}

int ib_machine_auth_reserved6(const struct ib_config *cfg, const uint8_t addr6[16], char *ret)
{
	ret[0] = '\0';
	for (size_t i = 0; i < cfg->dhcp6.n_subnets; i++) {
		const struct ib_subnet6 *s = &cfg->dhcp6.subnets[i];

		for (size_t j = 0; j < s->n_reservations; j++) {
			const struct ib_reservation6 *r = &s->reservations[j];

			if (r->has_mac && memcmp(r->address, addr6, 16) == 0) {
				ib_mac_format(r->mac, 6, ret, IB_BOOT_MAC_STRLEN);
				return 0;
			}
		}
	}
	return -ENOENT;
}
