/* Logging to the systemd journal's native protocol: see log_journald.h. */
#include "daemon/log_journald.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "common/log.h"

#define FIELD_MAX 2200			/* "IRONBOOT_DETAIL=" + a 768-byte detail, a
					 * 2048-byte message + its key */

#define JOURNAL_SOCKET "/run/systemd/journal/socket"	/* sd_journal_send's */

static const char *journal_ident;	/* SYSLOG_IDENTIFIER, set once by main() */

/* Appends "KEY=value" to iov (value may be NULL: nothing) in buf. */
static void field(struct iovec *iov, size_t *n, char buf[][FIELD_MAX], const char *key,
		  const char *value)
{
	int len;

	if (!value || !value[0])
		return;
	len = snprintf(buf[*n], FIELD_MAX, "%s=%s", key, value);
	iov[*n].iov_base = buf[*n];
	iov[*n].iov_len = len < FIELD_MAX ? (size_t)len : FIELD_MAX - 1;
	(*n)++;
}

static int journald_sink(enum ib_log_level level, const char *msg,
			 const struct ib_log_fields *f)
{
	char buf[7][FIELD_MAX], prio[2] = { (char)('0' + (int)level), '\0' };
	struct iovec iov[7];
	size_t n = 0;

	field(iov, &n, buf, "MESSAGE", msg);
	field(iov, &n, buf, "PRIORITY", prio);
	field(iov, &n, buf, "SYSLOG_IDENTIFIER", journal_ident);
	if (f) {
		field(iov, &n, buf, "IRONBOOT_MAC", f->mac);
		field(iov, &n, buf, "IRONBOOT_STAGE", f->stage);
		field(iov, &n, buf, "IRONBOOT_EVENT", f->event);
		field(iov, &n, buf, "IRONBOOT_DETAIL", f->detail);
	}
	return sd_journal_sendv(iov, (int)n);
}

/* sd_journal_send() drops a record silently (returns 0) when there is no
 * journal socket, so its absence is checked here: then stderr it is. */
static bool journal_socket_exists(void)
{
	struct stat st;

	return stat(JOURNAL_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode);
}

bool ib_log_journald_setup(bool use_syslog, const char *ident)
{
	const char *inv = getenv("INVOCATION_ID");

	if (use_syslog || (!ib_log_stderr_is_journal() && !(inv && inv[0])) ||
	    !journal_socket_exists())
		return false;
	journal_ident = ident;
	ib_log_set_sink(journald_sink);
	return true;
}
