/*
 * ironboot: the operator's command.
 *
 *   ironboot [--config FILE] [--json] leases [list]
 *   ironboot [--config FILE] [--json] leases show ADDRESS
 *   ironboot [--config FILE] [--json] leases6 [list]
 *   ironboot [--config FILE] leases release ADDRESS
 *   ironboot [--config FILE] [--json] events [--mac MAC] [--proto P] [--limit N]
 *   ironboot [--config FILE] [--json] explain --mac MAC [--arch N] ...
 *   ironboot [--config FILE] [--json] doctor [--mac MAC]
 *   ironboot [--config FILE] [--json] profiles|groups|machines [list | show NAME |
 *            put NAME FILE | create FILE | delete NAME]
 *
 * It reads the daemon's store directly (SQLite in WAL mode lets it read
 * while the daemon writes), and sees the inventory the daemon serves: the
 * file joined with the objects the REST API stored.  Inventory writes go
 * through the daemon's API (inventory_cmd.c).  Human tables by default,
 * --json for scripts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_help.h"
#include "cli/doctor_cmd.h"
#include "cli/events_follow.h"
#include "cli/explain.h"
#include "cli/inventory_cmd.h"
#include "cli/machines_cmd.h"
#include "cli/power_cmd.h"
#include "common/util.h"
#include "config/config.h"
#include "inventory/inventory.h"
#include "journal/timeline.h"
#include "journal/timeline_json.h"
#include "store/lease_json.h"
#include "store/store.h"

#define DEFAULT_CONFIG "/etc/ironboot/ironboot.yaml"

struct cli {
	struct ib_config *cfg;		/* loaded config */
	struct ib_store *store;		/* opened store */
	bool json;			/* --json output */
	json_t *out;			/* array being collected in JSON mode */
	char store_error[4400];		/* why the store could not be opened */
	struct ib_timeline tl;		/* events: each machine's stage so far */
	bool follow;			/* events --follow: one JSON object a line */
	int64_t last_id;		/* events --follow: the newest id the listing
					 * printed, then the last id a follow read */
	bool paged;			/* the follow reads are under way */
};

/*
 * A stored string as it may be printed in a table: hostnames and journal
 * fields come from the network, and a newline or escape in one must not
 * forge a line or drive the terminal.  Returns out.
 */
static const char *safe(const char *s, char *out, size_t len)
{
	ib_str_sanitize((const uint8_t *)s, strlen(s), out, len);
	return out;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ironboot [--config FILE] [--json] COMMAND [ARGS]\n"
		"       ironboot COMMAND --help     what COMMAND does and its arguments\n"
		"       ironboot --version\n"
		"commands:\n"
		"  leases [list]              list IPv4 leases\n"
		"  leases show ADDRESS        one lease\n"
		"  leases release ADDRESS     end a lease (IPv4) or binding (IPv6) now\n"
		"  leases6 [list]             list DHCPv6 leases\n"
		"  events [--mac MAC] [--proto PROTO] [--limit N]\n"
		"                             the boot timeline (journal events)\n"
		"  explain --mac MAC [--arch N] [--user-class iPXE] [--uuid U]\n"
		"                             what the machine gets at each stage, and why\n"
		"  doctor [--mac MAC]         the setup's problems, or where the machine's\n"
		"                             boot stopped and why (exit 0/1/2)\n"
		"  profiles|groups|machines [list]    the inventory (file and API objects)\n"
		"  profiles|groups|machines show NAME one object, as JSON\n"
		"  profiles|groups|machines put NAME FILE|-  create or replace, through\n"
		"                             the daemon's API (--api URL, --token-file F,\n"
		"                             --cacert F)\n"
		"  profiles|groups|machines create FILE|-    create\n"
		"  profiles|groups|machines delete NAME      delete\n"
		"  machines [--state S]       with the lifecycle state (STATE, POWER columns)\n"
		"  machines accept|release|retire|reset MAC, machines allocate [PROFILE] MAC\n"
		"                             lifecycle moves, through the daemon's API\n"
		"  bmcs [list|show|put|create|delete]  machines' BMC entries (inventory)\n"
		"  power status|on|off|cycle|soft|pxe-once|disk-once MAC|--all|--state S\n"
		"                             through the machine's BMC, via the daemon's API\n"
		"  help [COMMAND]             this, or what COMMAND does\n");
}

static void fmt_time(int64_t sec, char *out, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static int print_lease(const struct ib_lease4 *l, void *arg)
{
	struct cli *c = arg;
	char ip[IB_IP4_STRLEN], mac[IB_MAC_STRLEN], exp[32], host[4 * sizeof(l->hostname)];

	if (c->json) {
		json_array_append_new(c->out, ib_lease4_json(l));
		return 0;
	}
	ib_ip4_format(l->address, ip);
	ib_mac_format(l->hwaddr, l->hw_len, mac, sizeof(mac));
	fmt_time(l->expires, exp, sizeof(exp));
	printf("%-15s  %-17s  %-9s  %-21s  %s\n", ip, mac, ib_lease_state_str(l->state), exp,
	       safe(l->hostname, host, sizeof(host)));
	return 0;
}

static int print_lease6(const struct ib_lease6 *l, void *arg)
{
	struct cli *c = arg;
	char ip[INET6_ADDRSTRLEN], mac[IB_MAC_STRLEN] = "-", exp[32];
	char host[4 * sizeof(l->hostname)];

	if (c->json) {
		json_array_append_new(c->out, ib_lease6_json(l));
		return 0;
	}
	inet_ntop(AF_INET6, l->address, ip, sizeof(ip));
	if (l->has_mac)
		ib_mac_format(l->mac, 6, mac, sizeof(mac));
	fmt_time(l->expires, exp, sizeof(exp));
	printf("%-39s  %-17s  %-9s  %-21s  %s\n", ip, mac, ib_lease_state_str(l->state), exp,
	       safe(l->hostname, host, sizeof(host)));
	return 0;
}

static int finish_json(struct cli *c)
{
	if (json_dumpf(c->out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return 1;
	putchar('\n');
	return 0;
}

/* "leases6 [list]": the DHCPv6 bindings. */
static int cmd_leases6(struct cli *c, int argc, char **argv)
{
	int r;

	if (argc > 0 && strcmp(argv[0], "list") != 0) {
		fprintf(stderr, "ironboot: leases6 takes only \"list\"\n");
		return 2;
	}
	if (!c->json)
		printf("%-39s  %-17s  %-9s  %-21s  %s\n", "ADDRESS", "MAC", "STATE", "EXPIRES",
		       "HOSTNAME");
	r = ib_store_lease6_foreach(c->store, print_lease6, c);
	return r < 0 ? 1 : c->json ? finish_json(c) : 0;
}

/*
 * Whether an ironbootd holds the state dir (its flock on ironbootd.lock,
 * daemon.c).  Probing takes a shared lock for an instant; a daemon
 * starting in that instant would refuse to start, and says why.
 */
bool ib_cli_daemon_running(const struct ib_config *cfg)
{
	char path[4200];
	bool held;
	int fd;

	snprintf(path, sizeof(path), "%s/ironbootd.lock", cfg->server.state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/*
 * `leases release ADDR`, an IPv4 lease or a DHCPv6 binding.  A running
 * daemon caches its bindings: it must end the lease itself, or it would
 * keep the address bound until a restart.  Through its API: over HTTP
 * with the token, else through its control socket in the state directory
 * (root's, no token).  Without a daemon, in the store.
 */
static int leases_release(struct cli *c, const char *addr)
{
	struct ib_lease4 l;
	struct ib_lease6 l6;
	uint8_t a6[16];
	uint32_t a;
	bool v4 = ib_ip4_parse(addr, &a) == 0;
	char path[96];
	int r;

	if (!v4 && inet_pton(AF_INET6, addr, a6) != 1) {
		fprintf(stderr, "ironboot: leases release needs one IPv4 or IPv6 address\n");
		return 2;
	}
	snprintf(path, sizeof(path), "leases/%s/release", addr);
	if (ib_cli_daemon_running(c->cfg) && c->cfg->http.enabled)
		return c->cfg->http.api_token_file ? ib_cli_api_post(c->cfg, path) :
		       ib_cli_api_post_local(c->cfg, path);
	if (ib_cli_daemon_running(c->cfg))
		fprintf(stderr, "ironboot: warning: ironbootd is running without its HTTP "
			"service (http.enabled), so without an API: the lease is ended in "
			"the store, but the daemon keeps the address bound until it "
			"restarts\n");
	r = v4 ? ib_store_lease4_get(c->store, a, &l) : ib_store_lease6_get(c->store, a6, &l6);
	if (r < 0) {
		fprintf(stderr, "ironboot: no lease for %s\n", addr);
		return 1;
	}
	r = ib_store_begin(c->store);
	if (r == 0)
		r = v4 ? ib_store_lease4_set_state(c->store, a, IB_LEASE_RELEASED, ib_now_sec()) :
		    ib_store_lease6_set_state(c->store, a6, IB_LEASE_RELEASED, ib_now_sec());
	if (r == 0)
		r = ib_store_commit(c->store);
	if (r < 0) {
		ib_store_rollback(c->store);
		fprintf(stderr, "ironboot: release failed: %s\n", strerror(-r));
		return 1;
	}
	printf("released %s\n", addr);
	return 0;
}

static int cmd_leases(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : "list";
	struct ib_lease4 l;
	uint32_t a;
	int r;

	if (strcmp(sub, "list") == 0) {
		if (!c->json)
			printf("%-15s  %-17s  %-9s  %-21s  %s\n", "ADDRESS", "MAC", "STATE",
			       "EXPIRES", "HOSTNAME");
		r = ib_store_lease4_foreach(c->store, 0, UINT32_MAX, print_lease, c);
		return r < 0 ? 1 : c->json ? finish_json(c) : 0;
	}
	if (strcmp(sub, "release") == 0 && argc == 2)
		return leases_release(c, argv[1]);
	if (argc != 2 || ib_ip4_parse(argv[1], &a) < 0) {
		fprintf(stderr, "ironboot: leases %s needs one IPv4 address\n", sub);
		return 2;
	}
	if ((r = ib_store_lease4_get(c->store, a, &l)) < 0) {
		fprintf(stderr, "ironboot: no lease for %s\n", argv[1]);
		return 1;
	}
	if (strcmp(sub, "show") == 0) {
		if (c->json) {
			json_t *o = ib_lease4_json(&l);

			json_decref(c->out);
			c->out = o;
			return finish_json(c);
		}
		return print_lease(&l, c);
	}
	fprintf(stderr, "ironboot: unknown leases command '%s'\n", sub);
	return 2;
}

/* "key=value key=value" from a detail object, for the human table. */
static void flatten(const char *detail, char *out, size_t len)
{
	json_t *o = json_loads(detail, 0, NULL);
	const char *k;
	json_t *v;
	size_t n = 0;

	out[0] = '\0';
	if (!o)
		return;
	json_object_foreach(o, k, v) {
		char *s = json_is_string(v) ? strdup(json_string_value(v)) :
			  json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		char sk[256], sv[1024];

		if (s && n < len)
			n += (size_t)snprintf(out + n, len - n, "%s%s=%s", n ? " " : "",
					      safe(k, sk, sizeof(sk)), safe(s, sv, sizeof(sv)));
		free(s);
	}
	json_decref(o);
}

/* "+12.345s" since the stage before, or "-" when there is none. */
static void fmt_since(int64_t us, char *out, size_t len)
{
	if (us < 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "+%lld.%03llds", (long long)(us / 1000000),
			 (long long)(us / 1000 % 1000));
}

static int print_event(const struct ib_event *e, void *arg)
{
	struct cli *c = arg;
	char ts[32], detail[1024], mac[64], proto[64], kind[128], since[32];
	time_t t = (time_t)(e->ts_us / 1000000);
	enum ib_stage stage;
	int64_t since_us;
	struct tm tm;
	json_t *o;

	if (c->paged || e->id > c->last_id)
		c->last_id = e->id;
	if (c->json) {
		o = ib_timeline_event_json(&c->tl, e);
		if (o && c->follow) {
			json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(o);
		} else if (o) {
			json_array_append_new(c->out, o);
		}
		return 0;
	}
	ib_timeline_step(&c->tl, e, &stage, &since_us);
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	flatten(e->detail, detail, sizeof(detail));
	fmt_since(since_us, since, sizeof(since));
	printf("%s.%03d  %-17s  %-9s  %-10s  %-5s  %-15s  %s\n", ts, (int)(e->ts_us / 1000 % 1000),
	       safe(e->mac, mac, sizeof(mac)), ib_stage_name(stage), since,
	       safe(e->proto, proto, sizeof(proto)), safe(e->kind, kind, sizeof(kind)), detail);
	return 0;
}

/* print_event for the API's follow (events_follow.c), flushed at once. */
static int print_event_cb(const struct ib_event *e, void *arg)
{
	int r = print_event(e, arg);

	fflush(stdout);
	return r;
}

#define FOLLOW_POLL_US 500000		/* events --follow reads the store twice a second */

/*
 * events --follow: reads the store's new events every FOLLOW_POLL_US
 * (SQLite in WAL mode: the daemon writes on) and prints those after the
 * last read, until killed.  Each read goes on from the last id the one
 * before read, in the order events became visible (on PostgreSQL, where
 * ids are not handed out in commit order, the commit order: an event a
 * daemon commits late is printed late, not lost; store_pg_events.c).
 * The listing before it is in time order: an event still uncommitted
 * then, with an id below the listing's newest, can be missed there.
 * Returns 1 when the store fails.
 */
static int follow_events(struct cli *c, struct ib_event_filter f)
{
	int r;

	c->follow = true;
	c->paged = true;
	f.limit = 0;
	f.oldest = true;
	for (;;) {
		fflush(stdout);
		usleep(FOLLOW_POLL_US);
		f.after_id = c->last_id;
		if ((r = ib_store_event_foreach(c->store, &f, print_event, c)) < 0) {
			fprintf(stderr, "ironboot: cannot read events: %s\n", strerror(-r));
			return 1;
		}
	}
}

static int cmd_events(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mac", required_argument, NULL, 'm' },
		{ "proto", required_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "local", no_argument, NULL, 'L' },
		{ "api", required_argument, NULL, 'a' },
		{ "token-file", required_argument, NULL, 't' },
		{ "cacert", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct ib_event_filter f = { .limit = 1000 };
	struct ib_cli_api api = { .base = c->cfg->http.base_url,
				  .token_file = c->cfg->http.api_token_file };
	bool follow = false, local = false;
	char mac[IB_MAC_STRLEN];
	uint8_t m[6];
	int o, r;

	optind = 1;
	while ((o = getopt_long(argc, argv, "m:p:n:f", opts, NULL)) != -1) {
		switch (o) {
		case 'm':
			if (ib_mac_parse(optarg, m) < 0) {
				fprintf(stderr, "ironboot: bad MAC address '%s'\n", optarg);
				return 2;
			}
			ib_mac_format(m, 6, mac, sizeof(mac));
			f.mac = mac;
			break;
		case 'p': f.proto = optarg; break;
		case 'n': f.limit = strtoul(optarg, NULL, 10); break;
		case 'f': follow = true; break;
		case 'L': local = true; break;
		case 'a': api.base = optarg; break;
		case 't': api.token_file = optarg; break;
		case 'k': api.cacert = optarg; break;
		default: return 2;
		}
	}
	ib_timeline_init(&c->tl);
	c->follow = follow && c->json;	/* JSON: one object a line from the start */
	if (follow && !local && api.base && f.proto) {
		fprintf(stderr, "ironboot: events --follow --proto reads the store: add --local\n");
		return 2;
	}
	if (!c->json)
		printf("%-23s  %-17s  %-9s  %-10s  %-5s  %-15s  %s\n", "TIME (UTC)", "MAC", "STAGE",
		       "+PREV", "PROTO", "EVENT", "DETAIL");
	/* the daemon pushes its events as it stores them: no polling */
	if (follow && !local && api.base) {
		r = ib_cli_events_follow(&api, f.mac, f.limit, print_event_cb, c);
		if (r != IB_CLI_FOLLOW_NO_DAEMON)
			return r;
		fprintf(stderr, "ironboot: no daemon answers at %s: following the store "
			"instead (--local)\n", api.base);
	}
	r = ib_store_event_foreach(c->store, &f, print_event, c);
	if (r < 0) {
		fprintf(stderr, "ironboot: cannot read events: %s\n", strerror(-r));
		return 1;
	}
	if (follow)
		return follow_events(c, f);
	return c->json ? finish_json(c) : 0;
}

/*
 * Loads the config and opens the store; the snapshot is the file's joined
 * with the API's stored objects.  optional_store (doctor): a store that
 * cannot be opened leaves c->store NULL, the file's config, and the
 * reason in c->store_error.
 */
static int open_cli(struct cli *c, const char *path, bool optional_store)
{
	char err[IB_CONFIG_ERRLEN], db[4200], serr[256] = "";
	struct ib_config_text text = { 0 };
	struct ib_inventory_refused rf;
	struct ib_config *full;
	int r;

	if (ib_config_load(path, &c->cfg, err) < 0) {
		fprintf(stderr, "ironboot: %s\n", err);
		return -EINVAL;
	}
	if (ib_store_is_pg(c->cfg->server.store))
		snprintf(db, sizeof(db), "%s", c->cfg->server.store);
	else
		snprintf(db, sizeof(db), "%s/ironboot.db", c->cfg->server.state_dir);
	if ((r = ib_store_open(c->cfg->server.store, db, c->cfg->server.store_password_file,
			       &c->store, serr)) < 0) {
		snprintf(c->store_error, sizeof(c->store_error), "%s: %s", db,
			 serr[0] ? serr : strerror(-r));
		if (optional_store) {
			c->store = NULL;
			return 0;
		}
		fprintf(stderr, "ironboot: cannot open the store %s\n", c->store_error);
		return r;
	}
	/* the daemon's view: the file and the objects the API stored */
	if ((r = ib_config_read(path, &text, err)) == 0)
		r = ib_inventory_load(&text, c->store, &full, &rf, err);
	free(text.buf);
	if (r < 0) {
		fprintf(stderr, "ironboot: %s\n", err);
		return r;
	}
	for (size_t i = 0; i < rf.n; i++) {
		char name[4 * sizeof(rf.v[i].name)], why[4 * sizeof(rf.v[i].reason)];

		fprintf(stderr, "ironboot: warning: stored %s %s is not served: %s\n",
			ib_config_kind_name(rf.v[i].kind), safe(rf.v[i].name, name, sizeof(name)),
			safe(rf.v[i].reason, why, sizeof(why)));
	}
	if (rf.more)
		fprintf(stderr, "ironboot: warning: %zu more stored objects are not served\n",
			rf.more);
	ib_config_free(c->cfg);
	c->cfg = full;
	return 0;
}

/* "help [COMMAND]" or "COMMAND ... --help": exit status 0, or 2 for no
 * such command. */
static int cli_help(int argc, char **argv)
{
	const char *cmd = strcmp(argv[0], "help") == 0 ? (argc > 1 ? argv[1] : NULL) : argv[0];

	if (!cmd) {
		usage(stdout);
		return 0;
	}
	if (ib_cli_help(stdout, cmd) == 0)
		return 0;
	fprintf(stderr, "ironboot: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	enum ib_config_kind kind;
	struct cli c = { 0 };
	int o, r;

	/* --json is accepted anywhere on the line, before or after the command. */
	for (int i = 1, j = 1; i <= argc; i++) {
		if (i < argc && strcmp(argv[i], "--json") == 0) {
			c.json = true;
			continue;
		}
		argv[j++] = argv[i];
		if (i == argc)
			argc = j - 1;
	}
	while ((o = getopt_long(argc, argv, "+c:jhV", opts, NULL)) != -1) {
		switch (o) {
		case 'c': path = optarg; break;
		case 'j': c.json = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts("ironboot " IB_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	/* help needs no config and no store */
	if (strcmp(argv[optind], "help") == 0 || ib_cli_wants_help(argc - optind, argv + optind))
		return cli_help(argc - optind, argv + optind);
	if (open_cli(&c, path, strcmp(argv[optind], "doctor") == 0) < 0) {
		r = 1;
		goto out;
	}
	c.out = json_array();
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "leases") == 0)
		r = cmd_leases(&c, argc - 1, argv + 1);
	else if (strcmp(argv[0], "leases6") == 0)
		r = cmd_leases6(&c, argc - 1, argv + 1);
	else if (strcmp(argv[0], "events") == 0)
		r = cmd_events(&c, argc, argv);
	else if (strcmp(argv[0], "doctor") == 0)
		r = ib_cli_doctor(&(struct ib_cli_doctor_env){ .cfg = c.cfg, .store = c.store,
				  .store_error = c.store_error, .json = c.json }, argc, argv);
	else if (strcmp(argv[0], "explain") == 0)
		r = ib_cli_explain(c.cfg, c.store, c.json, argc, argv);
	else if (strcmp(argv[0], "machines") == 0)
		r = ib_cli_machines(c.cfg, c.store, c.json, argc, argv);
	else if (strcmp(argv[0], "power") == 0)
		r = ib_cli_power(c.cfg, c.store, argc, argv);
	else if (ib_config_kind_parse(argv[0], &kind) == 0)
		r = ib_cli_inventory(c.cfg, kind, c.json, argc, argv);
	else {
		fprintf(stderr, "ironboot: unknown command '%s'\n", argv[0]);
		usage(stderr);
		r = 2;
	}
out:
	json_decref(c.out);
	ib_store_free(c.store);
	ib_config_free(c.cfg);
	return r;
}
