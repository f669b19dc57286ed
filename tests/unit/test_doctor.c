/*
 * The doctor's rules (src/doctor), table-driven: each machine rule gets a
 * journal that shows its failure (and a healthy boot shows none); the
 * boot-file classifier gets the PE headers and bad downloads it must tell
 * apart; each setup rule gets a host whose facts break it, and a clean one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "doctor/doctor.h"

#define T0 1764950400LL		/* 2025-12-05 16:00:00Z, seconds */
#define MAC "52:54:00:00:00:30"

#define HEAD \
	"server: { state_dir: /tmp/ib-doctor-unit }\n" \
	"dhcp4:\n" \
	"  interfaces: [srv0]\n" \
	"  subnets:\n" \
	"    - { subnet: 198.18.0.0/24, pools: [{ start: 198.18.0.100, end: 198.18.0.199 }] }\n" \
	"dhcp6:\n" \
	"  subnets:\n" \
	"    - { subnet: \"fd00:b007::/64\", interface: srv0,\n" \
	"        pools: [{ start: \"fd00:b007::1000\", end: \"fd00:b007::1fff\" }] }\n" \
	"tftp: { root: /tftp }\n" \
	"lifecycle: { agent_kernel: agent/vmlinuz, agent_initrd: agent/initrd.img }\n"
#define HTTP "http: { listen: [198.18.0.1], assets: /assets }\n"
#define BOOT_URLS \
	"http_x64: \"http://198.18.0.1:8080/assets/ipxe.efi\", " \
	"http6_x64: \"http://[fd00:b007::1]:8080/assets/ipxe.efi\", " \
	"ipxe_script6: \"http://[fd00:b007::1]:8080/boot.ipxe\""
#define BOOT "boot: { bios: undionly.kpxe, efi_x64: ipxe.efi, " BOOT_URLS ", " \
	"ipxe_script: \"http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}\" }\n"
#define PROFILES \
	"profiles:\n" \
	"  - { name: linux, kernel: vmlinuz, initrd: [initrd.img] }\n" \
	"  - { name: disk, boot: local }\n"
#define GROUPS \
	"groups:\n" \
	"  - { name: local, profile: disk, selector: { mac: \"52:54:00:00:00:20\" } }\n" \
	"  - { name: default, profile: linux }\n"

#define GROUPS_DEFAULT "groups:\n  - { name: default, profile: linux }\n"

static const char cfg_yaml[] = HEAD HTTP BOOT PROFILES GROUPS;

static struct ib_config *load(const char *yaml)
{
	struct ib_config *cfg = NULL;
	char err[IB_CONFIG_ERRLEN];

	if (ib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err) < 0)
		fail_msg("load failed: %s", err);
	return cfg;
}

/* ---- files ---- */

/* A PE image header: machine, optional-header magic, one section whose raw
 * data ends at raw_end; written into buf (at least 512 bytes). */
static size_t make_pe(uint8_t *buf, uint16_t machine, uint16_t magic, uint32_t raw_end)
{
	const uint32_t pe = 0x80, opt = 0xf0, sec = pe + 24 + opt;

	memset(buf, 0, 512);
	buf[0] = 'M';
	buf[1] = 'Z';
	memcpy(buf + 0x3c, &(uint32_t){ pe }, 4);	/* little-endian host */
	memcpy(buf + pe, "PE\0\0", 4);
	memcpy(buf + pe + 4, &machine, 2);
	memcpy(buf + pe + 6, &(uint16_t){ 1 }, 2);
	memcpy(buf + pe + 20, &(uint16_t){ (uint16_t)opt }, 2);
	memcpy(buf + pe + 24, &magic, 2);
	memcpy(buf + sec + 16, &(uint32_t){ raw_end - 0x400 }, 4);	/* SizeOfRawData */
	memcpy(buf + sec + 20, &(uint32_t){ 0x400 }, 4);		/* PointerToRawData */
	return 512;
}

static void test_classify(void **state)
{
	static const struct {
		const char *name;
		uint16_t machine, magic;	/* 0: not a PE */
		const char *text;		/* or these bytes */
		uint64_t size;			/* the file's size */
		enum ib_doctor_file_kind want;
		int fw;				/* a firmware it suits, or -1 */
		int bad_fw;			/* one it does not suit */
	} t[] = {
		{ "x64", 0x8664, 0x20b, NULL, 0x10000, IB_DF_PE_X64, IB_DFW_EFI_X64, IB_DFW_BIOS },
		{ "arm64", 0xaa64, 0x20b, NULL, 0x10000, IB_DF_PE_ARM64, IB_DFW_EFI_ARM64,
		  IB_DFW_EFI_X64 },
		{ "ia32", 0x14c, 0x10b, NULL, 0x10000, IB_DF_PE_IA32, IB_DFW_EFI_IA32,
		  IB_DFW_EFI_X64 },
		{ "x64 cut short", 0x8664, 0x20b, NULL, 0x2000, IB_DF_PE_TRUNCATED, -1,
		  IB_DFW_EFI_X64 },
		{ "riscv", 0x5064, 0x20b, NULL, 0x10000, IB_DF_PE_OTHER, -1, IB_DFW_EFI_X64 },
		{ "html", 0, 0, "\n  <!DOCTYPE html><html><body>404 Not Found</body></html>", 60,
		  IB_DF_HTML, -1, IB_DFW_BIOS },
		{ "html lower", 0, 0, "<html><head><title>Error</title>", 40, IB_DF_HTML, -1,
		  IB_DFW_EFI_X64 },
		{ "pxe nbp", 0, 0, "\xeb\x3c\x90undionly-ish", 70000, IB_DF_OTHER, IB_DFW_BIOS,
		  IB_DFW_EFI_X64 },
		{ "empty", 0, 0, "", 0, IB_DF_EMPTY, -1, IB_DFW_BIOS },
	};
	uint8_t buf[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len;
		const char *why;
		enum ib_doctor_file_kind k;

		if (t[i].machine) {
			len = make_pe(buf, t[i].machine, t[i].magic, 0x8000);
		} else {
			len = strlen(t[i].text);
			memcpy(buf, t[i].text, len);
		}
		k = ib_doctor_file_classify(buf, len, t[i].size);
		if (k != t[i].want)
			fail_msg("%s: kind %d, want %d", t[i].name, k, t[i].want);
		if (t[i].fw >= 0 && !ib_doctor_file_suits(k, (enum ib_doctor_firmware)t[i].fw, &why))
			fail_msg("%s: refused for %d: %s", t[i].name, t[i].fw, why);
		if (ib_doctor_file_suits(k, (enum ib_doctor_firmware)t[i].bad_fw, &why))
			fail_msg("%s: accepted for %d", t[i].name, t[i].bad_fw);
	}
}

/* ---- machine rules ---- */

/* An event: seconds after T0, protocol, kind, detail. */
struct ev {
	int s;
	const char *proto, *kind, *detail;
};

#define DISC_OFFER "{\"decision\":\"offer\",\"arch\":7,\"address\":\"198.18.0.100\"," \
	"\"boot\":\"pxe\",\"file\":\"ipxe.efi\",\"next_server\":\"198.18.0.1\"}"
#define REQ_ACK "{\"decision\":\"ack\",\"arch\":7,\"address\":\"198.18.0.100\"," \
	"\"boot\":\"pxe\",\"file\":\"ipxe.efi\",\"next_server\":\"198.18.0.1\"}"
#define REQ_ACK_BIOS "{\"decision\":\"ack\",\"arch\":0,\"boot\":\"pxe\"," \
	"\"file\":\"ipxe.efi\",\"next_server\":\"198.18.0.1\"}"
#define IPXE_ACK "{\"decision\":\"ack\",\"arch\":7,\"user_class\":\"iPXE\",\"boot\":\"ipxe\"," \
	"\"file\":\"http://198.18.0.1:8080/boot.ipxe\"}"
#define IPXE_ACK_FILE "{\"decision\":\"ack\",\"arch\":7,\"user_class\":\"iPXE\"," \
	"\"boot\":\"ipxe\",\"file\":\"ipxe.efi\"}"
#define TFTP_OK "{\"file\":\"ipxe.efi\",\"bytes\":1000,\"result\":\"ok\"}"
#define SCRIPT_OK "{\"path\":\"/boot.ipxe\",\"status\":200,\"group\":\"default\"," \
	"\"profile\":\"linux\"}"

#define FIRMWARE { 0, "dhcp4", "discover", DISC_OFFER }, { 1, "dhcp4", "request", REQ_ACK }

struct mac_case {
	const char *name;
	struct ev ev[12];
	int now;		/* seconds after T0 */
	const char *want;	/* rule ids found, space-separated, in order */
	const char *cause_has;	/* a word the first cause holds, or NULL */
};

static const struct mac_case mac_cases[] = {
	{ "nothing at all", { { 0 } }, 60, "never-seen", NULL },
	{ "a healthy boot", { FIRMWARE, { 2, "tftp", "transfer", TFTP_OK },
	  { 5, "dhcp4", "discover", IPXE_ACK }, { 6, "dhcp4", "request", IPXE_ACK },
	  { 7, "http", "script", SCRIPT_OK },
	  { 8, "http", "asset", "{\"path\":\"/assets/vmlinuz\",\"status\":200}" },
	  { 9, "http", "asset", "{\"path\":\"/assets/initrd.img\",\"status\":200}" } },
	  600, "", NULL },
	{ "offers, no request", { { 0, "dhcp4", "discover", DISC_OFFER },
	  { 4, "dhcp4", "discover", DISC_OFFER },
	  { 14, "dhcp4", "discover", "{\"repeated\":5,\"last_us\":1764950420000000}" } },
	  60, "offer-no-request", "OFFER(s)" },
	{ "one offer, just now", { { 0, "dhcp4", "discover", DISC_OFFER } }, 2, "", NULL },
	{ "advertises, no request", { { 0, "dhcp6", "solicit",
	  "{\"decision\":\"advertise\",\"arch\":7,\"file\":\"tftp://[fd00:b007::1]/ipxe.efi\"}" },
	  { 3, "dhcp6", "solicit",
	  "{\"decision\":\"advertise\",\"arch\":7,\"file\":\"tftp://[fd00:b007::1]/ipxe.efi\"}" } },
	  60, "offer-no-request", "ADVERTISE(s)" },
	{ "relayed from an unknown link", { { 0, "dhcp4", "discover",
	  "{\"decision\":\"ignore\",\"giaddr\":\"198.18.5.1\","
	  "\"reason\":\"no subnet configured for this link\"}" } },
	  60, "relay-no-subnet", NULL },
	{ "ack, no tftp", { FIRMWARE }, 60, "ack-no-tftp", "TFTP" },
	{ "ack, tftp just now", { FIRMWARE }, 3, "", NULL },
	{ "chainload loop, no iPXE dhcp", { FIRMWARE, { 2, "tftp", "transfer", TFTP_OK },
	  { 10, "dhcp4", "discover", DISC_OFFER }, { 11, "dhcp4", "request", REQ_ACK },
	  { 12, "tftp", "transfer", TFTP_OK }, { 20, "dhcp4", "discover", DISC_OFFER },
	  { 21, "dhcp4", "request", REQ_ACK }, { 22, "tftp", "transfer", TFTP_OK } },
	  60, "chainload-loop", "no DHCP request carries user class iPXE" },
	{ "chainload loop, iPXE handed the file", { FIRMWARE, { 2, "tftp", "transfer", TFTP_OK },
	  { 5, "dhcp4", "discover", IPXE_ACK_FILE }, { 6, "dhcp4", "request", IPXE_ACK_FILE },
	  { 7, "tftp", "transfer", TFTP_OK } },
	  60, "chainload-loop", "handed the first-stage file" },
	{ "tftp times out", { FIRMWARE, { 9, "tftp", "transfer-failed",
	  "{\"file\":\"ipxe.efi\",\"bytes\":65464,\"tsize\":1000000,\"blksize\":1468,"
	  "\"retransmits\":5,\"error\":\"no ACK after 5 retransmits\"}" } },
	  60, "tftp-failed", "timed out" },
	{ "tftp file missing", { FIRMWARE, { 2, "tftp", "transfer-failed",
	  "{\"file\":\"ipxe.efi\",\"error\":\"file not found\"}" } },
	  60, "tftp-failed", "not under tftp.root" },
	/* refused unverified (a refused client never ACKs: issue #11): a
	 * warning that says so, never an error, and no "lost on the way" */
	{ "tftp refused, unverified", { FIRMWARE, { 2, "tftp", "transfer-failed",
	  "{\"unverified\":1,\"file\":\"grub/typo.efi\",\"client\":\"198.18.0.100\","
	  "\"error\":\"file not found\"}" } },
	  60, "tftp-refused-unverified", "unverified (source address only): 1 refused" },
	{ "tftp refused unverified, then it went on", { FIRMWARE, { 2, "tftp",
	  "transfer-failed", "{\"unverified\":1,\"file\":\"x.efi\",\"error\":\"file not found\"}" },
	  { 3, "tftp", "transfer", TFTP_OK }, { 5, "dhcp4", "discover", IPXE_ACK },
	  { 6, "dhcp4", "request", IPXE_ACK }, { 7, "http", "script", SCRIPT_OK },
	  { 8, "http", "asset", "{\"path\":\"/assets/vmlinuz\",\"status\":200}" },
	  { 9, "http", "asset", "{\"path\":\"/assets/initrd.img\",\"status\":200}" } },
	  600, "", NULL },
	{ "tftp never answered, unverified: not a refusal, not seen", { FIRMWARE, { 2, "tftp",
	  "transfer-failed", "{\"unverified\":1,\"file\":\"ipxe.efi\","
	  "\"error\":\"no ACK after 5 retransmits\"}" } },
	  60, "ack-no-tftp", "TFTP" },
	{ "kernel 404", { FIRMWARE, { 2, "tftp", "transfer", TFTP_OK },
	  { 5, "dhcp4", "request", IPXE_ACK }, { 7, "http", "script", SCRIPT_OK },
	  { 8, "http", "asset", "{\"path\":\"/assets/vmlinuz\",\"status\":404}" } },
	  60, "http-missing", "kernel /assets/vmlinuz of profile linux" },
	{ "script 422", { FIRMWARE, { 2, "tftp", "transfer", TFTP_OK },
	  { 5, "dhcp4", "request", IPXE_ACK }, { 7, "http", "script",
	  "{\"path\":\"/boot.ipxe\",\"status\":422,\"group\":\"default\",\"profile\":\"linux\","
	  "\"error\":\"cannot render: hostname\"}" } },
	  60, "http-missing", "profile linux" },
	{ "no group", { FIRMWARE, { 2, "tftp", "transfer", TFTP_OK },
	  { 5, "dhcp4", "request", IPXE_ACK },
	  { 7, "http", "script", "{\"path\":\"/boot.ipxe\",\"status\":200}" } },
	  60, "no-group", NULL },
	{ "dhcp6 without bootfile-url", { { 0, "dhcp6", "solicit",
	  "{\"decision\":\"advertise\",\"arch\":11,\"reason\":\"free address\"}" },
	  { 1, "dhcp6", "request", "{\"decision\":\"reply\",\"arch\":11}" } },
	  60, "dhcp6-no-bootfile", "bootfile-url" },
	{ "boot from disk ignored (lifecycle)", { { 0, "machine", "local-boot-ignored",
	  "{\"by\":\"http\",\"from\":\"installed\",\"to\":\"installed\"}" } },
	  60, "local-boot-ignored", NULL },
	{ "boot from disk ignored (local profile)", { FIRMWARE,
	  { 2, "tftp", "transfer", TFTP_OK }, { 5, "dhcp4", "request", IPXE_ACK },
	  { 7, "http", "script", "{\"path\":\"/boot.ipxe\",\"status\":200,\"group\":\"local\","
	  "\"profile\":\"disk\"}" }, { 30, "dhcp4", "discover", DISC_OFFER },
	  { 31, "dhcp4", "request", REQ_ACK }, { 32, "tftp", "transfer", TFTP_OK },
	  { 35, "dhcp4", "request", IPXE_ACK }, { 37, "http", "script",
	  "{\"path\":\"/boot.ipxe\",\"status\":200,\"group\":\"local\",\"profile\":\"disk\"}" } },
	  120, "local-boot-ignored", NULL },
	{ "agent never reported", { FIRMWARE, { 2, "tftp", "transfer", TFTP_OK },
	  { 5, "dhcp4", "request", IPXE_ACK }, { 7, "http", "script", SCRIPT_OK },
	  { 8, "http", "asset", "{\"path\":\"/assets/agent/vmlinuz\",\"status\":200}" } },
	  900, "agent-silent", NULL },
	{ "agent fetched, then netbooted again", { { 8, "http", "asset",
	  "{\"path\":\"/assets/agent/initrd.img\",\"status\":200}" },
	  { 50, "dhcp4", "discover", DISC_OFFER }, { 51, "dhcp4", "request", REQ_ACK },
	  { 52, "tftp", "transfer", TFTP_OK } }, 60, "agent-silent", "netbooted again" },
	{ "agent reported", { { 8, "http", "asset",
	  "{\"path\":\"/assets/agent/vmlinuz\",\"status\":200}" },
	  { 40, "http", "api", "{\"path\":\"/api/v1/agent/report\",\"status\":200}" } },
	  900, "", NULL },
	/* a refused report (another host spoofing the machine's agent) is
	 * journalled under the MAC it names, but is not the agent reporting */
	{ "agent call refused", { { 8, "http", "asset",
	  "{\"path\":\"/assets/agent/vmlinuz\",\"status\":200}" },
	  { 40, "http", "api", "{\"path\":\"/api/v1/agent/report\",\"status\":403}" } },
	  900, "agent-silent", NULL },
	{ "lifecycle step failed", { { 0, "machine", "fail",
	  "{\"by\":\"agent\",\"from\":\"wiping\",\"to\":\"failed\",\"step\":\"wipe\","
	  "\"reason\":\"BLKDISCARD failed\"}" } },
	  60, "lifecycle-failed", "wipe failed: BLKDISCARD failed" },
	{ "a reason with control bytes, scrubbed", { { 0, "machine", "fail",
	  "{\"by\":\"agent\",\"step\":\"wipe\",\"reason\":\"I/O error\\n\\u001b[2J\"}" } },
	  60, "lifecycle-failed", "wipe failed: I/O error??[2J" },
	{ "summaries past a long, times before 1970", { { 0, "dhcp4", "discover",
	  "{\"decision\":\"ignore\",\"giaddr\":\"198.18.5.1\",\"reason\":\"no subnet\","
	  "\"repeated\":9223372036854775807,\"last_us\":-9223372036854775807}" },
	  { 1, "dhcp4", "discover", "{\"repeated\":9223372036854775807}" } },
	  60, "relay-no-subnet", "2000000000 DHCPv4 request(s)" },
	{ "a failure reset since", { { 0, "machine", "fail",
	  "{\"by\":\"agent\",\"step\":\"wipe\",\"reason\":\"x\"}" },
	  { 9, "machine", "reset", "{\"by\":\"api\",\"from\":\"failed\",\"to\":\"discovered\"}" } },
	  60, "", NULL },
	{ "bios handed a PE", { { 0, "dhcp4", "request", REQ_ACK_BIOS },
	  { 1, "tftp", "transfer", TFTP_OK } }, 60, "bootfile-invalid", "not valid" },
};

/* The test probe: ipxe.efi is a PE32+ x64 image, anything else missing. */
static int fake_probe(void *ctx, const char *root, const char *name,
		      struct ib_doctor_file *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!root)			/* a URL: none answers */
		return 0;
	if (strcmp(name, "ipxe.efi") == 0 || strcmp(name, "vmlinuz") == 0 ||
	    strcmp(name, "initrd.img") == 0 || strcmp(name, "undionly.kpxe") == 0 ||
	    strncmp(name, "agent/", 6) == 0) {
		ret->exists = true;
		ret->size = 0x10000;
		if (strcmp(name, "undionly.kpxe") == 0) {
			memcpy(ret->head, "\xeb\x3c\x90nbp", 6);
			ret->head_len = 6;
		} else {
			ret->head_len = make_pe(ret->head, 0x8664, 0x20b, 0x8000);
		}
	}
	if (ctx && strcmp(name, ctx) == 0) {	/* the file this case breaks */
		ret->exists = true;
		ret->size = 6;
		memcpy(ret->head, "<html>", 6);
		ret->head_len = 6;
	}
	return 0;
}

static void rules_found(const struct ib_doctor_report *r, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->n && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? " " : "", r->v[i].rule);
}

static void test_mac_rules(void **state)
{
	struct ib_config *cfg = load(cfg_yaml);
	static struct ib_doctor_report rep;

	for (size_t i = 0; i < sizeof(mac_cases) / sizeof(mac_cases[0]); i++) {
		const struct mac_case *c = &mac_cases[i];
		struct ib_event ev[12];
		size_t n = 0;
		char got[512];

		for (; n < 12 && c->ev[n].proto; n++) {
			memset(&ev[n], 0, sizeof(ev[n]));
			ev[n].ts_us = (T0 + c->ev[n].s) * 1000000LL;
			snprintf(ev[n].mac, sizeof(ev[n].mac), MAC);
			snprintf(ev[n].proto, sizeof(ev[n].proto), "%s", c->ev[n].proto);
			snprintf(ev[n].kind, sizeof(ev[n].kind), "%s", c->ev[n].kind);
			snprintf(ev[n].detail, sizeof(ev[n].detail), "%s", c->ev[n].detail);
		}
		ib_doctor_mac(&(struct ib_doctor_mac_input){ .cfg = cfg, .ev = ev, .n_ev = n,
			      .now_us = (T0 + c->now) * 1000000LL, .probe = fake_probe }, &rep);
		rules_found(&rep, got, sizeof(got));
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: found \"%s\", want \"%s\" (stopped: %s)", c->name, got,
				 c->want, rep.stopped);
		if (c->cause_has && !strstr(rep.v[0].cause, c->cause_has) &&
		    !strstr(rep.v[0].evidence, c->cause_has))
			fail_msg("%s: cause \"%s\" lacks \"%s\"", c->name, rep.v[0].cause,
				 c->cause_has);
		if (rep.n && !rep.v[0].evidence[0])
			fail_msg("%s: no evidence", c->name);
	}
	ib_config_free(cfg);
}

/* A next-server that is not this host's is named at once, without the
 * quiet period a filtered TFTP needs. */
static void test_ack_next_server_elsewhere(void **state)
{
	struct ib_config *cfg = load(cfg_yaml);
	static const char *const details[] = { DISC_OFFER, REQ_ACK };
	struct ib_doctor_addr a = { .ifname = "srv0", .family = AF_INET };
	struct ib_doctor_host h = { .addrs = &a, .n_addrs = 1 };
	struct ib_event ev[2] = { { .proto = "dhcp4", .kind = "discover" },
				  { .proto = "dhcp4", .kind = "request" } };
	static struct ib_doctor_report rep;
	struct ib_doctor_mac_input in = { .cfg = cfg, .ev = ev, .n_ev = 2,
					  .now_us = (T0 + 3) * 1000000LL, .host = &h };

	for (size_t i = 0; i < 2; i++) {
		ev[i].ts_us = (T0 + (int64_t)i) * 1000000LL;
		snprintf(ev[i].detail, sizeof(ev[i].detail), "%s", details[i]);
	}
	inet_pton(AF_INET, "198.18.0.9", a.addr);	/* not the 198.18.0.1 handed out */
	ib_doctor_mac(&in, &rep);
	assert_int_equal(rep.n, 1);
	assert_string_equal(rep.v[0].rule, "ack-no-tftp");
	assert_non_null(strstr(rep.v[0].cause, "not this host"));
	inet_pton(AF_INET, "198.18.0.1", a.addr);	/* ours: wait for the quiet period */
	ib_doctor_mac(&in, &rep);
	assert_int_equal(rep.n, 0);
	ib_config_free(cfg);
}

/* ---- setup rules ---- */

struct setup_case {
	const char *name;
	const char *boot;		/* the boot section, NULL: BOOT */
	const char *profiles;		/* NULL: PROFILES */
	const char *groups;		/* NULL: GROUPS */
	const char *broken_file;	/* the probe serves it as an HTML page */
	bool no_listen;			/* nothing listens */
	uint64_t used;			/* leases in use in the /24's pool of 100 */
	const char *relay_event;	/* a journal event detail, or NULL */
	const char *want;		/* rules of findings above info, in order */
	int status;			/* exit status */
	const char *http;		/* the http section, NULL: HTTP */
};

static const struct setup_case setup_cases[] = {
	{ "clean", NULL, NULL, NULL, NULL, false, 10, NULL, "", 0, NULL },
	{ "not listening", NULL, NULL, NULL, NULL, true, 0, NULL,
	  "service-not-listening service-not-listening service-not-listening "
	  "service-not-listening", 2, NULL },
	{ "next-server elsewhere", "boot: { next_server: 198.18.9.9, bios: undionly.kpxe, "
	  "efi_x64: ipxe.efi, " BOOT_URLS ", ipxe_script: \"http://198.18.0.1:8080/boot.ipxe\" }\n",
	  NULL, NULL, NULL, false, 0, NULL, "address-not-local", 2, NULL },
	{ "script URL on a VIP", "boot: { bios: undionly.kpxe, efi_x64: ipxe.efi, " BOOT_URLS ", "
	  "ipxe_script: \"http://198.18.0.250:8080/boot.ipxe\" }\n",
	  NULL, NULL, NULL, false, 0, NULL, "address-not-local", 2, NULL },
	{ "http listens on an address the host lacks", NULL, NULL, NULL, NULL, false, 0, NULL,
	  "address-not-local", 2,
	  "http: { listen: [198.18.0.1, 198.18.0.77], base_url: \"http://198.18.0.1:8080\", "
	  "assets: /assets }\n" },
	{ "boot file is a web page (TFTP and UEFI HTTP)", NULL, NULL, NULL, "ipxe.efi", false, 0,
	  NULL, "bootfile bootfile", 2, NULL },
	{ "bios file missing", "boot: { bios: nope.kpxe, efi_x64: ipxe.efi, " BOOT_URLS ", "
	  "ipxe_script: \"http://198.18.0.1:8080/boot.ipxe\" }\n",
	  NULL, NULL, NULL, false, 0, NULL, "bootfile", 2, NULL },
	{ "kernel missing", NULL, "profiles:\n  - { name: linux, kernel: gone, initrd: [initrd.img] }\n"
	  "  - { name: disk, boot: local }\n", NULL, NULL, false, 0, NULL, "asset-missing", 2, NULL },
	{ "kernel URL does not answer", NULL, "profiles:\n  - { name: linux, "
	  "kernel: \"http://198.18.0.9/gone\", initrd: [initrd.img] }\n"
	  "  - { name: disk, boot: local }\n", NULL, NULL, false, 0, NULL, "asset-missing", 2, NULL },
	{ "no default group", NULL, NULL, "groups:\n  - { name: local, profile: disk, selector: "
	  "{ mac: \"52:54:00:00:00:20\" } }\nmachines:\n  - { mac: \"52:54:00:00:00:44\" }\n",
	  NULL, false, 0, NULL, "no-default-group", 1, NULL },
	{ "no iPXE script, no BIOS file", "boot: { efi_x64: ipxe.efi, " BOOT_URLS " }\n",
	  NULL, NULL, NULL, false, 0, NULL, "arch-coverage arch-coverage", 2, NULL },
	{ "relay without subnet", NULL, NULL, NULL, NULL, false, 0,
	  "{\"decision\":\"ignore\",\"giaddr\":\"198.18.7.1\","
	  "\"reason\":\"no subnet configured for this link\"}", "relay-no-subnet", 2, NULL },
	{ "pool nearly full", NULL, NULL, NULL, NULL, false, 95, NULL, "pool-exhaustion", 1, NULL },
	{ "pool full", NULL, NULL, NULL, NULL, false, 100, NULL, "pool-exhaustion", 2, NULL },
};

static void test_setup_rules(void **state)
{
	static const struct ib_doctor_listen listen[] = {
		{ true, 67 }, { true, 547 }, { true, 69 }, { false, 8080 },
	};
	struct ib_doctor_addr addrs[2] = { { .ifname = "srv0", .family = AF_INET },
					   { .ifname = "srv0", .family = AF_INET6 } };
	static struct ib_doctor_report rep;
	char yaml[4096];

	inet_pton(AF_INET, "198.18.0.1", addrs[0].addr);
	inet_pton(AF_INET6, "fd00:b007::1", addrs[1].addr);
	for (size_t i = 0; i < sizeof(setup_cases) / sizeof(setup_cases[0]); i++) {
		const struct setup_case *c = &setup_cases[i];
		struct ib_doctor_pool_use pools[1] = { { 100, c->used } };
		struct ib_event ev = { .ts_us = T0 * 1000000LL, .proto = "dhcp4",
				       .kind = "discover" };
		struct ib_doctor_host h = { .addrs = addrs, .n_addrs = 2, .listening = listen,
			.n_listening = c->no_listen ? 0 : 4, .daemon_running = !c->no_listen,
			.pools = pools, .ev = &ev, .n_ev = c->relay_event ? 1 : 0,
			.probe = fake_probe, .probe_ctx = (void *)c->broken_file };
		struct ib_config *cfg;
		char got[512] = "";
		size_t n = 0;

		snprintf(yaml, sizeof(yaml), "%s%s%s%s%s", HEAD, c->http ? c->http : HTTP,
			 c->boot ? c->boot : BOOT,
			 c->profiles ? c->profiles : PROFILES, c->groups ? c->groups : GROUPS);
		cfg = load(yaml);
		if (c->relay_event)
			snprintf(ev.detail, sizeof(ev.detail), "%s", c->relay_event);
		ib_doctor_setup(cfg, &h, &rep);
		for (size_t k = 0; k < rep.n; k++)
			if (rep.v[k].severity > IB_DOCTOR_INFO && n < sizeof(got))
				n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", n ? " " : "",
						      rep.v[k].rule);
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: found \"%s\", want \"%s\" (first: %s)", c->name, got, c->want,
				 rep.n ? rep.v[0].cause : "-");
		if (ib_doctor_status(&rep) != c->status)
			fail_msg("%s: status %d, want %d", c->name, ib_doctor_status(&rep), c->status);
		ib_config_free(cfg);
	}
}

/* A reservation's boot_file is probed too: any firmware, but not a web page. */
static void test_reservation_bootfile(void **state)
{
	static const char yaml[] =
		"server: { state_dir: /tmp/ib-doctor-unit }\n"
		"dhcp4:\n  subnets:\n    - subnet: 198.18.0.0/24\n"
		"      pools: [{ start: 198.18.0.100, end: 198.18.0.199 }]\n"
		"      reservations:\n"
		"        - { mac: \"52:54:00:00:00:31\", address: 198.18.0.31, boot_file: ok.efi }\n"
		"        - { mac: \"52:54:00:00:00:32\", address: 198.18.0.32, boot_file: page.efi }\n"
		"tftp: { root: /tftp }\n" BOOT;
	struct ib_doctor_host h = { .probe = fake_probe, .probe_ctx = (void *)"page.efi" };
	static struct ib_doctor_report rep;
	struct ib_config *cfg = load(yaml);
	size_t n = 0;

	ib_doctor_setup(cfg, &h, &rep);
	for (size_t i = 0; i < rep.n; i++) {
		if (strcmp(rep.v[i].rule, "bootfile") != 0)
			continue;
		n++;
		assert_non_null(strstr(rep.v[i].cause, "reservation"));
	}
	/* page.efi: an HTML page; ok.efi: missing from the fake root */
	assert_int_equal(n, 2);
	ib_config_free(cfg);
}

/* DHCPv6 coverage is asked of the DHCPv6 decision (ib_boot6_decide): a
 * config that serves arch 16 and iPXE over DHCPv4 only is told so. */
static void test_arch_coverage_v6(void **state)
{
	static const char yaml[] = HEAD HTTP
		"boot: { bios: undionly.kpxe, efi_x64: ipxe.efi, "
		"http_x64: \"http://198.18.0.1:8080/assets/ipxe.efi\", "
		"ipxe_script: \"http://198.18.0.1:8080/boot.ipxe\" }\n" PROFILES GROUPS;
	static const struct ib_doctor_listen listen[] = {
		{ true, 67 }, { true, 547 }, { true, 69 }, { false, 8080 },
	};
	struct ib_doctor_host h = { .listening = listen, .n_listening = 4,
				    .daemon_running = true };
	static struct ib_doctor_report rep;
	struct ib_config *cfg = load(yaml);
	const char *ipxe = NULL, *http = NULL;

	ib_doctor_setup(cfg, &h, &rep);
	for (size_t i = 0; i < rep.n; i++) {
		if (strcmp(rep.v[i].rule, "arch-coverage") != 0)
			continue;
		if (strstr(rep.v[i].cause, "iPXE's own DHCPv6"))
			ipxe = rep.v[i].fix;
		if (strstr(rep.v[i].cause, "arch 16") && strstr(rep.v[i].cause, "over DHCPv6"))
			http = rep.v[i].fix;
	}
	assert_non_null(ipxe);
	assert_non_null(strstr(ipxe, "boot.ipxe_script6"));
	assert_null(strstr(ipxe, "boot.ipxe_script "));	/* DHCPv4's is set */
	assert_non_null(http);
	assert_non_null(strstr(http, "boot.http6_x64"));
	ib_config_free(cfg);
}

/* A store that cannot be opened is said, as a warning with the reason. */
static void test_no_store(void **state)
{
	static const struct ib_doctor_listen listen[] = {
		{ true, 67 }, { true, 547 }, { true, 69 }, { false, 8080 },
	};
	struct ib_doctor_host h = { .listening = listen, .n_listening = 4,
				    .store_error = "/x/ironboot.db: unable to open" };
	static struct ib_doctor_report rep;
	struct ib_config *cfg = load(cfg_yaml);

	ib_doctor_setup(cfg, &h, &rep);
	assert_true(rep.n > 0);
	assert_string_equal(rep.v[0].rule, "store");
	assert_int_equal(rep.v[0].severity, IB_DOCTOR_WARNING);
	assert_non_null(strstr(rep.v[0].evidence, "unable to open"));
	ib_config_free(cfg);
}

/* A profile whose script does not start with #!ipxe is named, with why. */
static void test_script_render(void **state)
{
	char dir[64] = "/tmp/ib-doctor-XXXXXX", path[128], yaml[2048];
	struct ib_doctor_host h = { .probe = fake_probe };
	static struct ib_doctor_report rep;
	struct ib_config *cfg;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad.ipxe", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("echo no magic\n", f);
	fclose(f);
	snprintf(yaml, sizeof(yaml), "%s" BOOT "http: { listen: [198.18.0.1], assets: /assets, "
		 "templates: %s }\nprofiles:\n  - { name: linux, kernel: vmlinuz, script: bad.ipxe }\n"
		 GROUPS_DEFAULT, "server: { state_dir: /tmp/ib-doctor-unit }\n", dir);
	cfg = load(yaml);
	ib_doctor_setup(cfg, &h, &rep);
	unlink(path);
	rmdir(dir);
	for (size_t i = 0; i < rep.n; i++) {
		if (strcmp(rep.v[i].rule, "script-render") != 0)
			continue;
		assert_non_null(strstr(rep.v[i].cause, "profile linux's boot script"));
		assert_non_null(strstr(rep.v[i].evidence, "#!ipxe"));
		ib_config_free(cfg);
		return;
	}
	fail_msg("no script-render finding (%zu findings)", rep.n);
}

/* Every rule has an id, a description and a severity; ids are unique. */
static void test_rule_tables(void **state)
{
	const struct ib_doctor_rule_info *(*const tables[])(size_t) = {
		ib_doctor_mac_rule, ib_doctor_setup_rule,
	};

	for (size_t t = 0; t < 2; t++) {
		const struct ib_doctor_rule_info *a, *b;
		size_t n = 0;

		for (; (a = tables[t](n)); n++) {
			assert_non_null(a->what);
			assert_true(a->severity <= IB_DOCTOR_ERROR);
			for (size_t k = 0; k < n; k++) {
				b = tables[t](k);
				assert_string_not_equal(a->id, b->id);
			}
		}
		assert_true(n >= (t == 0 ? 14 : 9));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_mac_rules),
		cmocka_unit_test(test_ack_next_server_elsewhere),
		cmocka_unit_test(test_setup_rules),
		cmocka_unit_test(test_script_render),
		cmocka_unit_test(test_reservation_bootfile),
		cmocka_unit_test(test_arch_coverage_v6),
		cmocka_unit_test(test_no_store),
		cmocka_unit_test(test_rule_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
