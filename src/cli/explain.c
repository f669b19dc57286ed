/*
 * `ironboot explain --mac M [--arch A] [--user-class iPXE] [--uuid U]
 *                   [--vendor-class V] [--giaddr RELAY] [--server ADDR]
 *                   [--hostname H] [--serial S] [--buildarch B] [--platform P]`
 *
 * Builds the DISCOVER that firmware (and then iPXE) would send, runs it
 * through ib_dhcp4_decide() with the lease cache loaded from the store, and
 * prints each stage's answer and the rule behind it.  Then the HTTP stage:
 * the boot script request iPXE makes, through ib_boot_plan() and the
 * script render the HTTP server uses.  iPXE's ${buildarch} and ${platform}
 * follow from --arch unless given; ${hostname} is the reservation's (DHCP
 * option 12) unless given.  With DHCPv6 configured, its two stages follow
 * (explain6.c); last, the router advertisements on each boot link, and
 * whether a client there waits for IPv6 before it boots.
 */
#include "cli/explain.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "dhcp4/dhcp4_codec.h"
#include "dhcp4/dhcp4_leases.h"
#include "dhcp4/dhcp4_policy.h"
#include "boot/boot_plan.h"

/* What the operator told us about the machine. */
struct machine {
	uint8_t mac[6];
	int arch;			/* -1 = firmware sends none */
	const char *vendor_class;	/* NULL = derived from arch */
	const char *uuid;		/* text, for the output only */
	uint32_t giaddr;		/* relay, 0 = local link */
	uint32_t server;		/* our address on the link */
	const char *hostname;		/* iPXE ${hostname}, or NULL */
	const char *serial;		/* iPXE ${serial}, or NULL */
	const char *buildarch;		/* iPXE ${buildarch}, NULL = from arch */
	const char *platform;		/* iPXE ${platform}, NULL = from arch */
};

/* The HTTP stage: the boot script request. */
struct http_stage {
	struct ib_boot_plan plan;	/* group, profile, why */
	json_t *values;			/* template context */
	struct ib_tpl_out out;		/* rendered script */
	int r;				/* render result */
	char err[IB_BOOT_ERRLEN];	/* why the render failed */
};

/* One stage's answer. */
struct stage {
	const char *name;		/* "firmware" or "ipxe" */
	struct ib_dhcp4_decision d;
};

static void build_discover(const struct machine *mc, bool ipxe, struct ib_dhcp4_msg *ret)
{
	struct ib_dhcp4_sample smp = { .arch = mc->arch, .vendor_class = mc->vendor_class,
				       .ipxe = ipxe, .giaddr = mc->giaddr };

	memcpy(smp.mac, mc->mac, 6);
	if (ib_dhcp4_sample_discover(&smp, ret) < 0)
		abort();	/* our own well-formed message: cannot fail */
}

static void print_stage(const struct stage *s)
{
	char ip[IB_IP4_STRLEN] = "-";

	if (s->d.address)
		ib_ip4_format(s->d.address, ip);
	printf("%-9s DHCP   %-6s address %-15s boot %-9s %s\n", s->name,
	       s->d.action == IB_D4_DROP ? "silent" : "answer", ip,
	       ib_boot_client_str(s->d.boot.client), s->d.boot.file ? s->d.boot.file : "-");
	printf("          why: %s; boot rule: %s\n", s->d.reason ? s->d.reason : "-",
	       s->d.boot.why ? s->d.boot.why : "-");
}

static json_t *stage_json(const struct stage *s)
{
	char ip[IB_IP4_STRLEN] = "";

	if (s->d.address)
		ib_ip4_format(s->d.address, ip);
	return json_pack("{s:s, s:b, s:s, s:s, s:s?, s:s?, s:s?}", "stage", s->name,
			 "answered", s->d.action != IB_D4_DROP, "address", ip,
			 "boot", ib_boot_client_str(s->d.boot.client), "file", s->d.boot.file,
			 "reason", s->d.reason, "boot_rule", s->d.boot.why);
}

static int parse_args(int argc, char **argv, struct machine *mc)
{
	static const struct option opts[] = {
		{ "mac", required_argument, NULL, 'm' },
		{ "arch", required_argument, NULL, 'a' },
		{ "user-class", required_argument, NULL, 'u' },
		{ "vendor-class", required_argument, NULL, 'v' },
		{ "uuid", required_argument, NULL, 'U' },
		{ "giaddr", required_argument, NULL, 'g' },
		{ "server", required_argument, NULL, 's' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "serial", required_argument, NULL, 'S' },
		{ "buildarch", required_argument, NULL, 'B' },
		{ "platform", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_mac = false;
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "m:a:u:v:U:g:s:H:S:B:P:", opts, NULL)) != -1) {
		char *end;

		switch (o) {
		case 'm': have_mac = ib_mac_parse(optarg, mc->mac) == 0; break;
		case 'a':
			mc->arch = (int)strtol(optarg, &end, 10);
			if (*end || mc->arch < 0 || mc->arch > 0xffff)
				return -EINVAL;
			break;
		case 'u': break;	/* both stages are always shown */
		case 'v': mc->vendor_class = optarg; break;
		case 'U': mc->uuid = optarg; break;
		case 'g': if (ib_ip4_parse(optarg, &mc->giaddr) < 0) return -EINVAL; break;
		case 's': if (ib_ip4_parse(optarg, &mc->server) < 0) return -EINVAL; break;
		case 'H': mc->hostname = optarg; break;
		case 'S': mc->serial = optarg; break;
		case 'B': mc->buildarch = optarg; break;
		case 'P': mc->platform = optarg; break;
		default: return -EINVAL;
		}
	}
	return have_mac ? 0 : -EINVAL;
}

/* Our address on the machine's link: --server, else the subnet's router/first address. */
static uint32_t default_server(const struct ib_config *cfg, const struct machine *mc)
{
	const struct ib_subnet4 *sn = cfg->dhcp4.n_subnets ? &cfg->dhcp4.subnets[0] : NULL;

	if (mc->server)
		return mc->server;
	if (mc->giaddr)
		sn = ib_config_subnet_for(cfg, mc->giaddr);
	if (sn && sn->n_routers)
		return sn->routers[0];
	return sn ? sn->network + 1 : 0;
}

/* iPXE's ${buildarch} and ${platform} for a client architecture (RFC 4578
 * 2.1 / IANA processor architecture types); BIOS runs undionly (i386). */
static void ipxe_arch(int arch, const char **ret_arch, const char **ret_platform)
{
	static const struct { int arch; const char *build, *platform; } t[] = {
		{ 6, "i386", "efi" }, { 7, "x86_64", "efi" }, { 9, "x86_64", "efi" },
		{ 10, "arm32", "efi" }, { 11, "arm64", "efi" }, { 16, "x86_64", "efi" },
		{ 19, "arm64", "efi" },
	};

	*ret_arch = "i386";
	*ret_platform = "pcbios";
	for (size_t i = 0; i < IB_ARRAY_SIZE(t); i++) {
		if (t[i].arch == arch) {
			*ret_arch = t[i].build;
			*ret_platform = t[i].platform;
		}
	}
}

static void http_run(const struct ib_config *cfg, const struct machine *mc,
		     const struct stage *ipxe, struct http_stage *h)
{
	struct ib_facts f = { .uuid = mc->uuid, .hostname = mc->hostname, .serial = mc->serial };
	const char *arch, *platform;

	ipxe_arch(mc->arch, &arch, &platform);
	f.arch = mc->buildarch ? mc->buildarch : arch;
	f.platform = mc->platform ? mc->platform : platform;
	if (!f.hostname && ipxe->d.resv)
		f.hostname = ipxe->d.resv->hostname;
	ib_mac_format(mc->mac, 6, f.mac, sizeof(f.mac));
	ib_tpl_out_init(&h->out, 0);
	h->r = ib_boot_plan(cfg, &f, &h->plan);
	if (h->r < 0) {
		snprintf(h->err, sizeof(h->err), "a request fact is longer than %d bytes",
			 IB_BOOT_FACT_MAX);
		return;
	}
	h->values = ib_boot_values(cfg, &f, &h->plan);
	h->r = h->values ? ib_boot_render_script(cfg, &h->plan, h->values, &h->out, h->err)
			 : -ENOMEM;
	if (!h->values)
		snprintf(h->err, sizeof(h->err), "out of memory");
}

static void print_http(const struct http_stage *h)
{
	const json_t *initrds = h->values ? json_object_get(h->values, "initrd_urls") : NULL;
	const char *kernel = h->values ?
		json_string_value(json_object_get(h->values, "kernel_url")) : NULL;
	const json_t *u;
	size_t i;

	printf("%-9s HTTP   %-6s group %s profile %s\n", "script", h->r == 0 ? "answer" : "422",
	       h->plan.group ? h->plan.group->name : "-",
	       h->plan.profile ? h->plan.profile->name : "-");
	printf("          why: %s\n", h->plan.why);
	if (h->plan.profile && h->plan.profile->boot == IB_BOOT_KERNEL && kernel)
		printf("          kernel %s\n", kernel);
	json_array_foreach(initrds, i, u)
		printf("          initrd %s\n", json_string_value(u));
	if (h->r < 0) {
		printf("          script refused: %s\n", h->err);
		return;
	}
	printf("          script:\n");
	for (const char *l = h->out.buf; *l;) {
		size_t n = strcspn(l, "\n");

		printf("            %.*s\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
}

static json_t *http_json(const struct http_stage *h)
{
	json_t *v = h->values;

	return json_pack("{s:s, s:s?, s:s?, s:s, s:O?, s:O?, s:s?, s:s?}", "stage", "script",
			 "group", h->plan.group ? h->plan.group->name : NULL,
			 "profile", h->plan.profile ? h->plan.profile->name : NULL,
			 "why", h->plan.why,
			 "kernel_url", v ? json_object_get(v, "kernel_url") : NULL,
			 "initrd_urls", v ? json_object_get(v, "initrd_urls") : NULL,
			 "script", h->r == 0 ? h->out.buf : NULL,
			 "error", h->r < 0 ? h->err : NULL);
}

int ib_cli_explain(const struct ib_config *cfg, struct ib_store *store, bool json,
		   int argc, char **argv)
{
	static struct http_stage http;
	struct machine mc = { .arch = -1 };
	struct stage st[2] = { { .name = "firmware" }, { .name = "ipxe" } };
	struct ib_d4_leases *cache;
	struct ib_lease_view view;
	static struct ib_dhcp4_msg msg;
	int64_t now = ib_now_sec();

	if (parse_args(argc, argv, &mc) < 0) {
		fprintf(stderr, "usage: ironboot explain --mac MAC [--arch N] [--user-class iPXE] "
			"[--vendor-class V] [--uuid U] [--giaddr RELAY] [--server ADDR] "
			"[--hostname H] [--serial S] [--buildarch B] [--platform P]\n");
		return 2;
	}
	if (ib_d4_leases_new(&cache) < 0 || ib_d4_leases_load(cache, store, cfg, now, NULL) < 0) {
		fprintf(stderr, "ironboot: cannot read leases\n");
		return 1;
	}
	ib_d4_leases_view(cache, &now, &view);
	for (size_t i = 0; i < 2; i++) {
		struct ib_dhcp4_input in = { .cfg = cfg, .msg = &msg,
			.server_addr = default_server(cfg, &mc), .now = now, .view = &view };

		build_discover(&mc, i == 1, &msg);
		ib_dhcp4_decide(&in, &st[i].d);
		/* The firmware's binding is what iPXE asks for next. */
		if (st[i].d.address) {
			struct ib_d4_key k;

			ib_d4_key_from_msg(&msg, &k);
			ib_d4_leases_set(cache, st[i].d.address, IB_D4_BOUND, &k,
					 now + st[i].d.lease_time);
		}
	}
	ib_d4_leases_free(cache);
	http_run(cfg, &mc, &st[1], &http);
	if (json) {
		json_t *o = json_pack("{s:o}", "stages",
				      json_pack("[o,o,o]", stage_json(&st[0]), stage_json(&st[1]),
						http_json(&http)));

		if (o && cfg->dhcp6.enabled)
			json_object_set_new(o, "stages6",
					    ib_cli_explain6(cfg, store, mc.mac, mc.arch, false));
		if (o)
			json_object_set_new(o, "router_advertisements",
					    ib_cli_explain_ra(cfg, store, mc.giaddr != 0, false));

		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		if (mc.uuid)
			printf("machine uuid %s\n", mc.uuid);
		print_stage(&st[0]);
		print_stage(&st[1]);
		print_http(&http);
		if (cfg->dhcp6.enabled)
			json_decref(ib_cli_explain6(cfg, store, mc.mac, mc.arch, true));
		json_decref(ib_cli_explain_ra(cfg, store, mc.giaddr != 0, true));
	}
	json_decref(http.values);
	ib_tpl_out_done(&http.out);
	return 0;
}
