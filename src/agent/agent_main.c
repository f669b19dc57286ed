/*
 * ironboot-agent: the program a machine runs from the agent image to
 * report itself to ironbootd and carry out its instructions (wipe,
 * install, power off, reboot).  docs/AGENT.md has the protocol.
 *
 *   as /init (PID 1)        mounts, then runs itself with --system and
 *                           restarts it if it ever dies (agent_sys.c)
 *   --system                the machine's own agent: reads /proc/cmdline,
 *                           loads the image's modules, gets a DHCPv4 lease
 *                           on the boot NIC, acts on /dev, powers off
 *   as ironboot-agent-dhcp-event EVENT
 *                           busybox udhcpc's event script (agent_sys.c)
 *   otherwise (tests)       --cmdline-file, --sysroot and --dev-dir are
 *                           required: it reads and writes only there, and
 *                           exits where the machine would power off or
 *                           reboot.  It never touches the host's disks.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "agent/agent.h"
#include "common/log.h"
#include "common/util.h"

#define MODULE_LIST "/lib/modules/ironboot-agent.list"	/* written by the image */
#define DISK_SETTLE_MS 10000		/* at most, for disks to appear */
#define ERROR_WAIT_MAX_MS 30000		/* polls back off to this on errors */

/* What main() was asked. */
struct options {
	bool system;			/* --system */
	const char *cmdline_file;	/* --cmdline-file, /proc/cmdline for --system */
	const char *sysroot;		/* --sysroot, "/" for --system */
	const char *dev_dir;		/* --dev-dir, "/dev" for --system */
	unsigned max_polls;		/* --max-polls, 0: forever */
	unsigned report_tries;		/* --report-tries, 0: forever */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ironboot-agent --system\n"
		   "       ironboot-agent --cmdline-file FILE --sysroot DIR --dev-dir DIR\n"
		   "                      [--max-polls N] [--report-tries N]\n"
		   "The agent of the ironboot agent image (docs/AGENT.md).  Without --system\n"
		   "it is a test run: it reads the command line from FILE, the machine from\n"
		   "DIR/sys and DIR/proc, writes disks only under --dev-dir, and exits where\n"
		   "the machine would power off or reboot.\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "system", no_argument, NULL, 'S' },
		{ "cmdline-file", required_argument, NULL, 'c' },
		{ "sysroot", required_argument, NULL, 'r' },
		{ "dev-dir", required_argument, NULL, 'd' },
		{ "max-polls", required_argument, NULL, 'p' },
		{ "report-tries", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': o->system = true; break;
		case 'c': o->cmdline_file = optarg; break;
		case 'r': o->sysroot = optarg; break;
		case 'd': o->dev_dir = optarg; break;
		case 'p': o->max_polls = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': o->report_tries = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (optind != argc)
		return -EINVAL;
	if (o->system) {
		if (o->sysroot || o->dev_dir || o->cmdline_file)
			return -EINVAL;	/* the machine's agent acts on the machine */
		o->cmdline_file = "/proc/cmdline";
		o->sysroot = "/";
		o->dev_dir = "/dev";
		return 0;
	}
	/* a test run names every place it reads and writes: never "/dev" */
	return o->cmdline_file && o->sysroot && o->dev_dir ? 0 : -EINVAL;
}

static int load_cmdline(struct ib_agent *a, const char *path)
{
	char buf[IB_AGENT_CMDLINE_MAX + 1];
	const char *key = "?";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int r;

	if (fd < 0) {
		ib_err("agent: %s: %s", path, strerror(errno));
		return -errno;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -errno;
	r = ib_agent_cmdline_parse(buf, (size_t)n, &a->cl, &key);
	if (r < 0)
		ib_err("agent: kernel command line: %s: %s", key,
		       r == -ENOENT ? "missing" : strerror(-r));
	return r;
}

/* The report: collect, then post until the daemon takes it. */
static int report(struct ib_agent *a, unsigned tries)
{
	struct ib_agent_bmc bmc;
	struct ib_agent_report_ctx ctx = {
		.mac = a->mac, .mode = ib_agent_mode_name(a->cl.mode), .bmc = &bmc,
	};
	char *body;
	int r = 0;

	ib_agent_bmc_probe(a->devfd, &bmc);
	body = ib_agent_report_json(a->rootfd, &ctx, &r);
	if (!body) {
		ib_err("agent: cannot build the report: %s", strerror(-r));
		return r;
	}
	r = ib_agent_client_report(a, body, tries);
	free(body);
	return r;
}

/* wait and reboot: the machine powers off or reboots; a test run exits. */
static int power(struct ib_agent *a, const struct ib_agent_instruction *in)
{
	bool off = in->action == IB_AGENT_ACTION_WAIT;
	struct ib_agent_progress p = { .step = off ? "poweroff" : "reboot", .status = "ok" };

	ib_agent_client_progress(a, &p);
	if (a->system)
		ib_agent_power(off ? RB_POWER_OFF : RB_AUTOBOOT);
	ib_notice("agent: %s now (a test run: exiting instead)", off ? "power off" : "reboot");
	exit(0);
}

/* What each action does; none is the poll loop's own. */
static const struct {
	enum ib_agent_action action;
	int (*run)(struct ib_agent *a, const struct ib_agent_instruction *in);
} actions[] = {
	{ IB_AGENT_ACTION_WIPE, ib_agent_wipe },
	{ IB_AGENT_ACTION_INSTALL, ib_agent_install },
	{ IB_AGENT_ACTION_WAIT, power },
	{ IB_AGENT_ACTION_REBOOT, power },
};

/* One poll: returns how long to wait before the next. */
static unsigned poll_once(struct ib_agent *a, struct ib_agent_instruction *in,
			  unsigned *err_wait)
{
	const char *why = NULL;
	int r = ib_agent_client_instruction(a, in, &why);

	if (r == -EBADMSG || r == -EINVAL) {
		struct ib_agent_progress p = { .step = "instruction", .status = "failed",
					       .error = why };
		ib_agent_client_progress(a, &p);
		return IB_AGENT_POLL_MS_DEFAULT;
	}
	if (r < 0) {
		unsigned w = *err_wait;
		ib_warn("agent: instruction: %s; polling again in %u ms",
			r == -EACCES ? "token not accepted" : r == -EPROTO ?
			"unexpected HTTP status" : strerror(-r), w);
		*err_wait = IB_MIN(w * 2, ERROR_WAIT_MAX_MS);
		return w;
	}
	*err_wait = IB_AGENT_POLL_MS_DEFAULT;
	if (in->action == IB_AGENT_ACTION_NONE)
		return in->poll_ms;
	ib_info("agent: instruction %s%s%s", ib_agent_action_name(in->action),
		in->id[0] ? " id " : "", in->id);
	a->instruction_id = in->id;
	for (size_t i = 0; i < IB_ARRAY_SIZE(actions); i++)
		if (actions[i].action == in->action)
			actions[i].run(a, in);	/* they report their own outcome */
	a->instruction_id = NULL;
	return 0;			/* ask for the next one at once */
}

/*
 * Seeds jansson's hash before the first JSON object.  Left to itself,
 * jansson reads /dev/urandom, and since Linux 5.18 a read there before the
 * kernel's CRNG is ready runs the jitter-entropy loop until it is: on a
 * machine without RDRAND or an RNG device (QEMU's TCG CPU, OVMF) that held
 * the first report 1.3 to 5 s after the lease, every boot.  The seed only
 * scatters the hash of objects the agent builds or reads from its own
 * server (no secret rests on it), so GRND_INSECURE's bytes, ready at once,
 * do; a kernel older than 5.6 refuses the flag (EINVAL) and its
 * /dev/urandom never blocks, so jansson's own seeding is kept there.
 */
static void seed_json(void)
{
	uint32_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_INSECURE) != (ssize_t)sizeof(seed))
		seed = 0;
	json_object_seed(seed);		/* 0: jansson's own (/dev/urandom) */
}

static int run(struct ib_agent *a, const struct options *o)
{
	struct ib_agent_instruction *in = malloc(sizeof(*in));
	unsigned err_wait = IB_AGENT_POLL_MS_DEFAULT;
	int r;

	if (!in)
		return -ENOMEM;
	if (a->system) {
		ib_agent_load_modules(MODULE_LIST);
		ib_agent_wait_disks(a->rootfd, DISK_SETTLE_MS);
		ib_agent_net_up(a);
	} else {
		snprintf(a->mac, sizeof(a->mac), "%s", a->cl.mac);
	}
	r = ib_agent_client_init(a);
	if (r < 0) {
		ib_err("agent: no MAC for the boot NIC (ib.mac=)");
		goto out;
	}
	ib_info("agent: server %s, mac %s, mode %s", a->cl.server_text, a->mac,
		ib_agent_mode_name(a->cl.mode));
	r = report(a, o->report_tries);
	if (r < 0)
		goto out;
	for (unsigned n = 0; o->max_polls == 0 || n < o->max_polls; n++) {
		unsigned wait = poll_once(a, in, &err_wait);
		if (wait)
			usleep(wait * 1000u);
	}
	ib_err("agent: %u polls without a final instruction", o->max_polls);
	r = -ETIMEDOUT;
out:
	free(in);
	return r;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	struct options o = { 0 };
	struct ib_agent a = { .rootfd = -1, .devfd = -1 };
	int r;

	base = base ? base + 1 : argv[0];
	if (getpid() == 1)
		ib_agent_init_main(argv[0][0] == '/' ? argv[0] : "/init");
	if (strcmp(base, "ironboot-agent-dhcp-event") == 0)
		return ib_agent_dhcp_event(argc > 1 ? argv[1] : NULL);
	ib_log_setup(IB_LOG_INFO, false, "ironboot-agent");
	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	a.system = o.system;
	a.rootfd = open(o.sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	a.devfd = open(o.dev_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a.rootfd < 0 || a.devfd < 0) {
		ib_err("agent: %s: %s", a.rootfd < 0 ? o.sysroot : o.dev_dir, strerror(errno));
		return 1;
	}
	if (load_cmdline(&a, o.cmdline_file) < 0)
		return 1;
	if (!a.system && !a.cl.has_mac) {
		ib_err("agent: a test run needs ib.mac= on its command line");
		return 2;
	}
	seed_json();
	r = run(&a, &o);
	return r < 0 ? 1 : 0;
}
