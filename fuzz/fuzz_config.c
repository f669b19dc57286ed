/*
 * libFuzzer target for the configuration loader.
 *
 * Loads the input as a config file.  A rejected file must leave one
 * NUL-terminated message naming the file; an accepted one must hold the
 * invariants config.h promises (pools and reservations inside their
 * subnet, t1 < t2 < lease_time, subnets found by ib_config_subnet_for),
 * and is freed.  Any broken property aborts; leaks are LeakSanitizer's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_subnet(const struct ib_config *cfg, const struct ib_subnet4 *s)
{
	CHECK(s->prefix_len <= 32);
	CHECK((s->network & ~s->mask) == 0);
	CHECK(ib_config_subnet_for(cfg, s->network) == s);
	CHECK(ib_config_subnet_for(cfg, s->network | ~s->mask) == s);
	CHECK(s->t1 < s->t2 && s->t2 < s->lease_time);
	for (size_t i = 0; i < s->n_pools; i++) {
		CHECK(s->pools[i].start <= s->pools[i].end);
		CHECK(ib_config_subnet_for(cfg, s->pools[i].start) == s);
		CHECK(ib_config_subnet_for(cfg, s->pools[i].end) == s);
	}
	for (size_t i = 0; i < s->n_reservations; i++) {
		const struct ib_reservation4 *r = &s->reservations[i];

		CHECK(r->has_mac || r->client_id_len >= 2);
		CHECK(ib_config_subnet_for(cfg, r->address) == s);
		CHECK(!r->hostname || strlen(r->hostname) > 0);
	}
	for (size_t i = 0; i < s->n_domain_search; i++)
		CHECK(s->domain_search[i] && strlen(s->domain_search[i]) > 0);
}

static void check_config(const struct ib_config *cfg)
{
	CHECK(cfg->path && strcmp(cfg->path, "fuzz.yaml") == 0);
	CHECK(cfg->server.state_dir && cfg->server.state_dir[0] == '/');
	CHECK(cfg->tftp.root && cfg->tftp.root[0] == '/');
	CHECK(cfg->tftp.max_per_client <= cfg->tftp.max_transfers);
	CHECK(cfg->dhcp4.port && cfg->dhcp4.client_port && cfg->dhcp4.proxy_port);
	CHECK(cfg->dhcp4.n_subnets <= 4096);
	for (size_t i = 0; i < cfg->dhcp4.n_subnets; i++)
		check_subnet(cfg, &cfg->dhcp4.subnets[i]);
	for (size_t i = 0; i < cfg->dhcp4.n_interfaces; i++)
		CHECK(cfg->dhcp4.interfaces[i] && cfg->dhcp4.interfaces[i][0]);
	for (size_t i = 0; i < cfg->tftp.n_listen; i++)
		CHECK(cfg->tftp.listen[i] && cfg->tftp.listen[i][0]);
}

/* BMC entries: one per MAC, each a complete struct ib_bmc (power.h). */
static void check_bmcs(const struct ib_config *cfg)
{
	for (size_t i = 0; i < cfg->n_bmcs; i++) {
		const struct ib_bmc_config *b = &cfg->bmcs[i];

		CHECK(ib_config_bmc_for(cfg, b->mac) == b);
		CHECK(b->bmc.name[0] && b->bmc.address[0] && b->bmc.credential[0]);
		CHECK(b->bmc.cipher_suite == 3 || b->bmc.cipher_suite == 17);
		CHECK(b->bmc.timeout_ms > 0);
		CHECK(b->bmc.driver == IB_BMC_IPMI || b->bmc.driver == IB_BMC_REDFISH);
	}
	CHECK(cfg->power.concurrency >= 1 && cfg->power.concurrency <= IB_POWER_WORKERS_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ib_config *cfg = NULL;
	char err[IB_CONFIG_ERRLEN + 1];
	int r;

	memset(err, 'x', sizeof(err));
	r = ib_config_load_buffer("fuzz.yaml", data, size, &cfg, err);
	CHECK(err[IB_CONFIG_ERRLEN] == 'x');		/* stayed inside its buffer */
	if (r < 0) {
		CHECK(cfg == NULL);
		CHECK(memchr(err, '\0', IB_CONFIG_ERRLEN) != NULL);
		CHECK(strncmp(err, "fuzz.yaml:", 10) == 0);
		return 0;
	}
	check_config(cfg);
	check_bmcs(cfg);
	ib_config_free(cfg);
	return 0;
}
