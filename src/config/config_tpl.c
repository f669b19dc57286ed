/*
 * The templates of the HTTP boot service, compiled at load so that a
 * syntax error fails the load (and SIGHUP keeps the old snapshot) instead
 * of failing a machine's boot.  Template files are read from http.templates
 * with openat2(RESOLVE_BENEATH): a name may not be absolute, hold a ".."
 * component or resolve (through symlinks) outside that directory.
 *
 * Profiles without a script get a built-in one, itself a template in the
 * IPXE context, so every value reaching a script goes through the same
 * escaping (src/http/template_escape.c) whether the operator wrote the
 * script or not:
 *
 *   #!ipxe
 *   echo ironboot: mac {{mac}} group {{group}} profile {{profile}}
 *   kernel {{kernel_url}} <arg> <arg> ...        (each arg a template)
 *   initrd {{.}}                                 (once per initrd_urls item)
 *   boot
 *
 * and for boot: local, "exit" or "sanboot --no-describe --drive 0x80" in
 * place of the last three lines.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

#define SCRIPT_HEAD "#!ipxe\necho ironboot: mac {{mac}} group {{group}} profile {{profile}}"

/* A template name: relative, no "..", no empty component. */
static bool tpl_name_ok(const char *s)
{
	const char *p = s;

	if (!s[0] || s[0] == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/' && !*++p)
			return false;	/* trailing '/' */
	}
	return true;
}

static int open_beneath(int dirfd, const char *name)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	/* Kernels before 5.6: the name has no "..", refuse a final symlink. */
	if (fd < 0 && errno == ENOSYS)
		fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

/* Reads dir/name, at most IB_TPL_SRC_MAX bytes, into a malloc'ed buffer. */
static int read_template(const char *dir, const char *name, char **ret_buf, size_t *ret_len)
{
	size_t cap = IB_TPL_SRC_MAX + 1, len = 0;
	char *buf;
	int dfd, fd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = open_beneath(dfd, name);
	close(dfd);
	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			free(buf);
			close(fd);
			return e;
		}
		len += (size_t)n;
		if (n == 0 || len == cap)
			break;
	}
	close(fd);
	*ret_buf = buf;
	*ret_len = len;		/* IB_TPL_SRC_MAX + 1: the compiler says too large */
	return 0;
}

/* A template file named in a profile, and where the name is in the tree. */
struct tpl_ref {
	const struct ib_ynode *pmap;	/* the profile's mapping */
	const char *list;		/* "configs", or NULL for the profile's own key */
	size_t j;			/* index in list */
	const char *key;		/* "script" or "template" */
	const char *name;		/* the file name under http.templates */
	enum ib_tpl_context ctx;	/* escaping of the template */
};

/* Reports at the key that names the template. */
static int fail_tpl(struct ib_cfg_walk *w, const struct tpl_ref *t, const char *msg)
{
	return ib_cfg_fail_in(w, t->pmap, t->list, t->j, t->key, "%s", msg);
}

/* Compiles t's file under http.templates into *ret. */
static int compile_file(struct ib_cfg_walk *w, const struct ib_config *cfg,
			const struct tpl_ref *t, struct ib_tpl **ret)
{
	char msg[IB_CONFIG_ERRLEN], terr[IB_TPL_ERRLEN], path[4200];
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (!tpl_name_ok(t->name))
		return fail_tpl(w, t, "template name must be relative, without '..' or empty components");
	r = read_template(cfg->http.templates, t->name, &buf, &len);
	if (r == -ENOMEM)
		return ib_cfg_fail_nomem(w->err);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "cannot read template '%s' under %s: %s", t->name,
			 cfg->http.templates, strerror(-r));
		return fail_tpl(w, t, msg);
	}
	snprintf(path, sizeof(path), "%s/%s", cfg->http.templates, t->name);
	r = ib_tpl_compile(path, buf, len, t->ctx, ret, terr);
	free(buf);
	if (r == -ENOMEM)
		return ib_cfg_fail_nomem(w->err);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "template error: %s", terr);
		return fail_tpl(w, t, msg);
	}
	return 0;
}

/* The built-in script of profile p (see the top of the file), malloc'ed. */
static char *builtin_source(const struct ib_profile *p)
{
	size_t len = sizeof(SCRIPT_HEAD) + 128;
	char *s, *e;

	for (size_t i = 0; i < p->n_args; i++)
		len += strlen(p->args[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	e = s + sprintf(s, "%s\n", SCRIPT_HEAD);
	if (p->boot == IB_BOOT_LOCAL) {
		sprintf(e, "%s\n", p->local_method == IB_LOCAL_SANBOOT ?
			"sanboot --no-describe --drive 0x80" : "exit");
		return s;
	}
	e += sprintf(e, "kernel {{kernel_url}}");
	for (size_t i = 0; i < p->n_args; i++)
		e += sprintf(e, " %s", p->args[i]);
	sprintf(e, "\n{{#initrd_urls}}\ninitrd {{.}}\n{{/initrd_urls}}\nboot\n");
	return s;
}

static int compile_builtin(struct ib_cfg_walk *w, const struct ib_ynode *pmap,
			   struct ib_profile *p)
{
	char name[IB_CFG_NAME_MAX + 32], terr[IB_TPL_ERRLEN];
	char *src = builtin_source(p);
	int r;

	if (!src)
		return ib_cfg_fail_nomem(w->err);
	snprintf(name, sizeof(name), "built-in script of %s", p->name);
	r = ib_tpl_compile(name, src, strlen(src), IB_TPL_IPXE, &p->script_tpl, terr);
	free(src);
	if (r == -ENOMEM)
		return ib_cfg_fail_nomem(w->err);
	if (r < 0)	/* the args compiled one by one: not expected */
		return ib_cfg_fail_in(w, pmap, NULL, 0, "args", "template error: %s", terr);
	return 0;
}

/* Compiles the script and the install configs of profile i. */
static int compile_profile(struct ib_cfg_walk *w, const struct ib_ynode *root,
			   struct ib_config *cfg, size_t i)
{
	struct ib_profile *p = &cfg->profiles[i];
	size_t mark = w->path_len;
	const struct ib_ynode *pmap;
	int r = 0;

	ib_cfg_path_key(w, "profiles");
	ib_cfg_path_index(w, i);
	pmap = ib_ynode_item(ib_ynode_get(root, "profiles"), i);
	if (p->script) {
		struct tpl_ref t = { pmap, NULL, 0, "script", p->script, IB_TPL_IPXE };

		r = compile_file(w, cfg, &t, &p->script_tpl);
	} else {
		r = compile_builtin(w, pmap, p);
	}
	for (size_t j = 0; j < p->n_configs && r == 0; j++) {
		struct ib_install_config *c = &p->configs[j];
		struct tpl_ref t = { pmap, "configs", j, "template", c->template, c->format };

		r = compile_file(w, cfg, &t, &c->tpl);
	}
	ib_cfg_path_pop(w, mark);
	return r;
}

int ib_cfg_compile_templates(struct ib_cfg_walk *w, const struct ib_ynode *root,
			     struct ib_config *cfg)
{
	int r = 0;

	for (size_t i = 0; i < cfg->n_profiles && r == 0; i++)
		r = compile_profile(w, root, cfg, i);
	return r;
}
