/* Logging to stderr, the systemd journal or syslog: see log.h. */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

static struct {
	enum ib_log_level level;	/* messages above this are dropped */
	bool syslog;			/* syslog instead of stderr */
	bool journal;			/* stderr is the journal: "<N>" prefixes */
	ib_log_sink_fn sink;		/* structured sink first, or NULL */
} log_cfg = { IB_LOG_INFO, false, false, NULL };

#define SINK_MSG_MAX 2048		/* bytes of one message given to the sink */

static const char *const level_names[] = {
	[IB_LOG_ERR] = "err", [IB_LOG_WARNING] = "warning",
	[IB_LOG_NOTICE] = "notice", [IB_LOG_INFO] = "info",
	[IB_LOG_DEBUG] = "debug",
};

/*
 * systemd connects a service's stderr to the journal and says so in
 * $JOURNAL_STREAM ("device:inode" of that stream).  Checked against
 * stderr itself, so a child whose stderr was redirected elsewhere does
 * not take it for the journal.
 */
bool ib_log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void ib_log_setup(enum ib_log_level level, bool use_syslog, const char *ident)
{
	log_cfg.level = level;
	log_cfg.syslog = use_syslog;
	log_cfg.journal = !use_syslog && ib_log_stderr_is_journal();
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

void ib_log_set_sink(ib_log_sink_fn fn)
{
	log_cfg.sink = fn;
}

void ib_log_machine_event(const struct ib_log_fields *f)
{
	char msg[SINK_MSG_MAX];

	if (!log_cfg.sink || !ib_log_enabled(IB_LOG_INFO))
		return;
	snprintf(msg, sizeof(msg), "%s %s %s %s", f->stage ? f->stage : "-",
		 f->event ? f->event : "-", f->mac && f->mac[0] ? f->mac : "-",
		 f->detail ? f->detail : "{}");
	log_cfg.sink(IB_LOG_INFO, msg, f);
}

/* The message to the sink; false if there is none or it failed. */
__attribute__((format(printf, 2, 0)))
static bool to_sink(enum ib_log_level level, const char *fmt, va_list ap)
{
	char msg[SINK_MSG_MAX];

	if (!log_cfg.sink)
		return false;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	return log_cfg.sink(level, msg, NULL) == 0;
}

void ib_log(enum ib_log_level level, const char *fmt, ...)
{
	va_list ap;
	bool sunk;

	if (!ib_log_enabled(level))
		return;
	va_start(ap, fmt);
	sunk = to_sink(level, fmt, ap);
	va_end(ap);
	if (sunk)
		return;
	va_start(ap, fmt);
	if (log_cfg.syslog) {
		vsyslog((int)level, fmt, ap);
	} else if (log_cfg.journal) {
		/* sd-daemon(3) prefix: the journal takes the priority from it
		 * (journalctl -p err) and stamps the time itself */
		flockfile(stderr);
		fprintf(stderr, "<%d>%s: ", (int)level, level_names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		funlockfile(stderr);
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

bool ib_log_rate_due(struct ib_log_rate *w, int64_t now, int64_t every)
{
	if (w->last && now - w->last < every) {
		w->held++;
		return false;
	}
	return true;
}

void ib_log_rate_logged(struct ib_log_rate *w, int64_t now)
{
	w->last = now;
	w->held = 0;
}
