/* The commands' help texts, one table row per command: see cli_help.h. */
#include "cli/cli_help.h"

#include <errno.h>
#include <string.h>

/* Said once, under every command's own text. */
#define GLOBAL_OPTIONS \
	"\nglobal options (before the command; --json anywhere):\n" \
	"  -c, --config FILE  configuration (default /etc/ironboot/ironboot.yaml); the\n" \
	"                     store is server.state_dir/ironboot.db\n" \
	"  --json             JSON instead of a table, for scripts\n"

/* The inventory commands share one text; KIND is the command's name. */
#define INVENTORY_HELP \
	"usage: ironboot [--json] KIND [list]\n" \
	"       ironboot KIND show NAME\n" \
	"       ironboot KIND [API OPTIONS] put NAME FILE|-\n" \
	"       ironboot KIND [API OPTIONS] create FILE|-\n" \
	"       ironboot KIND [API OPTIONS] delete NAME\n" \
	"\n" \
	"The KIND the daemon serves: the configuration file's, joined with those\n" \
	"stored through the REST API.  NAME is a profile or group name, or a\n" \
	"machine's MAC address.\n" \
	"\n" \
	"  list            one line per object; SOURCE says file or api\n" \
	"  show NAME       one object, as JSON\n" \
	"  put NAME FILE   create or replace NAME with the JSON object in FILE\n" \
	"                  (\"-\" reads standard input); shaped like the file's\n" \
	"                  list items (ironboot.yaml(5))\n" \
	"  create FILE     create the object in FILE; its name is inside\n" \
	"  delete NAME     delete an object stored through the API (objects of the\n" \
	"                  file are changed in the file)\n" \
	"\n" \
	"Writes go through the running daemon's REST API, which validates them with\n" \
	"the file, stores them and serves them at once.  API OPTIONS, given before\n" \
	"the verb:\n" \
	"  --api URL         the daemon's base URL (default http.base_url)\n" \
	"  --token-file F    the bearer token (default http.api_token_file)\n" \
	"  --cacert F        a CA certificate to trust for https://\n"

/* One command: its name, its summary line, its full text. */
struct cmd_help {
	const char *name;		/* as typed */
	const char *summary;		/* for the list of commands */
	const char *text;		/* KIND stands for the name */
};

static const struct cmd_help helps[] = {
	{ "leases", "IPv4 leases: list, show ADDRESS, release ADDRESS (v4 or v6)",
	  "usage: ironboot [--json] leases [list]\n"
	  "       ironboot [--json] leases show ADDRESS\n"
	  "       ironboot leases release ADDRESS\n"
	  "\n"
	  "The DHCPv4 leases in the store, as the daemon wrote them.\n"
	  "\n"
	  "  list             every lease: address, MAC, state, expiry (UTC), hostname\n"
	  "  show ADDRESS     the lease of one IPv4 address (exit 1 if none)\n"
	  "  release ADDRESS  end that lease now (marked released in the store), so\n"
	  "                   the address can go to another machine; an IPv6\n"
	  "                   ADDRESS ends that DHCPv6 binding (its client's RENEW\n"
	  "                   then gets NoBinding)\n" },
	{ "leases6", "DHCPv6 bindings: list",
	  "usage: ironboot [--json] leases6 [list]\n"
	  "\n"
	  "The DHCPv6 bindings in the store: address, MAC (from the DUID, relay\n"
	  "option 79 or EUI-64; - if unknown), state, expiry (UTC), hostname.\n" },
	{ "events", "the boot timeline of one machine, or of all",
	  "usage: ironboot [--json] events [--mac MAC] [--proto PROTO] [--limit N]\n"
	  "                [--follow [--local | --api URL --token-file F --cacert F]]\n"
	  "\n"
	  "The per-machine journal: every DHCP, TFTP and HTTP event, oldest first,\n"
	  "so a boot that stops shows where and why.\n"
	  "\n"
	  "  --mac MAC      only this machine (aa:bb:cc:dd:ee:ff)\n"
	  "  --proto PROTO  only dhcp4, dhcp6, tftp or http events\n"
	  "  --limit N      at most N events (default 1000)\n"
	  "  --follow       then print new events as the daemon writes them, until\n"
	  "                 interrupted (--json: one object a line).  With an API\n"
	  "                 address (http.base_url or --api URL) the running daemon\n"
	  "                 pushes them (GET /api/v1/events?follow=1, server-sent\n"
	  "                 events, token http.api_token_file or --token-file F);\n"
	  "                 a dropped stream resumes where it stopped; with no daemon\n"
	  "                 answering there, it follows the store as with --local\n"
	  "  --local        follow by reading the store twice a second instead\n"
	  "                 (no daemon needed; the only way with --proto)\n"
	  "\n"
	  "Each event shows its stage (firmware, loader, ipxe, script, kernel, install,\n"
	  "lifecycle, other) and +PREV, the time since the stage before it began.\n" },
	{ "explain", "what a machine would get at each boot stage, and why",
	  "usage: ironboot [--json] explain --mac MAC [--arch N] [options]\n"
	  "\n"
	  "Runs the daemon's own decisions, without the network, for the requests the\n"
	  "machine's firmware and then iPXE would send: the DHCPv4 answer at each stage\n"
	  "(address, boot file or script URL, and the rule that chose it), the HTTP\n"
	  "boot script (group, profile, kernel, initrds, rendered script) and, with\n"
	  "DHCPv6 configured, the DHCPv6 stages.  Leases are read from the store.\n"
	  "\n"
	  "  --mac MAC            the machine (required)\n"
	  "  --arch N             client architecture, option 93/61: 0 BIOS, 6 EFI ia32,\n"
	  "                       7 or 9 EFI x64, 11 EFI arm64, 16 UEFI HTTP x64,\n"
	  "                       19 UEFI HTTP arm64 (default: none sent)\n"
	  "  --vendor-class V     option 60 (default with --arch: PXEClient:Arch:N:...,\n"
	  "                       HTTPClient:Arch:N:... for 16 and 19; else none)\n"
	  "  --user-class iPXE    accepted; the iPXE stage is always shown\n"
	  "  --uuid U             SMBIOS UUID: iPXE ${uuid}, for group selectors\n"
	  "  --giaddr RELAY       the request came through this relay\n"
	  "  --server ADDR        our address on the machine's link (default: the\n"
	  "                       subnet's first router, else its first address)\n"
	  "  --hostname H         iPXE ${hostname} (default: the reservation's)\n"
	  "  --serial S           iPXE ${serial}\n"
	  "  --buildarch B        iPXE ${buildarch} (default: from --arch)\n"
	  "  --platform P         iPXE ${platform}: pcbios or efi (default: from --arch)\n" },
	{ "doctor", "the setup's problems, or why a machine does not boot",
	  "usage: ironboot [--json] doctor [--mac MAC]\n"
	  "\n"
	  "Without --mac: checks the configuration against this host and its files:\n"
	  "services listening, next-server/TFTP/HTTP addresses being this host's,\n"
	  "boot files present and right for their architecture (PE32+ type, not a PE\n"
	  "for BIOS, not truncated or an HTML page), profiles' kernels and initrds,\n"
	  "scripts and configs rendering for a sample machine, a default group, a boot\n"
	  "file for every client arch (0, 7, 9, 11, 16, 19) and the iPXE script URL,\n"
	  "relays seen without a subnet, pools near exhaustion.\n"
	  "\n"
	  "With --mac: reads the machine's journal across stages and restarts, says\n"
	  "where its boot chain stopped and the most likely cause, with evidence.\n"
	  "\n"
	  "Each finding: severity, rule, cause, fix, evidence (docs/DOCTOR.md).\n"
	  "Exit status: 0 clean (or notes only), 1 warnings, 2 errors.\n"
	  "\n"
	  "  --mac MAC      the machine (aa:bb:cc:dd:ee:ff)\n" },
	{ "profiles", "what can be booted (inventory)", INVENTORY_HELP },
	{ "groups", "which machines boot which profile (inventory)", INVENTORY_HELP },
	{ "bmcs", "which BMC powers which machine (inventory; NAME a MAC; docs/POWER.md)",
	  INVENTORY_HELP },
	{ "machines", "machines by MAC: the inventory's and the lifecycle's",
	  "usage: ironboot [--json] machines [list] [--state S]\n"
	  "       ironboot machines show MAC\n"
	  "       ironboot machines accept|release|retire|reset MAC\n"
	  "       ironboot machines allocate [PROFILE] MAC\n"
	  "\n"
	  "Lists the inventory's machines (STATE -: they boot as their group says)\n"
	  "and the lifecycle's (docs/LIFECYCLE.md): discovered, accepted, wiping,\n"
	  "ready, allocated, installing, installed, releasing, failed, retired.\n"
	  "--state S lists only those in S (none: the inventory's).  show prints\n"
	  "the lifecycle row with the agent's last hardware report.  The moves go\n"
	  "through the daemon's API (http.base_url, http.api_token_file); one the\n"
	  "current state does not allow is refused (HTTP 409, naming the state).\n"
	  "allocate without PROFILE takes the profile of the most specific group\n"
	  "the machine's MAC and hardware report match (selector keys vendor,\n"
	  "product, disk_min_gib, memory_min_gib); the catch-all group does not\n"
	  "count (HTTP 422 then).\n"
	  "\n"
	  "The inventory's machines (KIND is machines, NAME a MAC):\n"
	  "\n" INVENTORY_HELP },
	{ "power", "power machines on, off, into PXE once, through their BMCs",
	  "usage: ironboot power status|on|off|cycle|soft|pxe-once|disk-once MAC\n"
	  "       ironboot power OP --all\n"
	  "       ironboot power OP --state S\n"
	  "\n"
	  "Runs OP on the machine's BMC (its bmcs entry; docs/POWER.md) through the\n"
	  "daemon's API (http.base_url, http.api_token_file), which holds the\n"
	  "credentials, and prints its answer: result, state, ms, and the BMC's\n"
	  "message when it failed.  --all: every machine with a BMC entry; --state\n"
	  "S: the lifecycle's machines in state S that have one.  Each operation\n"
	  "is journalled (ironboot events --mac M, proto power).  Exit status 1\n"
	  "when any failed.\n" },
	{ "help", "this help, or a command's: help COMMAND",
	  "usage: ironboot help [COMMAND]\n"
	  "       ironboot COMMAND --help\n"
	  "\n"
	  "The list of commands, or what COMMAND does and what its arguments mean.\n" },
};

/* text with every KIND replaced by name. */
static void print_text(FILE *f, const char *text, const char *name)
{
	const char *k;

	while ((k = strstr(text, "KIND"))) {
		fwrite(text, 1, (size_t)(k - text), f);
		fputs(name, f);
		text = k + 4;
	}
	fputs(text, f);
}

bool ib_cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

int ib_cli_help(FILE *f, const char *cmd)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		if (strcmp(helps[i].name, cmd) != 0)
			continue;
		print_text(f, helps[i].text, helps[i].name);
		fputs(GLOBAL_OPTIONS, f);
		return 0;
	}
	return -ENOENT;
}

void ib_cli_help_commands(FILE *f)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		fprintf(f, "  %-10s %s\n", helps[i].name, helps[i].summary);
}
