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
