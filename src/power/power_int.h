/*
 * Inside the power module: what the pool hands a driver.  A driver runs on
 * a worker thread, blocks for at most the deadline, and fills res.
 */
#ifndef IB_POWER_POWER_INT_H
#define IB_POWER_POWER_INT_H

#include <stdint.h>

#include "power/power.h"

#define IB_POWER_TIMEOUT_MS_DEFAULT 5000
#define IB_POWER_RETRIES_DEFAULT 1

struct ib_power_call {
	const struct ib_bmc *bmc;	/* the BMC (the job's copy) */
	enum ib_power_op op;		/* what to do */
	const char *user;		/* from the secrets; never logged */
	const char *password;		/* from the secrets; never logged */
	uint64_t deadline_ms;		/* monotonic ms: no attempt runs past it */
};

/* Monotonic milliseconds. */
uint64_t ib_power_now_ms(void);
/* The bound of one attempt: min(bmc timeout, time left), at least 1 ms;
 * 0 once the deadline has passed. */
unsigned ib_power_attempt_ms(const struct ib_power_call *c);

/* IPMI v2.0 RMCP+ (power_ipmi.c). */
void ib_power_ipmi_run(const struct ib_power_call *c, struct ib_power_result *res);
/* Redfish (power_redfish.c).  ib_power_redfish_init() once, before threads. */
int ib_power_redfish_init(void);
void ib_power_redfish_run(const struct ib_power_call *c, struct ib_power_result *res);

#endif
