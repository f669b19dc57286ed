/*
 * The daemon's state as systemd's service manager sees it (Type=notify,
 * sd_notify(3)): READY=1 once it serves, RELOADING=1 then READY=1 around a
 * SIGHUP reload (whether the new configuration was taken or refused),
 * STOPPING=1 when it begins to stop.
 *
 * Always compiled: without $NOTIFY_SOCKET (started by hand, by the tests,
 * by another supervisor) every call is a no-op.  A notification that cannot
 * be sent is logged once as a warning; serving never depends on it.
 */
#ifndef IB_DAEMON_NOTIFY_H
#define IB_DAEMON_NOTIFY_H

/* READY=1 and STATUS=status (may be NULL): the service is up, or back
 * from a reload. */
void ib_notify_ready(const char *status);
/* RELOADING=1 (with MONOTONIC_USEC, as systemd 253 and later want it). */
void ib_notify_reloading(void);
/* STOPPING=1: the service is shutting down. */
void ib_notify_stopping(void);

#endif
