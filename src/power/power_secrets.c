/*
 * The secrets file's parser (pure; power_secrets_file.c reads the file).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "power/power.h"
#include "power/power_secrets.h"

struct secret {
	char name[IB_POWER_NAMELEN];		/* the reference */
	char user[IB_SECRET_USERLEN];		/* BMC user */
	char password[IB_SECRET_PASSLEN];	/* BMC password */
};

struct ib_power_secrets {
	size_t n;			/* entries used */
	struct secret *v;		/* n entries */
};

/* A printable name (it reaches error messages): no control bytes. */
static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IB_POWER_NAMELEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int copy_field(json_t *o, const char *key, char *out, size_t len)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	if (json_string_length(v) != strlen(s) || strlen(s) >= len)
		return -EINVAL;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int ib_power_secrets_parse(const char *buf, size_t len, struct ib_power_secrets **ret,
			   char err[IB_SECRETS_ERRLEN])
{
	struct ib_power_secrets *s;
	json_error_t je;
	const char *k;
	json_t *root, *v;

	/* JSON_REJECT_DUPLICATES: one name, one credential */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		/* je.text may quote input; say only where */
		snprintf(err, IB_SECRETS_ERRLEN, "not valid JSON at line %d", je.line);
		return -EINVAL;
	}
	if (!json_is_object(root) || json_object_size(root) > IB_SECRETS_MAX) {
		snprintf(err, IB_SECRETS_ERRLEN, "must be an object of at most %d entries",
			 IB_SECRETS_MAX);
		json_decref(root);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s && json_object_size(root))
		s->v = calloc(json_object_size(root), sizeof(*s->v));
	if (!s || (json_object_size(root) && !s->v)) {
		free(s);
		json_decref(root);
		return -ENOMEM;
	}
	json_object_foreach(root, k, v) {
		struct secret *e = &s->v[s->n];

		if (!name_ok(k)) {
			snprintf(err, IB_SECRETS_ERRLEN, "entry %zu: bad name", s->n + 1);
			goto err_entry;
		}
		if (!json_is_object(v) || json_object_size(v) != 2 ||
		    copy_field(v, "user", e->user, sizeof(e->user)) < 0 ||
		    copy_field(v, "password", e->password, sizeof(e->password)) < 0) {
			snprintf(err, IB_SECRETS_ERRLEN,
				 "%s: needs exactly \"user\" (< %d bytes) and \"password\" (< %d bytes)",
				 k, IB_SECRET_USERLEN, IB_SECRET_PASSLEN);
			goto err_entry;
		}
		memcpy(e->name, k, strlen(k) + 1);
		s->n++;
	}
	json_decref(root);
	*ret = s;
	return 0;
err_entry:
	json_decref(root);
	ib_power_secrets_free(s);
	return -EINVAL;
}

int ib_power_secrets_get(const struct ib_power_secrets *s, const char *name,
			 const char **ret_user, const char **ret_password)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0) {
			*ret_user = s->v[i].user;
			*ret_password = s->v[i].password;
			return 0;
		}
	return -ENOENT;
}

void ib_power_secrets_free(struct ib_power_secrets *s)
{
	if (!s)
		return;
	if (s->v)
		explicit_bzero(s->v, s->n * sizeof(*s->v));
	free(s->v);
	free(s);
}
