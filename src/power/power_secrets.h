/*
 * BMC credentials by reference.  The inventory names a credential; the
 * secrets file maps names to user and password:
 *
 *   { "lab-admin": { "user": "admin", "password": "..." }, ... }
 *
 * The file must be a regular file readable by its owner only (mode 0600 or
 * stricter); any group or other bit makes loading fail.  Passwords never
 * appear in a log line or an error message; they are wiped on free.
 */
#ifndef IB_POWER_SECRETS_H
#define IB_POWER_SECRETS_H

#include <stddef.h>

#define IB_SECRETS_MAX 4096		/* entries */
#define IB_SECRET_USERLEN 64		/* with NUL */
#define IB_SECRET_PASSLEN 128		/* with NUL */
#define IB_SECRETS_FILE_MAX (1 << 20)	/* bytes */
#define IB_SECRETS_ERRLEN 256

struct ib_power_secrets;

/*
 * Parses the file's text (pure).  err says what is wrong and where, by
 * entry name, never quoting a value.  Returns 0 or -EINVAL / -ENOMEM.
 */
int ib_power_secrets_parse(const char *buf, size_t len, struct ib_power_secrets **ret,
			   char err[IB_SECRETS_ERRLEN]);
/*
 * Opens path (no symlink), refuses it unless it is a regular file with no
 * group or other permission bits (-EPERM), then parses it.
 */
int ib_power_secrets_load(const char *path, struct ib_power_secrets **ret,
			  char err[IB_SECRETS_ERRLEN]);
/* The user and password of name; -ENOENT if there is no such entry. */
int ib_power_secrets_get(const struct ib_power_secrets *s, const char *name,
			 const char **ret_user, const char **ret_password);
/* Wipes and frees; NULL is accepted. */
void ib_power_secrets_free(struct ib_power_secrets *s);

#endif
