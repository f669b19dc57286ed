/*
 * Power control of machines through their BMCs (issue #13): IPMI v2.0
 * (RMCP+, libfreeipmi) and Redfish (libcurl + jansson).
 *
 * One call, ib_power_op(), queues an operation; a pool of worker threads
 * runs it with the BMC's timeouts and retries, and the callback runs on the
 * libevent loop that owns the ib_power.  A BMC that answers nothing costs a
 * worker for at most its deadline and never the loop.  The pool's size is
 * the concurrency bound: with 32 workers, 32 BMCs are talked to at once and
 * the rest wait in the queue in order.  docs/POWER.md says why workers and
 * not libcurl's multi interface on the loop.
 */
#ifndef IB_POWER_POWER_H
#define IB_POWER_POWER_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;

#define IB_POWER_NAMELEN 64		/* a BMC's or a credential's name, with NUL */
#define IB_POWER_ADDRLEN 256		/* IPMI host, or Redfish base URL */
#define IB_POWER_PATHLEN 256		/* a CA file */
#define IB_POWER_MSGLEN 256		/* a result's message */
#define IB_POWER_WORKERS_MAX 256	/* the pool's upper bound */

enum ib_power_op {
	IB_POWER_STATUS,	/* read the power state */
	IB_POWER_ON,		/* power up */
	IB_POWER_OFF,		/* hard power off */
	IB_POWER_CYCLE,		/* off then on (a reset if the BMC has no cycle) */
	IB_POWER_SOFT,		/* graceful shutdown (ACPI) */
	IB_POWER_PXE_ONCE,	/* next boot only from the network */
	IB_POWER_DISK_ONCE,	/* next boot only from the disk */
	IB_POWER_OP_COUNT,
};

enum ib_power_state {
	IB_POWER_STATE_UNKNOWN,	/* not read (an action's result), or not said */
	IB_POWER_STATE_ON,
	IB_POWER_STATE_OFF,
};

/* IPMI session workarounds (freeipmi's, by the names its tools use). */
enum {
	IB_IPMI_WA_OPENSESSPRIV = 1u << 0,	/* "opensesspriv": ipmi_sim, some HP */
	IB_IPMI_WA_AUTHCAP = 1u << 1,		/* "authcap" */
	IB_IPMI_WA_INTEL20 = 1u << 2,		/* "intel20" */
	IB_IPMI_WA_SUPERMICRO20 = 1u << 3,	/* "supermicro20" */
	IB_IPMI_WA_SUN20 = 1u << 4,		/* "sun20" */
	IB_IPMI_WA_INTEGRITYCHECKVALUE = 1u << 5, /* "integritycheckvalue" */
	IB_IPMI_WA_NOCHECKSUMCHECK = 1u << 6,	/* "nochecksumcheck" */
};

enum ib_bmc_driver {
	IB_BMC_IPMI,		/* IPMI v2.0 RMCP+ on UDP 623 */
	IB_BMC_REDFISH,		/* Redfish over HTTPS (or HTTP for tests) */
};

/*
 * One BMC, as the inventory will hold it.  No secret is here: credential
 * names an entry of the secrets file (power_secrets.h).
 */
struct ib_bmc {
	char name[IB_POWER_NAMELEN];		/* for logs and errors */
	enum ib_bmc_driver driver;		/* which protocol */
	char address[IB_POWER_ADDRLEN];		/* IPMI: host[:port]; Redfish: https://host[:port] */
	char credential[IB_POWER_NAMELEN];	/* the secrets file's entry */
	uint8_t cipher_suite;			/* IPMI: 3 or 17 (default 3) */
	uint32_t ipmi_workarounds;		/* IPMI: IB_IPMI_WA_* bits for quirky BMCs */
	bool efi;				/* boot overrides ask for UEFI boot */
	bool insecure;				/* Redfish: do not verify TLS (explicit) */
	bool basic_auth;			/* Redfish: basic auth instead of a session */
	char ca_file[IB_POWER_PATHLEN];		/* Redfish: CA bundle, "" = system's */
	char system[IB_POWER_ADDRLEN];		/* Redfish: system path, "" = discover */
	unsigned timeout_ms;			/* one attempt's bound (default 5000) */
	unsigned retries;			/* further attempts after a timeout (default 1) */
	unsigned deadline_ms;			/* the whole operation's bound; 0 = timeout_ms x
						 * (retries + 1).  A Redfish operation is 3 to 6
						 * requests, all within it */
};

struct ib_power_result {
	int err;				/* 0, or -errno (-ETIMEDOUT, -EACCES, -EPROTO...) */
	enum ib_power_state state;		/* after STATUS; UNKNOWN otherwise */
	unsigned attempts;			/* attempts made */
	uint64_t elapsed_ms;			/* from queueing to the result */
	char msg[IB_POWER_MSGLEN];		/* why it failed, naming the BMC; never a secret */
};

/* Called on the loop once per ib_power_op().  bmc is the caller's copy
 * as queued (valid during the call only). */
typedef void (*ib_power_cb)(const struct ib_bmc *bmc, enum ib_power_op op,
			    const struct ib_power_result *res, void *arg);

struct ib_power;
struct ib_power_secrets;

/*
 * Starts the pool: workers threads (0 = 32) delivering results on base.
 * Takes ownership of secrets (freed by ib_power_free).  Returns 0 or -errno.
 */
int ib_power_new(struct event_base *base, struct ib_power_secrets *secrets,
		 unsigned workers, struct ib_power **ret);
/*
 * Queues op on bmc (copied); cb(arg) runs on the loop with the result.
 * Returns 0, or -EINVAL for an op the driver does not have.
 */
int ib_power_op(struct ib_power *p, const struct ib_bmc *bmc, enum ib_power_op op,
		ib_power_cb cb, void *arg);
/* Operations queued or running. */
unsigned ib_power_pending(const struct ib_power *p);
/* Stops the workers (waits for running operations; queued ones get
 * -ECANCELED, delivered by no callback) and frees. NULL is accepted. */
void ib_power_free(struct ib_power *p);

/* "status", "on", ...; NULL for an unknown op. */
const char *ib_power_op_name(enum ib_power_op op);
/* Parses an op name; -EINVAL if unknown. */
int ib_power_op_parse(const char *s, enum ib_power_op *ret);
const char *ib_power_state_name(enum ib_power_state s);

#endif
