/*
 * The daemon: owns the event loop, the config snapshot, the store, the
 * journal and the protocol servers, and swaps the snapshot on SIGHUP.
 */
#ifndef IB_DAEMON_DAEMON_H
#define IB_DAEMON_DAEMON_H

#include "config/config.h"

struct ib_daemon;

/*
 * Starts every configured service for cfg (takes ownership of cfg): opens
 * the store under cfg->server.state_dir, binds sockets, drops privileges if
 * a user is configured.  config_path is reread on SIGHUP.
 */
int ib_daemon_new(struct ib_config *cfg, const char *config_path,
		  struct ib_daemon **ret);
/* Runs the event loop until SIGTERM or SIGINT; returns 0 on a clean stop. */
int ib_daemon_run(struct ib_daemon *d);
void ib_daemon_free(struct ib_daemon *d);

/* Path of the SQLite database for a config. */
void ib_daemon_db_path(const struct ib_config *cfg, char *out, size_t outlen);

#endif
