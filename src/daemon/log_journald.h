/*
 * Logging to the systemd journal with structured fields (sd_journal_send,
 * the journal's native protocol), when the daemon runs under systemd:
 * $JOURNAL_STREAM names stderr, or the service manager set $INVOCATION_ID.
 * Each message is a record with MESSAGE, PRIORITY and SYSLOG_IDENTIFIER;
 * each machine event of the journal (src/journal) one more, with
 * IRONBOOT_MAC, IRONBOOT_STAGE, IRONBOOT_EVENT and IRONBOOT_DETAIL, so
 * `journalctl IRONBOOT_MAC=52:54:00:00:00:10` is that machine's timeline.
 * Elsewhere (by hand, in the tests, `server.syslog: true`) logging stays
 * stderr or syslog.
 */
#ifndef IB_DAEMON_LOG_JOURNALD_H
#define IB_DAEMON_LOG_JOURNALD_H

#include <stdbool.h>

/*
 * Installs the journal sink (ib_log_set_sink) when running under systemd,
 * use_syslog is false and the journal's socket is there; ident is
 * SYSLOG_IDENTIFIER (not copied: a literal).  Returns whether it did.  A
 * record the journal refuses goes to stderr instead.
 */
bool ib_log_journald_setup(bool use_syslog, const char *ident);

#endif
