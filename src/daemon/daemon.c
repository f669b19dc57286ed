/*
 * The daemon: event loop, signals, the config snapshot and its reload, the
 * store and journal, and the protocol servers.  See daemon.h.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon_metrics.h"
#include "daemon/notify.h"
#include "daemon/peers.h"
#include "daemon/power_ctl.h"
#include "daemon/services.h"
#include "daemon/store_watch.h"
#include "dhcp4/dhcp4_server.h"
#include "dhcp6/dhcp6_server.h"
#include "inventory/inventory.h"
#include "journal/journal.h"
#include "store/store.h"
#include "store/store_health.h"

struct ib_daemon {
	struct event_base *base;	/* the loop */
	struct ib_config *cfg;		/* current snapshot, owned */
	char *config_path;		/* reread on SIGHUP */
	struct ib_config_text text;	/* its bytes as last loaded (API writes join these) */
	struct ib_store *store;		/* owned */
	struct ib_store_watch *store_watch; /* its link, on PostgreSQL; or NULL */
	struct ib_dhcp_committer *committer; /* the DHCP group commit's thread and
					 * connection, on PostgreSQL; or NULL */
	struct ib_journal *journal;	/* owned */
	struct ib_dhcp4_server *dhcp4;	/* or NULL when disabled */
	struct ib_dhcp6_server *dhcp6;	/* or NULL when disabled */
	struct ib_services *services;	/* TFTP and later services */
	struct ib_metrics_cache metrics_cache; /* /metrics' store reads */
	struct ib_powerctl *power;	/* BMC power control (docs/POWER.md) */
	struct ib_peers *peers;		/* other daemons on the store, the leader */
	struct event *sig_term, *sig_int, *sig_hup;
	int lock_fd;			/* state_dir/ironbootd.lock, held (flock) */
	pthread_t check_thread;		/* quick_check and backup of the store */
	bool check_started;		/* check_thread is to be joined */
	char db_path[4200];		/* the store's file */
	int64_t probe_us;		/* when /readyz last wrote to the store, or 0 */
	int probe_r;			/* and what the write returned */
	int64_t locked_since_us;	/* when a probe first found another
					 * connection holding the store's write
					 * lock (still held), or 0 */
};

/* Whether two optional strings (NULL = unset) say the same. */
static bool same_opt(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

void ib_daemon_db_path(const struct ib_config *cfg, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/ironboot.db", cfg->server.state_dir);
}

/* mkdir -p for the state directory. */
static int make_dirs(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * After setuid(): CAP_NET_BIND_SERVICE alone stays, effective, so a
 * reload that moves a listener (TFTP's port 69 to another below 1024)
 * can bind it; every other capability goes.  Where the bounding set
 * lacks it, none stays (warned): such a reload is then refused.
 */
static int keep_bind_cap(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	c[0].effective = c[0].permitted = 1u << CAP_NET_BIND_SERVICE;
	if (syscall(SYS_capset, &h, c) < 0) {
		memset(c, 0, sizeof(c));
		if (syscall(SYS_capset, &h, c) < 0)
			return -errno;
		ib_warn("cannot keep CAP_NET_BIND_SERVICE: a reload cannot bind ports below 1024");
	}
	return prctl(PR_SET_KEEPCAPS, 0) < 0 ? -errno : 0;
}

/*
 * The API token file is read again, as server.user, on every reload: a
 * file only root can read would refuse them all, so say it at start.
 */
static int check_token_readable(const struct ib_config *cfg)
{
	unsigned char sha[32];
	int r;

	if (!cfg->http.enabled || !cfg->http.api_token_file ||
	    (r = ib_http_token_read(cfg->http.api_token_file, sha)) == 0)
		return 0;
	ib_err("http.api_token_file %s: server.user %s cannot read it (%s); it is read "
	       "again as that user on every reload, so make it readable by that user "
	       "(e.g. owner root, the user's group, mode 0640)", cfg->http.api_token_file,
	       cfg->server.user, ib_http_token_strerror(r));
	return r;
}

/*
 * Drops root after the sockets are bound: the state directory and database
 * files are handed to the user first so the store stays writable.
 */
static int drop_privileges(const struct ib_config *cfg)
{
	const char *files[] = { "", "/ironboot.db", "/ironboot.db-wal", "/ironboot.db-shm" };
	struct passwd *pw;
	gid_t gid;
	int r;

	if (!cfg->server.user)
		return 0;
	pw = getpwnam(cfg->server.user);
	if (!pw) {
		ib_err("server.user %s: no such user", cfg->server.user);
		return -ESRCH;
	}
	gid = pw->pw_gid;
	if (cfg->server.group) {
		struct group *gr = getgrnam(cfg->server.group);

		if (!gr) {
			ib_err("server.group %s: no such group", cfg->server.group);
			return -ESRCH;
		}
		gid = gr->gr_gid;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char p[4200];

		snprintf(p, sizeof(p), "%s%s", cfg->server.state_dir, files[i]);
		if (chown(p, pw->pw_uid, gid) < 0 && errno != ENOENT)
			return -errno;
	}
	/* PR_SET_KEEPCAPS: setuid() keeps the permitted set, for keep_bind_cap() */
	if (prctl(PR_SET_KEEPCAPS, 1) < 0 || setgroups(0, NULL) < 0 || setgid(gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return -errno;
	if ((r = keep_bind_cap()) < 0)
		return r;
	ib_info("dropped privileges to %s", cfg->server.user);
	return check_token_readable(cfg);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct ib_daemon *d = arg;

	ib_notice("signal %d: stopping", (int)sig);
	ib_notify_stopping();
	event_base_loopexit(d->base, NULL);
}

/* Serves next from now on (takes ownership), or keeps the current
 * snapshot when a service refuses next.  Each DHCP server refuses with
 * nothing changed, and its rollback reuses what it had (interfaces,
 * counters), so a refusal never leaves one serving next, which is freed
 * here, even when the current snapshot's interfaces are gone. */
static int swap_snapshot(struct ib_daemon *d, struct ib_config *next)
{
	int r = 0;

	if (d->dhcp4 && (r = ib_dhcp4_server_reconfigure(d->dhcp4, next)) < 0)
		goto err;
	if (d->dhcp6 && (r = ib_dhcp6_server_reconfigure(d->dhcp6, next)) < 0)
		goto err_dhcp4;
	if ((r = ib_services_reconfigure(d->services, next)) < 0)
		goto err_services;
	ib_journal_set_config(d->journal, &next->journal);
	if (d->power)
		ib_powerctl_reconfigure(d->power, next, false);
	ib_config_free(d->cfg);
	d->cfg = next;
	return 0;
err_services:			/* the services refused with nothing changed */
	if (d->dhcp6)
		ib_dhcp6_server_rollback(d->dhcp6);
err_dhcp4:
	if (d->dhcp4)
		ib_dhcp4_server_rollback(d->dhcp4);
err:
	ib_config_free(next);
	return r;
}

/* Says which stored objects the snapshot leaves out, and how to fix it. */
static void log_refused(const struct ib_inventory_refused *rf)
{
	for (size_t i = 0; i < rf->n; i++)
		ib_err("inventory: stored %s %s refused, serving everything else without "
		       "it: %s (fix it, or remove it with `ironboot %s delete %s`)",
		       ib_config_kind_name(rf->v[i].kind), rf->v[i].name, rf->v[i].reason,
		       ib_config_kind_name(rf->v[i].kind), rf->v[i].name);
	if (rf->more)
		ib_err("inventory: %zu more stored objects refused", rf->more);
}

static void on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct ib_daemon *d = arg;
	char err[IB_CONFIG_ERRLEN];
	struct ib_config_text text = { 0 };
	struct ib_inventory_refused rf;
	struct ib_config *next;
	int r;

	ib_notify_reloading();
	if (ib_config_read(d->config_path, &text, err) < 0 ||
	    ib_inventory_load(&text, d->store, &next, &rf, err) < 0) {
		free(text.buf);
		ib_err("reload refused, still serving the previous configuration: %s", err);
		ib_notify_ready("serving the previous configuration: reload refused");
		return;
	}
	if (strcmp(next->server.state_dir, d->cfg->server.state_dir) != 0)
		ib_warn("reload: server.state_dir changes need a restart; ignored");
	if (!same_opt(next->server.store, d->cfg->server.store) ||
	    !same_opt(next->server.store_password_file, d->cfg->server.store_password_file))
		ib_warn("reload: server.store changes need a restart; ignored");
	if (next->server.load_balancing != d->cfg->server.load_balancing)
		ib_warn("reload: server.load_balancing changes need a restart; ignored");
	if ((r = swap_snapshot(d, next)) < 0) {
		ib_err("reload refused (%s), still serving the previous configuration",
		       strerror(-r));
		free(text.buf);
		ib_notify_ready("serving the previous configuration: reload refused");
		return;
	}
	free(d->text.buf);
	d->text = text;
	/* SIGHUP rereads the BMC secrets too (a new pool; the old one drains) */
	ib_powerctl_reconfigure(d->power, d->cfg, true);
	log_refused(&rf);
	ib_notice("configuration reloaded from %s", d->config_path);
	ib_notify_ready("serving");
}

/*
 * Another daemon wrote an inventory object (peers.h): the snapshot is
 * made again from the config text as last loaded and the store's objects,
 * as a SIGHUP would without rereading the file.
 */
static void reload_inventory(void *ctx)
{
	struct ib_daemon *d = ctx;
	char err[IB_CONFIG_ERRLEN];
	struct ib_inventory_refused rf;
	struct ib_config *next;
	int r;

	if (ib_inventory_load(&d->text, d->store, &next, &rf, err) < 0) {
		ib_err("inventory: another daemon's write not applied, still serving the "
		       "previous inventory: %s", err);
		return;
	}
	if ((r = swap_snapshot(d, next)) < 0) {
		ib_err("inventory: another daemon's write not applied (%s), still serving "
		       "the previous inventory", strerror(-r));
		return;
	}
	log_refused(&rf);
	ib_info("inventory: reloaded from the store after another daemon's write");
}

/* The REST API's inventory writer (http_server.h ib_http_inventory_fn). */
static int apply_inventory(void *ctx, const struct ib_inventory_change *c,
			   bool *ret_created, char *err)
{
	struct ib_daemon *d = ctx;
	const char *kind = ib_config_kind_name(c->kind);
	struct ib_config *next;
	int r;

	r = ib_inventory_apply(&d->text, d->store, c, ib_now_us(), &next,
			       ret_created, err);
	if (r < 0)
		return r;
	if ((r = swap_snapshot(d, next)) < 0) {
		/* stored but not served: the next SIGHUP or start serves it */
		ib_err("api: %s %s stored but not applied: %s", kind, c->name, strerror(-r));
		snprintf(err, IB_CONFIG_ERRLEN, "stored, but not applied: %s", strerror(-r));
		return -EIO;
	}
	ib_notice("api: %s %s %s", kind, c->name, c->json ? "written" : "deleted");
	return 0;
}

/* What a release through the API did, logged once; returns r. */
static int said_release(const char *ip, int r)
{
	if (r == 0)
		ib_notice("api: lease %s released by the operator", ip);
	else if (r != -ENOENT)
		ib_err("api: cannot release lease %s: %s", ip, strerror(-r));
	return r;
}

/* The REST API's lease release, each family (http_server.h struct ib_http_dhcp). */
static int release_lease(void *ctx, uint32_t addr, struct ib_lease4 *ret)
{
	struct ib_daemon *d = ctx;
	char ip[IB_IP4_STRLEN];

	ib_ip4_format(addr, ip);
	return said_release(ip, ib_dhcp4_server_release(d->dhcp4, addr, ret));
}

static int release_lease6(void *ctx, const uint8_t addr[16], struct ib_lease6 *ret)
{
	struct ib_daemon *d = ctx;
	char ip[IB_IP6_STRLEN];

	ib_ip6_format(addr, ip);
	return said_release(ip, ib_dhcp6_server_release(d->dhcp6, addr, ret));
}

/* GET /api/v1/pools counts from the caches of the servers running. */
static void pool_counters(void *ctx, struct ib_pool_usage_src *src)
{
	struct ib_daemon *d = ctx;

	ib_daemon_pool_counters(d->dhcp4, d->dhcp6, src);
}

#define READY_PROBE_US 1000000		/* /readyz writes to the store at most
					 * once a second: a poll flood is no
					 * write flood */
#define READY_LOCKED_US 5000000		/* the store's writers wait this long for
					 * another connection's lock (its busy
					 * timeout): held longer, they fail */

/*
 * Whether the store takes a write: one meta row, in its own transaction.
 * It runs on the loop, so it never waits for another connection's write
 * lock (DHCP would wait behind it): while one holds it, the store counts
 * as writable (the daemon's writers wait for the lock) for
 * READY_LOCKED_US from the first probe that found it held, and as not
 * writable after, -EAGAIN (the writers' wait would time out).
 */
static int probe_store(struct ib_daemon *d)
{
	int64_t now = ib_now_us();
	char stamp[24];
	int r;

	if (d->probe_us && now - d->probe_us < READY_PROBE_US)
		return d->probe_r;
	snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	if ((r = ib_store_begin_nowait(d->store)) == 0) {
		if ((r = ib_store_meta_put(d->store, "readyz_probe_us", stamp)) == 0)
			r = ib_store_commit(d->store);
		if (r < 0)
			ib_store_rollback(d->store);
	}
	if (r != -EAGAIN)
		d->locked_since_us = 0;
	else if (!d->locked_since_us)
		d->locked_since_us = now;
	if (r == -EAGAIN && now - d->locked_since_us < READY_LOCKED_US)
		r = 0;		/* the writers wait it out */
	if (r < 0 && d->probe_r == 0)
		ib_warn("store: not writable (%s): /readyz answers 503",
			r == -EAGAIN ? "another connection holds the write lock" : strerror(-r));
	d->probe_us = ib_now_us();
	d->probe_r = r;
	return r;
}

/* A service the snapshot enables: "ok" if it runs (up is false: not). */
static bool check(json_t *checks, const char *name, bool enabled, bool up)
{
	if (!enabled)
		return true;
	json_object_set_new(checks, name, json_string(up ? "ok" :
				"not listening: enabled by a reload, needs a restart"));
	return up;
}

/* GET /readyz (http_server.h ib_http_ready_fn): every service the
 * snapshot enables listens, and the store takes a write. */
static bool readiness(void *ctx, json_t *checks)
{
	struct ib_daemon *d = ctx;
	const struct ib_config *cfg = d->cfg;
	bool ok = true;
	char down[400];
	int r;

	ok &= check(checks, "dhcp4", cfg->dhcp4.enabled, d->dhcp4 != NULL);
	ok &= check(checks, "dhcp6", cfg->dhcp6.enabled, d->dhcp6 != NULL);
	ok &= ib_services_check_tftp(d->services, cfg, checks);
	if (!ib_store_watch_why(d->store, d->committer, down, sizeof(down))) {
		char why[440];

		snprintf(why, sizeof(why), "down: %s", down);
		json_object_set_new(checks, "store", json_string(why));
		return false;
	}
	ib_peers_ready(d->peers, checks);
	if ((r = probe_store(d)) < 0) {
		char why[128];

		if (r == -EAGAIN)
			snprintf(why, sizeof(why), "not writable: another connection has held "
				 "the write lock for %lld s",
				 (long long)((ib_now_us() - d->locked_since_us) / 1000000));
		else
			snprintf(why, sizeof(why), "not writable: %s", strerror(-r));
		json_object_set_new(checks, "store", json_string(why));
		return false;
	}
	json_object_set_new(checks, "store", json_string(d->locked_since_us ?
			    "ok (another connection holds the write lock: writes wait for it)" :
			    "ok"));
	return ok;
}

/* The daemon's part of GET /metrics (http_server.h ib_http_metrics_fn). */
static void write_metrics(void *ctx, struct ib_mx *m)
{
	struct ib_daemon *d = ctx;
	struct ib_metrics_sources src = {
		.cfg = d->cfg, .store = d->store, .journal = d->journal, .dhcp4 = d->dhcp4,
		.dhcp6 = d->dhcp6, .services = d->services, .now = ib_now_sec(),
		.cache = &d->metrics_cache, .committer = d->committer,
	};

	ib_daemon_metrics_write(&src, m);
	ib_peers_metrics(d->peers, m);
}

/* Serves the file joined with the store's inventory objects from the start. */
static int load_inventory(struct ib_daemon *d)
{
	char err[IB_CONFIG_ERRLEN];
	struct ib_inventory_refused rf;
	struct ib_config *next;
	int r;

	if ((r = ib_config_read(d->config_path, &d->text, err)) < 0 ||
	    (r = ib_inventory_load(&d->text, d->store, &next, &rf, err)) < 0) {
		ib_err("%s", err);
		return r;
	}
	log_refused(&rf);
	ib_config_free(d->cfg);
	d->cfg = next;
	return 0;
}

static int add_signal(struct ib_daemon *d, int sig, event_callback_fn cb,
		      struct event **ret)
{
	*ret = evsignal_new(d->base, sig, cb, d);
	if (!*ret || event_add(*ret, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * One daemon per state dir: a second ironbootd on the same leases would
 * bind the same ports beside the first and both would answer.  The lock
 * is an flock on state_dir/ironbootd.lock, held for the daemon's life
 * (the kernel drops it when the process dies, so no stale lock survives
 * a crash); the file holds the owner's pid for the message.
 */
static int lock_state_dir(struct ib_daemon *d)
{
	const char *dir = d->cfg->server.state_dir;
	char path[4200], pid[32] = "";
	ssize_t n;
	int r;

	snprintf(path, sizeof(path), "%s/ironbootd.lock", dir);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (d->lock_fd < 0) {
		r = -errno;
		ib_err("cannot open %s: %s", path, strerror(-r));
		return r;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK) {
			n = pread(d->lock_fd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
			ib_err("another ironbootd (pid %s) is using the state directory %s; "
			       "refusing to start", pid[0] ? pid : "unknown", dir);
			return -EBUSY;
		}
		ib_err("cannot lock %s: %s", path, strerror(-r));
		return r;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(d->lock_fd, 0) < 0 || pwrite(d->lock_fd, pid, (size_t)n, 0) != n)
		ib_warn("cannot write the pid to %s: %s", path, strerror(errno));
	return 0;
}

/*
 * Before SQLite replays the write-ahead log: SQLite stops at the first
 * frame whose checksum fails and silently drops every frame after it,
 * durable commits included.  Say so loudly, with what is lost, and keep
 * the damaged files for recovery before SQLite truncates the log.
 */
static void check_wal(const char *db)
{
	struct ib_wal_report w;
	char saved[4400], stamp[32];
	int r;

	if ((r = ib_wal_check(db, &w)) < 0) {
		ib_warn("store: cannot read the write-ahead log of %s: %s", db, strerror(-r));
		return;
	}
	if (!w.unreadable && !w.lost_commits && !w.lost_frames)
		return;			/* intact, or a torn last write, or old leftovers */
	snprintf(stamp, sizeof(stamp), "%lld", (long long)ib_now_sec());
	r = ib_store_save_damaged(db, stamp, saved, sizeof(saved));
	ib_err("store: the write-ahead log of %s is damaged at frame %u of %u: %u committed "
	       "transaction(s) in %u frame(s) after it will be LOST (leases and journal "
	       "rows written before the crash); %s%s", db, w.bad_frame, w.frames,
	       w.lost_commits, w.lost_frames, r < 0 ? "could not save a copy: " : "a copy is "
	       "saved as ", r < 0 ? strerror(-r) : saved);
}

/*
 * The DHCP group commit's thread (src/dhcp/dhcp_committer.h), on a
 * PostgreSQL connection of its own: the loop never waits on the database
 * for a DHCP commit.
 */
static int open_committer(struct ib_daemon *d)
{
	const struct ib_server_config *sc = &d->cfg->server;
	struct ib_store *own = NULL;
	char err[256] = "";
	int r;

	if ((r = ib_store_pg_open(sc->store, sc->store_password_file, &own, err)) < 0) {
		ib_err("cannot open the DHCP commit connection to %s: %s", sc->store,
		       err[0] ? err : strerror(-r));
		return r;
	}
	if ((r = ib_dhcp_committer_new(d->base, own, &d->committer)) < 0)
		ib_err("cannot start the DHCP commit thread: %s", strerror(-r));
	return r;
}

/*
 * The store's own consistency check, then a copy of the good database
 * (db.good, the previous one as db.good.1), in a thread of their own so
 * a large store does not delay serving.  arg is the database path.
 */
static void *check_store(void *arg)
{
	const char *db = arg;
	char msg[512];
	int r;

	if ((r = ib_store_quick_check(db, msg, sizeof(msg))) < 0) {
		ib_err("store: %s FAILS its consistency check (%s): %s; serving anyway, the "
		       "last good copy is %s.good", db, r == -EBADMSG ? "quick_check" : "cannot run",
		       msg, db);
		return NULL;
	}
	if ((r = ib_store_backup(db, msg, sizeof(msg))) < 0)
		ib_warn("store: cannot write the copy %s.good: %s", db, msg);
	else
		ib_info("store: consistency check passed; copy saved as %s.good", db);
	return NULL;
}

static int open_store(struct ib_daemon *d)
{
	const struct ib_server_config *sc = &d->cfg->server;
	char path[4200], err[256] = "";
	int r;

	if ((r = make_dirs(sc->state_dir)) < 0) {
		ib_err("cannot create state directory %s: %s", sc->state_dir, strerror(-r));
		return r;
	}
	if ((r = lock_state_dir(d)) < 0)
		return r;
	if (ib_store_is_pg(sc->store)) {
		/* the database's health and backups are its server's: none
		 * of the SQLite file checks below apply (docs/SCALE-OUT.md) */
		if ((r = ib_store_open(sc->store, NULL, sc->store_password_file, &d->store,
				       err)) < 0) {
			ib_err("cannot open store %s: %s", sc->store, err[0] ? err : strerror(-r));
			return r;
		}
		if ((r = open_committer(d)) < 0)
			return r;
		ib_info("store: PostgreSQL %s (DHCP commits on a thread and connection of their "
			"own; reconnects by itself)", sc->store);
		if ((r = ib_store_watch_new(d->base, d->store, d->committer, &d->store_watch)) < 0)
			return r;
		return ib_journal_new(d->store, &d->cfg->journal, &d->journal);
	}
	ib_daemon_db_path(d->cfg, path, sizeof(path));
	check_wal(path);
	if ((r = ib_store_sqlite_open(path, &d->store, err)) < 0) {
		ib_err("cannot open store %s: %s", path, err[0] ? err : strerror(-r));
		return r;
	}
	snprintf(d->db_path, sizeof(d->db_path), "%s", path);
	if (pthread_create(&d->check_thread, NULL, check_store, d->db_path) == 0)
		d->check_started = true;
	else
		ib_warn("store: cannot start the consistency check: %s", strerror(errno));
	return ib_journal_new(d->store, &d->cfg->journal, &d->journal);
}

int ib_daemon_new(struct ib_config *cfg, const char *config_path,
		  struct ib_daemon **ret)
{
	struct ib_daemon *d = calloc(1, sizeof(*d));
	int r;

	if (!d) {
		ib_config_free(cfg);
		return -ENOMEM;
	}
	d->cfg = cfg;
	d->lock_fd = -1;
	d->config_path = strdup(config_path);
	d->base = event_base_new();
	if (!d->config_path || !d->base) {
		r = -ENOMEM;
		goto err;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((r = open_store(d)) < 0 || (r = load_inventory(d)) < 0)
		goto err;
	cfg = d->cfg;
	if (cfg->dhcp4.enabled &&
	    (r = ib_dhcp4_server_new(d->base, cfg, d->store, d->journal, &d->dhcp4)) < 0)
		goto err;
	if (cfg->dhcp6.enabled &&
	    (r = ib_dhcp6_server_new(d->base, cfg, d->store, d->journal, &d->dhcp6)) < 0)
		goto err;
	if (d->committer && d->dhcp4)
		ib_dhcp4_server_commit_on(d->dhcp4, d->committer);
	if (d->committer && d->dhcp6)
		ib_dhcp6_server_commit_on(d->dhcp6, d->committer);
	if ((r = ib_services_new(d->base, cfg, d->store, d->journal, &d->services)) < 0)
		goto err;
	ib_services_set_inventory(d->services, apply_inventory, d);
	ib_services_set_readiness(d->services, readiness, d);
	if ((r = ib_powerctl_new(d->base, cfg, d->store, d->journal, &d->power)) < 0)
		goto err;
	{
		struct ib_http_power hooks;

		ib_powerctl_http(d->power, &hooks);
		ib_services_set_power(d->services, &hooks);
	}
	ib_services_set_metrics(d->services, write_metrics, d);
	{
		struct ib_peers_targets t = { d->dhcp4, d->dhcp6, d->services, d->power,
					      reload_inventory, d, d->committer };

		if ((r = ib_peers_new(d->base, d->store, &t, &d->peers)) < 0)
			goto err;
	}
	{
		struct ib_http_dhcp h = { .release4 = d->dhcp4 ? release_lease : NULL,
					  .release6 = d->dhcp6 ? release_lease6 : NULL,
					  .pool_counters = pool_counters, .ctx = d };

		ib_services_set_dhcp(d->services, &h);
	}
	if ((r = add_signal(d, SIGTERM, on_stop, &d->sig_term)) < 0 ||
	    (r = add_signal(d, SIGINT, on_stop, &d->sig_int)) < 0 ||
	    (r = add_signal(d, SIGHUP, on_reload, &d->sig_hup)) < 0)
		goto err;
	if ((r = drop_privileges(cfg)) < 0) {
		ib_err("cannot drop privileges: %s", strerror(-r));
		goto err;
	}
	*ret = d;
	return 0;
err:
	ib_daemon_free(d);
	return r;
}

int ib_daemon_run(struct ib_daemon *d)
{
	ib_notice("ironbootd " IB_VERSION " ready (config %s, state %s)",
		  d->config_path, d->cfg->server.state_dir);
	ib_notify_ready("serving");
	/* load balancing: the peers leave this daemon its share of the
	 * clients from now, when it serves (until then they answer them,
	 * and so does its backlog: the store arbitrates) */
	if (d->committer && d->cfg->server.load_balancing)
		ib_dhcp_committer_share_clients(d->committer);
	if (event_base_dispatch(d->base) < 0)
		return -EIO;
	return 0;
}

static void log_stats(const struct ib_daemon *d)
{
	const struct ib_dhcp4_stats *st;
	uint64_t rejected = 0;

	if (!d->dhcp4)
		return;
	st = ib_dhcp4_server_stats(d->dhcp4);
	for (size_t i = 0; i < IB_DHCP4_REJ__MAX; i++)
		rejected += st->rejected[i];
	ib_info("dhcp4: received %llu, malformed %llu, ignored %llu; sent offers %llu, acks %llu, "
		"naks %llu; group commits %llu (%llu failed)",
		(unsigned long long)st->received, (unsigned long long)rejected,
		(unsigned long long)st->ignored, (unsigned long long)st->offers,
		(unsigned long long)st->acks, (unsigned long long)st->naks,
		(unsigned long long)st->commit_batches, (unsigned long long)st->commit_errors);
}

void ib_daemon_free(struct ib_daemon *d)
{
	if (!d)
		return;
	log_stats(d);
	ib_peers_free(d->peers);	/* before what it follows */
	/* before the HTTP server: a deferred power answer is dropped, not sent */
	ib_powerctl_free(d->power);
	ib_services_free(d->services);
	ib_dhcp4_server_free(d->dhcp4);
	ib_dhcp6_server_free(d->dhcp6);
	if (d->journal && ib_journal_flush(d->journal, false) < 0)
		ib_warn("journal: final flush failed; %zu events lost",
			ib_journal_pending(d->journal));
	ib_journal_free(d->journal);
	if (d->check_started)
		pthread_join(d->check_thread, NULL);
	ib_metrics_cache_clear(&d->metrics_cache);
	ib_store_watch_free(d->store_watch);
	ib_dhcp_committer_free(d->committer);	/* after the engines: they waited for it */
	ib_store_free(d->store);
	if (d->lock_fd >= 0)
		close(d->lock_fd);		/* releases the state dir */
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	if (d->base)
		event_base_free(d->base);
	ib_config_free(d->cfg);
	free(d->config_path);
	free(d->text.buf);
	free(d);
}
