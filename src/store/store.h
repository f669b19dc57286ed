/*
 * The store: IPv4 and IPv6 leases, journal events, inventory objects and a
 * few key/value settings ("meta") behind one small interface.
 *
 * Policy never sees SQL.  The shells call these operations; the SQLite
 * implementation (store_sqlite*.c) is the embedded default, the
 * PostgreSQL one (store_pg*.c) can be shared by several daemons: a lease commit is a conditional write that the store
 * itself arbitrates (it succeeds only if the address is free, expired, or
 * already held by the same client), so correctness never rests on one
 * process's memory.  In-process caches are hints; the store is the truth.
 *
 * Durability: writes happen inside ib_store_begin()/ib_store_commit().  When
 * ib_store_commit() returns 0 the writes are on stable storage (SQLite WAL
 * with synchronous=FULL; PostgreSQL with synchronous_commit on).  The DHCP shell groups the leases of one batch of
 * requests into one transaction (group commit) and sends the ACKs after it.
 *
 * All operations return 0 or a negative errno: -ENOENT (no such row),
 * -EEXIST (conflict), -EIO (storage failure), -EPROTO (schema problem).
 */
#ifndef IB_STORE_STORE_H
#define IB_STORE_STORE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/metrics.h"

#define IB_HWADDR_MAX 16
#define IB_STORE_CLIENT_ID_MAX 255
#define IB_HOSTNAME_MAX 64
#define IB_DUID_MAX 130			/* RFC 8415 11.1: type (2) + at most 128 */

enum ib_lease_state {
	IB_LEASE_ACTIVE = 1,		/* acknowledged, until expires */
	IB_LEASE_RELEASED = 2,		/* client released it */
	IB_LEASE_EXPIRED = 3,		/* time ran out (set by reclaim) */
	IB_LEASE_DECLINED = 4,		/* quarantined until expires */
};

/* One IPv4 lease row. */
struct ib_lease4 {
	uint32_t address;		/* host order; the primary key */
	uint32_t subnet;		/* network address of its subnet */
	uint8_t htype;			/* hardware type (1 = Ethernet) */
	uint8_t hw_len;			/* bytes of hwaddr */
	uint8_t hwaddr[IB_HWADDR_MAX];	/* chaddr */
	uint8_t client_id_len;		/* 0 = none */
	uint8_t client_id[IB_STORE_CLIENT_ID_MAX]; /* option 61 */
	char hostname[IB_HOSTNAME_MAX];	/* sanitised option 12, or "" */
	int64_t cltt;			/* client last transaction, unix seconds */
	int64_t expires;		/* unix seconds */
	enum ib_lease_state state;
};

/* One IPv6 lease row (IA_NA address). */
struct ib_lease6 {
	uint8_t address[16];		/* the primary key */
	uint8_t subnet[16];		/* prefix of its subnet */
	uint8_t prefix_len;		/* of the subnet */
	uint8_t duid_len;		/* bytes of duid (1..IB_DUID_MAX) */
	uint8_t duid[IB_DUID_MAX];	/* client DUID (option 1) */
	uint32_t iaid;			/* IA_NA identifier */
	bool has_mac;			/* mac is known (DUID-LL/LLT, option 79, EUI-64) */
	uint8_t mac[6];			/* the machine's MAC, for the journal and reservations */
	char hostname[IB_HOSTNAME_MAX];	/* sanitised, or "" */
	int64_t cltt;			/* client last transaction, unix seconds */
	int64_t preferred;		/* preferred-until, unix seconds */
	int64_t expires;		/* valid-until, unix seconds */
	enum ib_lease_state state;	/* same states as IPv4 */
};

/* The unexpired leases of an address range, by state (lease4_count,
 * lease6_count): how full a pool is. */
struct ib_lease_count {
	uint64_t active;		/* ACTIVE, expires > now */
	uint64_t declined;		/* DECLINED (quarantined), expires > now */
};

/* One journal event. */
struct ib_event {
	int64_t id;			/* assigned by the store */
	int64_t ts_us;			/* unix microseconds */
	char mac[48];			/* "aa:bb:cc:dd:ee:ff" or "" */
	char client_id[IB_STORE_CLIENT_ID_MAX * 2 + 1]; /* hex, or "" */
	char uuid[40];			/* client UUID text (option 97), or "" */
	char proto[8];			/* "dhcp4", "tftp", "http", ... */
	char kind[32];			/* e.g. "discover", "offer", "lease-commit" */
	char detail[768];		/* JSON object text with the particulars */
};

/* Filter for listing events; empty strings match everything. */
struct ib_event_filter {
	const char *mac;		/* exact MAC text, or NULL */
	const char *proto;		/* exact protocol, or NULL */
	int64_t since_us;		/* 0 = from the beginning */
	size_t limit;			/* 0 = no limit; newest last */
	int64_t after_id;		/* only ids above it (0 = all): what a reader
					 * read before is left out, while since_us
					 * bounds the rows the store walks */
	bool oldest;			/* the limit keeps the oldest rows after
					 * after_id, in the order they became
					 * visible (an incremental reader's next
					 * page: it goes on from the last id it
					 * read, not the highest).  SQLite: id
					 * order; PostgreSQL: commit order, so
					 * ids need not increase (store_pg_events.c) */
};

/* One inventory object kept for the REST API (see ib_store_inv_put). */
struct ib_inv_row {
	const char *kind;		/* "profiles", "groups" or "machines" */
	const char *name;		/* its key within the kind */
	const char *body;		/* the object, JSON text */
	int64_t updated_us;		/* last write, unix microseconds */
};


#define IB_MACHINE_MAC_STRLEN 18	/* "aa:bb:cc:dd:ee:ff" and NUL */
#define IB_MACHINE_NICS_MAX 8		/* NICs kept per machine */
#define IB_MACHINE_PROFILE_MAX 65	/* a profile name (64) and NUL */
#define IB_MACHINE_STEP_MAX 64		/* a failed step ("wipe:vda") and NUL */
#define IB_MACHINE_REASON_MAX 256	/* why it failed, sanitised, and NUL */
#define IB_MACHINE_REPORT_MAX 65536	/* bytes of a hardware report (JSON) */

/*
 * A machine's lifecycle row (issue #12; the states and the moves between
 * them are src/inventory/lifecycle.h's, the store only keeps them).  A
 * machine is one row however many NICs it has; each NIC's MAC names it.
 */
struct ib_machine_state {
	int64_t id;			/* assigned by the store */
	char mac[IB_MACHINE_MAC_STRLEN];	/* the NIC it was first seen on */
	char nics[IB_MACHINE_NICS_MAX][IB_MACHINE_MAC_STRLEN]; /* all its NICs, mac first */
	size_t n_nics;			/* entries of nics */
	int state;			/* enum ib_lc_state */
	int64_t version;		/* bumped by every write: compare-and-set */
	char profile[IB_MACHINE_PROFILE_MAX];	/* allocated profile, or "" */
	char fail_step[IB_MACHINE_STEP_MAX];	/* failed: the step, or "" */
	char fail_reason[IB_MACHINE_REASON_MAX]; /* failed: why, or "" */
	uint32_t local_boots;		/* installed: netboots seen since the install */
	bool has_report;		/* a hardware report is stored */
	int64_t created_us;		/* first seen, unix microseconds */
	int64_t updated_us;		/* last write */
	int64_t since_us;		/* when it entered its state */
};

#define IB_POWER_ROW_ERR_MAX 256	/* a power error message and NUL */

/*
 * What the daemon last learnt from a machine's BMC (docs/POWER.md): the
 * power state its last STATUS said, the last operation and how it ended.
 */
struct ib_power_row {
	char mac[IB_MACHINE_MAC_STRLEN];	/* the machine's (BMC entry's) MAC */
	char state[8];			/* "on", "off" or "unknown" */
	char op[16];			/* the last operation ("status", "cycle"...) */
	char error[IB_POWER_ROW_ERR_MAX];	/* its message if it failed, else "" */
	int64_t checked_us;		/* when that operation ended */
	int64_t changed_us;		/* when state last changed */
};

/* Who caused a lifecycle write, and what, for the journal. */
struct ib_machine_note {
	const char *by;			/* "api", "cli", "agent", "dhcp", "http" */
	const char *kind;		/* the journal kind: the event ("accept") */
	const char *from;		/* the state before, by name */
	const char *to;			/* the state after, by name */
	int64_t now_us;			/* when: the row's times and the event's */
	const char *extra;		/* more members for the event's detail, JSON
					 * text without braces ("\"a\":1"), or NULL */
};

/*
 * The store's link to its database server (ib_store_link_check): always
 * up for an embedded store (SQLite); a PostgreSQL store goes down when
 * its connection is lost and comes back by itself (store_pg_conn.c).
 */
struct ib_store_link {
	bool up;			/* statements can run */
	int64_t down_since_us;		/* down: since when (unix us), else 0 */
	int64_t next_try_us;		/* down: the next reconnect attempt, or 0
					 * while one is under way */
	uint64_t attempts;		/* reconnect attempts since the last loss */
	uint64_t losses;		/* connections lost since open */
	uint64_t reconnects;		/* connections made again since open */
	char reason[200];		/* down: the server's or libpq's word */
	int session;			/* up, PostgreSQL: the server process of the
					 * connection (its notifications' be_pid); else 0 */
};

struct ib_store;

/* The operations an implementation provides. */
/* The daemons sharing the clients (ib_store_members): this one is number
 * rank (from 0) of n, in the order of their member slots. */
struct ib_store_members {
	uint32_t rank;
	uint32_t n;			/* >= 1 */
	uint64_t slots;			/* the members' slots, bit k for slot k */
	int64_t since_us;		/* the caller's: when this listing began (unix us) */
	int64_t after_us;		/* the caller's: when the listing before it
					 * began; what changed, changed after that */
};

struct ib_store_ops {
	const char *name;
	int (*begin)(struct ib_store *s);
	int (*begin_read)(struct ib_store *s);
	int (*begin_nowait)(struct ib_store *s);
	int (*commit)(struct ib_store *s);
	int (*rollback)(struct ib_store *s);
	int (*lease4_get)(struct ib_store *s, uint32_t address, struct ib_lease4 *ret);
	int (*lease4_find_client)(struct ib_store *s, const uint8_t *hwaddr,
				  uint8_t hw_len, const uint8_t *client_id,
				  uint8_t client_id_len, struct ib_lease4 *ret);
	int (*lease4_commit)(struct ib_store *s, const struct ib_lease4 *lease,
			     int64_t now);
	int (*lease4_set_state)(struct ib_store *s, uint32_t address,
				enum ib_lease_state state, int64_t expires);
	int (*lease4_foreach)(struct ib_store *s, uint32_t first, uint32_t last,
			      int (*cb)(const struct ib_lease4 *l, void *ctx),
			      void *ctx);
	int (*lease4_count)(struct ib_store *s, uint32_t first, uint32_t last, int64_t now,
			    struct ib_lease_count *ret);
	int (*lease4_reclaim)(struct ib_store *s, int64_t now,
			      int (*cb)(const struct ib_lease4 *l, void *ctx),
			      void *ctx);
	int (*lease6_get)(struct ib_store *s, const uint8_t address[16],
			  struct ib_lease6 *ret);
	int (*lease6_find_client)(struct ib_store *s, const uint8_t *duid,
				  uint8_t duid_len, uint32_t iaid,
				  struct ib_lease6 *ret);
	int (*lease6_commit)(struct ib_store *s, const struct ib_lease6 *l,
			     int64_t now);
	int (*lease6_set_state)(struct ib_store *s, const uint8_t address[16],
				enum ib_lease_state state, int64_t expires);
	int (*lease6_foreach)(struct ib_store *s,
			      int (*cb)(const struct ib_lease6 *l, void *ctx),
			      void *ctx);
	int (*lease6_count)(struct ib_store *s, const uint8_t first[16],
			    const uint8_t last[16], int64_t now, struct ib_lease_count *ret);
	int (*lease6_reclaim)(struct ib_store *s, int64_t now,
			      int (*cb)(const struct ib_lease6 *l, void *ctx),
			      void *ctx);
	int (*event_append)(struct ib_store *s, struct ib_event *ev);
	int (*event_append_many)(struct ib_store *s, struct ib_event *ev, size_t n);
	int (*event_foreach)(struct ib_store *s, const struct ib_event_filter *f,
			     int (*cb)(const struct ib_event *e, void *ctx),
			     void *ctx);
	int (*event_prune)(struct ib_store *s, uint32_t max_events,
			   int64_t older_than_us);
	int (*inv_put)(struct ib_store *s, const struct ib_inv_row *row, bool *ret_created);
	int (*inv_delete)(struct ib_store *s, const char *kind, const char *name);
	int (*inv_foreach)(struct ib_store *s,
			   int (*cb)(const struct ib_inv_row *row, void *ctx), void *ctx);
	int (*meta_get)(struct ib_store *s, const char *key, char *value, size_t cap);
	int (*meta_put)(struct ib_store *s, const char *key, const char *value);
	int (*machine_get)(struct ib_store *s, const char *mac, struct ib_machine_state *ret);
	int (*machine_create)(struct ib_store *s, struct ib_machine_state *m,
			      const struct ib_machine_note *note);
	int (*machine_update)(struct ib_store *s, const struct ib_machine_state *old,
			      struct ib_machine_state *m, const struct ib_machine_note *note);
	int (*machine_add_nic)(struct ib_store *s, int64_t id, const char *mac,
			       int64_t now_us);
	int (*machine_report_put)(struct ib_store *s, int64_t id, const char *json);
	int (*machine_report_get)(struct ib_store *s, int64_t id, char *buf, size_t cap);
	int (*power_put)(struct ib_store *s, const struct ib_power_row *row);
	int (*power_get)(struct ib_store *s, const char *mac, struct ib_power_row *ret);
	int (*machine_foreach)(struct ib_store *s,
			       int (*cb)(const struct ib_machine_state *m, void *ctx), void *ctx);
	/* may be NULL: always up */
	void (*link)(struct ib_store *s, struct ib_store_link *ret);
	/* may be NULL: no one to share the clients with */
	int (*members)(struct ib_store *s, struct ib_store_members *ret);
	void (*close)(struct ib_store *s);
};

/*
 * What a store counts about itself, for GET /metrics: the time each
 * COMMIT of a write transaction took (the durable write), in seconds.
 * Kept by the implementation on the loop's thread; read there too.
 */
struct ib_store_stats {
	struct ib_mx_hist commit;	/* COMMIT of write transactions */
	uint64_t commit_errors;		/* COMMITs that failed */
};

/* Base of every implementation; implementations embed it first. */
struct ib_store {
	const struct ib_store_ops *ops;
	struct ib_store_stats stats;	/* see above; zero: no buckets yet */
};

/* Sets the commit histogram's buckets (implementations call it at open). */
void ib_store_stats_init(struct ib_store_stats *st);
/* The store's counters. */
static inline const struct ib_store_stats *ib_store_stats(const struct ib_store *s)
{ return &s->stats; }
/*
 * Counts into s's counters a COMMIT of s's database run on another
 * connection (the DHCP committer's thread, src/dhcp/dhcp_committer.h,
 * which reports it on the loop), as the store counts its own: commit_us
 * microseconds into the histogram when ok, else one more commit error.
 */
void ib_store_count_commit(struct ib_store *s, int64_t commit_us, bool ok);

/*
 * Opens (creating if needed) the SQLite store at path and brings its schema
 * to the current version.  A database from a newer ironboot is refused with
 * -EPROTO and a message in err (256 bytes).  Caller frees with
 * ib_store_free().
 */
int ib_store_sqlite_open(const char *path, struct ib_store **ret, char *err);
/*
 * PRAGMA synchronous as the store's own connection runs it (the setting is
 * per connection): 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.  For tests and
 * diagnostics.  0 and *ret, -EOPNOTSUPP for a store that is not SQLite, or
 * -EIO.
 */
int ib_store_sqlite_synchronous(struct ib_store *s, int *ret);
void ib_store_free(struct ib_store *s);

/*
 * Opens the PostgreSQL store at conninfo (a libpq URI or key=value
 * string) and brings its schema to the current version (store_pg.c).
 * A conninfo that carries a password is refused (-EINVAL): the password
 * comes from password_file (its first line; may be NULL) or libpq's
 * PGPASSFILE.  -EIO when the server cannot be reached, -EPROTO for a
 * schema from a newer ironboot; the reason in err (256 bytes).  One
 * connection, called synchronously; a lost one is made again by itself
 * (ib_store_link_check, docs/SCALE-OUT.md).
 */
int ib_store_pg_open(const char *conninfo, const char *password_file,
		     struct ib_store **ret, char *err);

/*
 * Connects to the PostgreSQL store at conninfo as ib_store_pg_open() does
 * and reads its schema version into *ret_version (0: an empty database,
 * which the daemon's start sets up), changing nothing: for
 * `ironbootd --check-config`.  The errors of ib_store_pg_open(): -EINVAL,
 * -EIO when it cannot be reached, -EPROTO for a schema from a newer
 * ironboot; the reason in err (256 bytes).
 */
int ib_store_pg_check(const char *conninfo, const char *password_file, int *ret_version,
		      char *err);

/* Whether a server.store value names PostgreSQL (postgresql:// or
 * postgres://). */
bool ib_store_is_pg(const char *store);

/*
 * Opens the store a server.store value names: NULL or "sqlite" the
 * SQLite file sqlite_path, a PostgreSQL URI with password_file (may be
 * NULL).  As the two opens above; -EINVAL for any other value.
 */
int ib_store_open(const char *store, const char *sqlite_path, const char *password_file,
		  struct ib_store **ret, char *err);

/* The schema version this build writes. */
int ib_store_schema_version(void);

/* Thin inline dispatchers so call sites read ib_store_<op>(s, ...). */
static inline int ib_store_begin(struct ib_store *s) { return s->ops->begin(s); }
/*
 * A transaction for reads only: its reads see one snapshot (another
 * connection's commits meanwhile stay unseen) and, on SQLite, pay for one
 * lock instead of one each; for a listing whose reads must agree (the
 * event stream's replay: the gap's count and the rows).  End it with
 * ib_store_rollback() (nothing to keep; a COMMIT would be timed into the
 * commit histogram on PostgreSQL).  -EBUSY inside a transaction.
 */
static inline int ib_store_begin_read(struct ib_store *s) { return s->ops->begin_read(s); }
/*
 * A write transaction like ib_store_begin(), but one that does not wait
 * for another connection's write lock: -EAGAIN at once when one holds it
 * (ib_store_begin() waits the busy timeout).  For probes on the event
 * loop, which must not hold DHCP behind someone else's transaction.
 */
static inline int ib_store_begin_nowait(struct ib_store *s) { return s->ops->begin_nowait(s); }
static inline int ib_store_commit(struct ib_store *s) { return s->ops->commit(s); }
static inline int ib_store_rollback(struct ib_store *s) { return s->ops->rollback(s); }

/*
 * The store's link to its server into *ret: for a PostgreSQL store that
 * lost its connection, also the moment a reconnect attempt is made when
 * one is due (it never waits on the network: call it from a timer).
 */
static inline void ib_store_link_check(struct ib_store *s, struct ib_store_link *ret)
{
	if (s->ops->link) {
		s->ops->link(s, ret);
		return;
	}
	*ret = (struct ib_store_link){ .up = true };
}

/*
 * The daemons that share the DHCP clients through this store
 * (server.load_balancing, docs/SCALE-OUT.md), as this connection sees
 * them: the first call on a connection (and the first after it was made
 * again) makes it a member, a PostgreSQL session advisory lock of its
 * own that the server lets go when the session ends, however the daemon
 * died; every call lists the members.  Outside a transaction.  0;
 * -ENOTSUP on a store nobody shares (SQLite), -EBUSY with 64 members
 * already, or the store's error (down: -ENOTCONN).
 */
static inline int ib_store_members(struct ib_store *s, struct ib_store_members *ret)
{
	return s->ops->members ? s->ops->members(s, ret) : -ENOTSUP;
}

/* Fetches the lease row for address (any state). -ENOENT if none. */
static inline int ib_store_lease4_get(struct ib_store *s, uint32_t a, struct ib_lease4 *ret)
{ return s->ops->lease4_get(s, a, ret); }

/*
 * Finds the newest lease (any state) of a client: by client-id when given,
 * else by hardware address.  -ENOENT if none.
 */
static inline int ib_store_lease4_find_client(struct ib_store *s, const uint8_t *hw,
		uint8_t hw_len, const uint8_t *cid, uint8_t cid_len, struct ib_lease4 *ret)
{ return s->ops->lease4_find_client(s, hw, hw_len, cid, cid_len, ret); }

/*
 * Writes lease as ACTIVE if its address is free: no row, or a row that is
 * not ACTIVE/DECLINED, or ACTIVE/DECLINED but expired at now, or held by
 * the same client (same client-id if either has one, else same hwaddr).
 * Otherwise -EEXIST and nothing changes.  Also ends any other ACTIVE lease
 * of the same client in the same subnet (one address per client).
 */
static inline int ib_store_lease4_commit(struct ib_store *s, const struct ib_lease4 *l, int64_t now)
{ return s->ops->lease4_commit(s, l, now); }

/* Sets a lease's state and expiry (release, decline). -ENOENT if none. */
static inline int ib_store_lease4_set_state(struct ib_store *s, uint32_t a,
		enum ib_lease_state st, int64_t expires)
{ return s->ops->lease4_set_state(s, a, st, expires); }

/* Calls cb for every lease with first <= address <= last, in address order. */
static inline int ib_store_lease4_foreach(struct ib_store *s, uint32_t first, uint32_t last,
		int (*cb)(const struct ib_lease4 *, void *), void *ctx)
{ return s->ops->lease4_foreach(s, first, last, cb, ctx); }

/*
 * Counts the leases with first <= address <= last that are unexpired at
 * now (expires > now), ACTIVE and DECLINED apart, in the store's own
 * query (no row is decoded).  0 with *ret set, or -errno.
 */
static inline int ib_store_lease4_count(struct ib_store *s, uint32_t first, uint32_t last,
		int64_t now, struct ib_lease_count *ret)
{ return s->ops->lease4_count(s, first, last, now, ret); }

/*
 * Marks ACTIVE leases with expires <= now as EXPIRED, calling cb for each
 * (for the journal) before it is changed.
 */
static inline int ib_store_lease4_reclaim(struct ib_store *s, int64_t now,
		int (*cb)(const struct ib_lease4 *, void *), void *ctx)
{ return s->ops->lease4_reclaim(s, now, cb, ctx); }

/* Fetches the IPv6 lease row for address (any state). -ENOENT if none. */
static inline int ib_store_lease6_get(struct ib_store *s, const uint8_t a[16],
		struct ib_lease6 *ret)
{ return s->ops->lease6_get(s, a, ret); }

/*
 * Finds the newest IPv6 lease (by cltt, any state) of one IA_NA: the
 * client's DUID (1..IB_DUID_MAX bytes, else -EINVAL) and the IAID.
 * -ENOENT if none.
 */
static inline int ib_store_lease6_find_client(struct ib_store *s, const uint8_t *duid,
		uint8_t duid_len, uint32_t iaid, struct ib_lease6 *ret)
{ return s->ops->lease6_find_client(s, duid, duid_len, iaid, ret); }

/*
 * Writes l as ACTIVE (l->state is ignored) if its address is free: no row,
 * or a row that is RELEASED or EXPIRED, or ACTIVE/DECLINED but expired at
 * now (expires <= now), or ACTIVE for the same client (same DUID and same
 * IAID).  A DECLINED address stays quarantined until it expires, for its
 * decliner too.  Otherwise -EEXIST and nothing changes.  Also ends
 * (RELEASED) any other ACTIVE lease of the same DUID and IAID in the same
 * subnet (subnet and prefix_len): one address per IA per subnet.
 * -EINVAL for a duid_len outside 1..IB_DUID_MAX, a prefix_len over 128
 * or an unterminated hostname.  Atomic.
 */
static inline int ib_store_lease6_commit(struct ib_store *s, const struct ib_lease6 *l,
		int64_t now)
{ return s->ops->lease6_commit(s, l, now); }

/*
 * Sets an IPv6 lease's state and valid-until (release, decline, expiry);
 * preferred-until is lowered to expires if it was later (RFC 8415 21.6:
 * preferred never exceeds valid).  -ENOENT if no row, -EINVAL for a state
 * outside enum ib_lease_state.
 */
static inline int ib_store_lease6_set_state(struct ib_store *s, const uint8_t a[16],
		enum ib_lease_state st, int64_t expires)
{ return s->ops->lease6_set_state(s, a, st, expires); }

/*
 * Calls cb for every IPv6 lease, in address order (bytewise, so
 * numerical).  A non-zero return of cb stops the walk and is returned.
 */
static inline int ib_store_lease6_foreach(struct ib_store *s,
		int (*cb)(const struct ib_lease6 *, void *), void *ctx)
{ return s->ops->lease6_foreach(s, cb, ctx); }

/* ib_store_lease4_count for IPv6: first and last compare as 16-byte
 * big-endian numbers, as the addresses are ordered. */
static inline int ib_store_lease6_count(struct ib_store *s, const uint8_t first[16],
		const uint8_t last[16], int64_t now, struct ib_lease_count *ret)
{ return s->ops->lease6_count(s, first, last, now, ret); }

/*
 * Marks ACTIVE and DECLINED IPv6 leases with expires <= now as EXPIRED,
 * calling cb (may be NULL) for each, for the journal, before it is
 * changed.  A negative return of cb undoes the whole reclaim; a positive
 * one stops it, keeping what was done; either is returned.
 */
static inline int ib_store_lease6_reclaim(struct ib_store *s, int64_t now,
		int (*cb)(const struct ib_lease6 *, void *), void *ctx)
{ return s->ops->lease6_reclaim(s, now, cb, ctx); }

/* Appends ev (sets ev->id). */
static inline int ib_store_event_append(struct ib_store *s, struct ib_event *ev)
{ return s->ops->event_append(s, ev); }
/*
 * Appends ev[0..n) in order, as one call per event would, in fewer
 * statements (sets each ev->id).  Atomic only inside a transaction.
 */
static inline int ib_store_event_append_many(struct ib_store *s, struct ib_event *ev,
					     size_t n)
{ return s->ops->event_append_many(s, ev, n); }

/* Calls cb for matching events, oldest first: the newest f->limit of them,
 * or with f->oldest the oldest f->limit after f->after_id, in the order
 * they became visible (see struct ib_event_filter). */
static inline int ib_store_event_foreach(struct ib_store *s, const struct ib_event_filter *f,
		int (*cb)(const struct ib_event *, void *), void *ctx)
{ return s->ops->event_foreach(s, f, cb, ctx); }

/* Deletes events beyond the newest max_events, and those older than the cutoff. */
static inline int ib_store_event_prune(struct ib_store *s, uint32_t max_events, int64_t older_than_us)
{ return s->ops->event_prune(s, max_events, older_than_us); }

/*
 * Creates or replaces the inventory object (row->kind, row->name); a
 * replaced one keeps its place in the order.  *ret_created (may be NULL)
 * says which.  The pointers in row are read, not kept.
 */
static inline int ib_store_inv_put(struct ib_store *s, const struct ib_inv_row *row,
		bool *ret_created)
{ return s->ops->inv_put(s, row, ret_created); }

/* Deletes an inventory object.  -ENOENT if there is none. */
static inline int ib_store_inv_delete(struct ib_store *s, const char *kind, const char *name)
{ return s->ops->inv_delete(s, kind, name); }

/* Calls cb for every inventory object, by kind, in the order they were
 * made; the row's strings live until cb returns.  A negative return of
 * cb stops the walk and is returned. */
static inline int ib_store_inv_foreach(struct ib_store *s,
		int (*cb)(const struct ib_inv_row *, void *), void *ctx)
{ return s->ops->inv_foreach(s, cb, ctx); }

/*
 * Copies the value of meta setting key (e.g. "server_id", or the DHCPv6
 * server's "server_duid6", hex text) into value[cap], terminated.
 * -ENOENT if there is none, -ENOBUFS if it does not fit cap (value is
 * then left alone).
 */
static inline int ib_store_meta_get(struct ib_store *s, const char *key, char *value,
		size_t cap)
{ return s->ops->meta_get(s, key, value, cap); }

/* Creates or replaces meta setting key with value (text). */
static inline int ib_store_meta_put(struct ib_store *s, const char *key, const char *value)
{ return s->ops->meta_put(s, key, value); }

/*
 * The lifecycle row of the machine one of whose NICs is mac (normal form)
 * into *ret, its NICs included.  -ENOENT if none.
 */
static inline int ib_store_machine_get(struct ib_store *s, const char *mac,
		struct ib_machine_state *ret)
{ return s->ops->machine_get(s, mac, ret); }

/*
 * Creates the row of a machine first seen on NIC m->mac, in m->state,
 * with m->profile (other fields are ignored), and journals note under
 * m->mac; sets m->id, version 1, nics, times (note->now_us).  -EEXIST (nothing
 * written) when a machine already has that NIC.  Atomic.
 */
static inline int ib_store_machine_create(struct ib_store *s, struct ib_machine_state *m,
		const struct ib_machine_note *note)
{ return s->ops->machine_create(s, m, note); }

/*
 * Compare-and-set: writes m's state, profile, fail_step, fail_reason and
 * local_boots over the row old->id, only if that row still has
 * old->state and old->version; the version goes one up (m->id,
 * m->version, m->updated_us and m->since_us are set; times are
 * note->now_us, since_us only when the state changes).  The
 * note is journalled under m->mac in the same transaction.  -EEXIST when
 * the row moved meanwhile (another request or daemon won: read it again),
 * -ENOENT when it is gone.  Atomic.
 */
static inline int ib_store_machine_update(struct ib_store *s,
		const struct ib_machine_state *old, struct ib_machine_state *m,
		const struct ib_machine_note *note)
{ return s->ops->machine_update(s, old, m, note); }

/*
 * Adds NIC mac to machine id (at most IB_MACHINE_NICS_MAX: -ENOSPC).  0
 * when it is already that machine's; -EEXIST when it is another's.
 */
static inline int ib_store_machine_add_nic(struct ib_store *s, int64_t id, const char *mac,
		int64_t now_us)
{ return s->ops->machine_add_nic(s, id, mac, now_us); }

/* Replaces machine id's hardware report (JSON text, at most
 * IB_MACHINE_REPORT_MAX bytes, else -E2BIG).  -ENOENT if no such row. */
static inline int ib_store_machine_report_put(struct ib_store *s, int64_t id, const char *json)
{ return s->ops->machine_report_put(s, id, json); }

/* Copies machine id's report into buf[cap], terminated.  -ENOENT when
 * there is none, -ENOBUFS when it does not fit. */
static inline int ib_store_machine_report_get(struct ib_store *s, int64_t id, char *buf,
		size_t cap)
{ return s->ops->machine_report_get(s, id, buf, cap); }

/* Calls cb for every machine, oldest first, with its NICs.  A non-zero
 * return of cb stops the walk and is returned. */
static inline int ib_store_machine_foreach(struct ib_store *s,
		int (*cb)(const struct ib_machine_state *, void *), void *ctx)
{ return s->ops->machine_foreach(s, cb, ctx); }

/* Creates or replaces the power row of row->mac. */
static inline int ib_store_power_put(struct ib_store *s, const struct ib_power_row *row)
{ return s->ops->power_put(s, row); }

/* The power row of mac into *ret; -ENOENT when none. */
static inline int ib_store_power_get(struct ib_store *s, const char *mac,
		struct ib_power_row *ret)
{ return s->ops->power_get(s, mac, ret); }

#endif
