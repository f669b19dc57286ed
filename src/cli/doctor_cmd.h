/*
 * `ironboot doctor`: the setup's problems, or with --mac where one
 * machine's boot chain stopped and why (src/doctor holds the rules).
 */
#ifndef IB_CLI_DOCTOR_CMD_H
#define IB_CLI_DOCTOR_CMD_H

#include <stdbool.h>

#include "config/config.h"
#include "store/store.h"

/* What `doctor` runs against. */
struct ib_cli_doctor_env {
	const struct ib_config *cfg;	/* the snapshot (file + API objects) */
	struct ib_store *store;		/* or NULL: it could not be opened */
	const char *store_error;	/* why not, when store is NULL */
	bool json;			/* --json */
};

/* Runs `doctor` (argv[0] is "doctor").  Exit status: 0 clean, 1 warnings,
 * 2 errors (or a usage error). */
int ib_cli_doctor(const struct ib_cli_doctor_env *env, int argc, char **argv);

/* Whether an ironbootd holds cfg's state dir (ironboot.c). */
bool ib_cli_daemon_running(const struct ib_config *cfg);

#endif
