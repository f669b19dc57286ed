/*
 * Logging for the shells.  Codecs and policy never log: they return an
 * error and the shell logs once, with the reason and what it did.
 *
 * The log target and threshold are process-wide settings (like syslog's
 * own), set once by main() before the event loop starts.
 */
#ifndef IB_COMMON_LOG_H
#define IB_COMMON_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum ib_log_level {
	IB_LOG_ERR = 3,
	IB_LOG_WARNING = 4,
	IB_LOG_NOTICE = 5,
	IB_LOG_INFO = 6,
	IB_LOG_DEBUG = 7,
};

/* Sends logs to syslog (true) or stderr (false), at or above level.  When
 * stderr is the systemd journal ($JOURNAL_STREAM names it), each line
 * carries its priority as a "<N>" prefix instead of a timestamp. */
void ib_log_setup(enum ib_log_level level, bool use_syslog, const char *ident);
/* Parses "err", "warning", "notice", "info", "debug"; -EINVAL otherwise. */
int ib_log_level_parse(const char *s, enum ib_log_level *ret);
bool ib_log_enabled(enum ib_log_level level);
void ib_log(enum ib_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define ib_err(...) ib_log(IB_LOG_ERR, __VA_ARGS__)
#define ib_warn(...) ib_log(IB_LOG_WARNING, __VA_ARGS__)
#define ib_notice(...) ib_log(IB_LOG_NOTICE, __VA_ARGS__)
#define ib_info(...) ib_log(IB_LOG_INFO, __VA_ARGS__)
#define ib_debug(...) \
	do { if (ib_log_enabled(IB_LOG_DEBUG)) ib_log(IB_LOG_DEBUG, __VA_ARGS__); } while (0)

/* Whether stderr is the systemd journal's stream ($JOURNAL_STREAM names
 * its device and inode). */
bool ib_log_stderr_is_journal(void);

/* Structured fields of a log record (the journal's IRONBOOT_*); any may
 * be NULL. */
struct ib_log_fields {
	const char *mac;		/* IRONBOOT_MAC: the machine, "aa:bb:.." */
	const char *stage;		/* IRONBOOT_STAGE: dhcp4, dhcp6, tftp, http,
					 * machine, power (the journal's proto) */
	const char *event;		/* IRONBOOT_EVENT: the journal's kind */
	const char *detail;		/* IRONBOOT_DETAIL: the event's JSON */
};

/*
 * A structured sink: the systemd journal's native protocol, which the
 * daemon installs when it runs under systemd (src/daemon/log_journald.c).
 * It gets each message formatted, its level and fields (NULL for plain
 * messages) and returns 0, or a negative errno: then the message goes to
 * stderr or syslog as without a sink.  Set once by main(), before the
 * loop and the store's check thread start.
 */
typedef int (*ib_log_sink_fn)(enum ib_log_level level, const char *msg,
			      const struct ib_log_fields *f);
void ib_log_set_sink(ib_log_sink_fn fn);

/*
 * One machine event of the journal (src/journal), as it is stored: with a
 * structured sink, a record at info with the event's fields; without one,
 * nothing (the events are the store's: `ironboot events`), so stderr and
 * syslog read as before.
 */
void ib_log_machine_event(const struct ib_log_fields *f);

/*
 * A warning logged at most once per `every` seconds, with the count of
 * those held back meanwhile (a flood of one kind of failure must not
 * flood the log).
 */
struct ib_log_rate {
	int64_t last;			/* when one was last logged; 0 = never */
	uint64_t held;			/* held back since */
};

/* Whether a warning of w is due at now (seconds).  When it is, w->held
 * counts the ones held back since the last, for the caller's message,
 * and ib_log_rate_logged() starts the next period; when not, this one is
 * counted. */
bool ib_log_rate_due(struct ib_log_rate *w, int64_t now, int64_t every);
/* The caller logged a warning of w at now. */
void ib_log_rate_logged(struct ib_log_rate *w, int64_t now);

#endif
