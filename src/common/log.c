/* Logging to stderr or syslog: see log.h. */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static struct {
	enum ib_log_level level;	/* messages above this are dropped */
	bool syslog;			/* syslog instead of stderr */
} log_cfg = { IB_LOG_INFO, false };

static const char *const level_names[] = {
	[IB_LOG_ERR] = "err", [IB_LOG_WARNING] = "warning",
	[IB_LOG_NOTICE] = "notice", [IB_LOG_INFO] = "info",
	[IB_LOG_DEBUG] = "debug",
};

void ib_log_setup(enum ib_log_level level, bool use_syslog, const char *ident)
{
	log_cfg.level = level;
	log_cfg.syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int ib_log_level_parse(const char *s, enum ib_log_level *ret)
{
	for (size_t i = IB_LOG_ERR; i <= IB_LOG_DEBUG; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*ret = (enum ib_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool ib_log_enabled(enum ib_log_level level)
{
	return level <= log_cfg.level;
}

void ib_log(enum ib_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!ib_log_enabled(level))
		return;
	va_start(ap, fmt);
	if (log_cfg.syslog) {
		vsyslog((int)level, fmt, ap);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		flockfile(stderr);	/* one line, even from the store's check thread */
		fprintf(stderr, "%s.%03ldZ %s: ", stamp, ts.tv_nsec / 1000000,
			level_names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		funlockfile(stderr);
	}
	va_end(ap);
}
