/*
 * The agent program's shared context (the shells: agent_main.c,
 * agent_client.c, agent_wipe.c, agent_install.c, agent_sys.c,
 * agent_bmc.c).  docs/AGENT.md describes what the agent does and the
 * protocol; this is how the program holds it together.
 */
#ifndef IB_AGENT_H
#define IB_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/agent_cmdline.h"
#include "agent/agent_proto.h"
#include "agent/agent_report.h"

#define IB_AGENT_HTTP_TIMEOUT_MS 10000	/* each wait on the daemon's socket */
#define IB_AGENT_IMAGE_TIMEOUT_MS 60000	/* each wait on an image download */
#define IB_AGENT_PROGRESS_EVERY_MS 2000	/* running progress, at most this often */

/* One agent run. */
struct ib_agent {
	struct ib_agent_cmdline cl;	/* the command line's settings */
	char mac[18];			/* the boot NIC's MAC, "" when unknown */
	int rootfd;			/* "/" or --sysroot: what the report reads */
	int devfd;			/* "/dev" or --dev-dir: the disks' nodes */
	bool system;			/* the machine's own agent: it loads modules,
					 * brings up the NIC, powers off and reboots;
					 * otherwise it acts only on --dev-dir */
	struct ib_agent_url report_url;		/* POST /api/v1/agent/report */
	struct ib_agent_url instruction_url;	/* GET /api/v1/agent/instruction?mac= */
	struct ib_agent_url progress_url;	/* POST /api/v1/agent/progress */
	const char *instruction_id;	/* of the action under way, for progress */
};

/* ---- agent_client.c: the daemon's API ---------------------------------- */

/* Fills the three API URLs from the server URL and the MAC.  0 or -errno. */
int ib_agent_client_init(struct ib_agent *a);
/*
 * POSTs the report body until the daemon answers 2xx: retries every 2 s,
 * backing off to 30 s.  Never gives up (without a daemon the agent has
 * nothing to do) unless max_tries > 0 (tests): -ETIMEDOUT then.
 */
int ib_agent_client_report(struct ib_agent *a, const char *body, unsigned max_tries);
/*
 * GETs the next instruction (one try).  0 with *ret filled; -errno for a
 * transport error, -EACCES for 401/403, -EPROTO for another status,
 * -EBADMSG/-EINVAL for an instruction refused (*ret_why says why).
 */
int ib_agent_client_instruction(struct ib_agent *a, struct ib_agent_instruction *ret,
				const char **ret_why);
/* POSTs one progress report (two tries, short timeout; never fatal). */
void ib_agent_client_progress(struct ib_agent *a, struct ib_agent_progress *p);

/* ---- agent_wipe.c, agent_install.c: the actions ------------------------ */

/* Wipes the disks in, or every wipeable disk.  0 when every disk was wiped. */
int ib_agent_wipe(struct ib_agent *a, const struct ib_agent_instruction *in);
/* Streams the image of in onto its disk.  0 when written and verified. */
int ib_agent_install(struct ib_agent *a, const struct ib_agent_instruction *in);

/*
 * Zeroes the wipe plan of fd (size bytes), after a whole-device discard
 * when can_discard.  *ret_zeroed: bytes zeroed; *ret_discard: 0 when the
 * discard worked, else its -errno.  0 or -errno of the zeroing.
 */
int ib_agent_wipe_fd(int fd, uint64_t size, bool can_discard,
		     uint64_t *ret_zeroed, int *ret_discard);
/* The size of a disk or a regular file standing in for one.  0 or -errno. */
int ib_agent_fd_size(int fd, uint64_t *ret);

/* ---- agent_sys.c: the machine ------------------------------------------ */

/* PID 1: mounts, console, starts the agent and reaps; never returns. */
void ib_agent_init_main(const char *self) __attribute__((noreturn));
/* Loads the image's modules (listfile, one .ko path a line), in order. */
void ib_agent_load_modules(const char *listfile);
/* Waits up to timeout_ms for the block device list to settle. */
void ib_agent_wait_disks(int rootfd, int timeout_ms);
/*
 * Picks the boot NIC (the one with mac, or the first with a carrier),
 * brings it up and gets an IPv4 lease with busybox udhcpc, whose event
 * script is this program (ib_agent_dhcp_event).  Retries until it works.
 * Writes the NIC's MAC into a->mac.
 */
void ib_agent_net_up(struct ib_agent *a);
/* udhcpc's event script: configures the interface from its environment. */
int ib_agent_dhcp_event(const char *event);
/* Syncs and powers off (cmd: RB_POWER_OFF or RB_AUTOBOOT); never returns. */
void ib_agent_power(int cmd) __attribute__((noreturn));
/* Monotonic milliseconds. */
uint64_t ib_agent_now_ms(void);

/* ---- agent_bmc.c -------------------------------------------------------- */

/* Asks the BMC behind devfd's ipmi0 for its LAN settings, into *ret. */
void ib_agent_bmc_probe(int devfd, struct ib_agent_bmc *ret);

#endif
