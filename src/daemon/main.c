/*
 * ironbootd: the network-boot server.
 *
 *   ironbootd --config FILE          serve in the foreground until SIGTERM
 *   ironbootd --check-config FILE    validate FILE and exit (0 = valid)
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "config/config.h"
#include "daemon/check_reach.h"
#include "daemon/daemon.h"
#include "daemon/log_journald.h"
#include "httpd/http_server.h"
#include "inventory/inventory.h"
#include "store/store.h"

#define DEFAULT_CONFIG "/etc/ironboot/ironboot.yaml"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ironbootd [--config FILE] [--check-config FILE]\n"
		"  -c, --config FILE        configuration (default " DEFAULT_CONFIG ")\n"
		"  -t, --check-config FILE  validate the configuration and exit\n"
		"  -V, --version            print the version\n");
}

/*
 * A PostgreSQL server.store: connected to as the daemon would, its schema
 * version read (nothing is changed).  0 when it can serve: *ret_current
 * says whether its schema is this build's (else the daemon's start
 * upgrades it); -errno with the reason on stderr.
 */
static int check_pg(const struct ib_config *cfg, bool *ret_current)
{
	const char *uri = cfg->server.store;
	char err[256] = "";
	int have = 0, r;

	r = ib_store_pg_check(uri, cfg->server.store_password_file, &have, err);
	if (r < 0) {
		fprintf(stderr, "server.store %s: %s\n", uri, err[0] ? err : strerror(-r));
		return r;
	}
	if (have == ib_store_schema_version())
		printf("server.store %s: reachable, schema version %d (this build's)\n", uri,
		       have);
	else
		printf("server.store %s: reachable, schema version %d; the daemon's start "
		       "upgrades it to %d\n", uri, have, ib_store_schema_version());
	*ret_current = have == ib_store_schema_version();
	return 0;
}

/*
 * The stored inventory objects (REST API writes) that the daemon would
 * leave out with this file, named on stderr.  Only reads a store that
 * exists (an SQLite file, a PostgreSQL schema of this build's version):
 * checking a config never creates one.  Returns how many.
 */
static size_t check_stored(const char *path, const struct ib_config *cfg, bool pg_current)
{
	char db[4096], err[IB_CONFIG_ERRLEN];
	struct ib_config_text text = { 0 };
	struct ib_inventory_refused rf = { 0 };
	struct ib_config *full = NULL;
	struct ib_store *store;
	bool pg = ib_store_is_pg(cfg->server.store);

	if (pg && !pg_current)
		return 0;
	snprintf(db, sizeof(db), "%s", pg ? cfg->server.store : "");
	if (!pg)
		snprintf(db, sizeof(db), "%s/ironboot.db", cfg->server.state_dir);
	if (!pg && access(db, F_OK) < 0)
		return 0;
	if (ib_store_open(cfg->server.store, db, cfg->server.store_password_file, &store,
			  err) < 0) {
		fprintf(stderr, "%s: cannot open the store: %s\n", db, err);
		return 0;
	}
	if (ib_config_read(path, &text, err) == 0 &&
	    ib_inventory_load(&text, store, &full, &rf, err) == 0)
		for (size_t i = 0; i < rf.n; i++)
			fprintf(stderr, "%s: stored %s %s is refused and will not be served: %s\n",
				db, ib_config_kind_name(rf.v[i].kind), rf.v[i].name,
				rf.v[i].reason);
	ib_config_free(full);
	free(text.buf);
	ib_store_free(store);
	return rf.n + rf.more;
}

/*
 * The daemon reads http.api_token_file again as server.user on every
 * reload: say now if that user cannot.  Run last, since it becomes that
 * user for good, as the daemon does (its group or server.group, no
 * supplementary groups).  Without root it can only check as itself.
 * Returns 0, or -errno with the reason on stderr.
 */
static int check_token_as_user(const struct ib_config *cfg)
{
	const char *file = cfg->http.api_token_file, *user = cfg->server.user;
	unsigned char sha[32];
	struct group *gr = NULL;
	struct passwd *pw;
	int r;

	if (!user || !file || !cfg->http.enabled)
		return 0;
	if (!(pw = getpwnam(user)) ||
	    (cfg->server.group && !(gr = getgrnam(cfg->server.group)))) {
		fprintf(stderr, "server.%s %s: no such %s\n", pw ? "group" : "user",
			pw ? cfg->server.group : user, pw ? "group" : "user");
		return -ESRCH;
	}
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 ||
			       setgid(gr ? gr->gr_gid : pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)) {
		r = -errno;
		fprintf(stderr, "cannot become server.user %s to check http.api_token_file: %s\n",
			user, strerror(-r));
		return r;
	}
	if (geteuid() != pw->pw_uid) {
		fprintf(stderr, "note: not root: cannot check that server.user %s can read "
			"http.api_token_file %s\n", user, file);
		return 0;
	}
	if ((r = ib_http_token_read(file, sha)) < 0)
		fprintf(stderr, "http.api_token_file %s: server.user %s cannot read it (%s); "
			"the daemon reads it again as that user on every reload, so make it "
			"readable by that user (e.g. owner root, the user's group, mode 0640)\n",
			file, user, ib_http_token_strerror(r));
	return r;
}

/*
 * The token file as the checking user reads it: a config whose API token
 * cannot be read would fail at start.  A file other users can read is
 * said, not refused.  Returns 0, or -errno with the reason on stderr.
 */
static int check_token(const struct ib_config *cfg)
{
	const char *file = cfg->http.api_token_file, *why;
	unsigned char sha[32];
	int r;

	if (!file || !cfg->http.enabled)
		return 0;
	if ((r = ib_http_token_read(file, sha)) < 0) {
		fprintf(stderr, "http.api_token_file %s: %s\n", file, ib_http_token_strerror(r));
		return r;
	}
	if ((why = ib_http_token_exposure(file)))
		fprintf(stderr, "warning: http.api_token_file %s is %s: anyone on this host "
			"can use the API (chmod o-rwx)\n", file, why);
	return 0;
}

static int check_config(const char *path)
{
	char err[IB_CONFIG_ERRLEN];
	struct ib_config *cfg;
	bool pg_current = false;
	size_t refused;

	if (ib_config_load(path, &cfg, err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (ib_store_is_pg(cfg->server.store) && check_pg(cfg, &pg_current) < 0) {
		ib_config_free(cfg);
		return 1;
	}
	refused = check_stored(path, cfg, pg_current);
	ib_check_unreachable_subnets(cfg, stderr);
	if (check_token(cfg) < 0 || check_token_as_user(cfg) < 0) {
		ib_config_free(cfg);
		return 1;
	}
	if (refused)
		printf("%s: configuration valid; %zu stored object(s) refused (see above)\n",
		       path, refused);
	else
		printf("%s: configuration valid\n", path);
	ib_config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	char err[IB_CONFIG_ERRLEN];
	struct ib_config *cfg;
	struct ib_daemon *d;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:t:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 't': return check_config(optarg);
		case 'V': puts("ironbootd " IB_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (ib_config_load(path, &cfg, err) < 0) {
		fprintf(stderr, "ironbootd: %s\n", err);
		return 1;
	}
	ib_log_setup((enum ib_log_level)cfg->server.log_level, cfg->server.syslog, "ironbootd");
	ib_log_journald_setup(cfg->server.syslog, "ironbootd");
	if ((r = ib_daemon_new(cfg, path, &d)) < 0) {
		ib_err("ironbootd: startup failed: %s", strerror(-r));
		return 1;
	}
	r = ib_daemon_run(d);
	ib_daemon_free(d);
	return r < 0 ? 1 : 0;
}
