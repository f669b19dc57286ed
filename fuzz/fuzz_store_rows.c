/*
 * libFuzzer target for stored rows as ironboot loads them: IPv4 and IPv6
 * lease rows, journal events and REST API inventory objects, written raw
 * into the SQLite store by a second connection (as another daemon sharing
 * the store, an older version or a hand edit could leave them: any type in
 * any column, as long as the schema's CHECKs let it in), then read back
 * through the store interface and shown the way the REST API and the CLI
 * show them (lease_json.c), and the inventory loaded with the config file
 * (ib_inventory_load).
 *
 * Input: rows, each a table byte (low bits: leases4, leases6, events,
 * inventory) and its columns in schema order, each a tag byte (low bits:
 * NULL, 8-byte integer, text, blob) and, for text and blob, a length byte
 * and the bytes.
 *
 * Properties: the walks succeed; every lease's lengths are within their
 * arrays and its strings terminated; an IPv6 lease fetched by address is
 * the one the walk gave; every lease and event turns into JSON (the API's and
 * the CLI's listings); the file loads with the stored inventory, each
 * stored object either served or listed as refused.  Any broken property
 * aborts.
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config/config.h"
#include "inventory/inventory.h"
#include "store/lease_json.h"
#include "store/store.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define ROWS_MAX 64
#define DIR_PREFIX "ib-fuzz-rows-"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config_fmt[] =
	"server: { state_dir: %1$s }\n"
	"dhcp4: { enabled: false }\n"
	"http:\n"
	"  listen: [198.18.0.1]\n"
	"  assets: %1$s\n"
	"  templates: %1$s\n"
	"profiles: [ { name: linux, kernel: vmlinuz } ]\n"
	"groups: [ { name: default, profile: linux } ]\n"
	"machines: [ { mac: \"52:54:00:00:00:10\", hostname: node10 } ]\n";

/* Each table's INSERT, with as many parameters as it has columns. */
static const struct {
	const char *sql;
	int ncols;
} tables[] = {
	{ "INSERT INTO leases4 (address, subnet, htype, hwaddr, client_id, hostname,"
	  " cltt, expires, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", 9 },
	{ "INSERT INTO leases6 (address, subnet, prefix_len, duid, iaid, mac, hostname,"
	  " cltt, preferred, expires, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", 11 },
	{ "INSERT INTO events (ts_us, mac, client_id, uuid, proto, kind, detail)"
	  " VALUES (?, ?, ?, ?, ?, ?, ?)", 7 },
	{ "INSERT INTO inventory (kind, name, body, updated_us) VALUES (?, ?, ?, ?)", 4 },
};

static char dir[128];
static struct ib_store *store;
static sqlite3 *raw;			/* the other writer */
static sqlite3_stmt *insert[4];
static struct ib_config_text text;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void cleanup(void)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void init(void)
{
	const char *parent = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char path[256];
	int n;

	snprintf(dir, sizeof(dir), "%s/" DIR_PREFIX "%ld", parent, (long)getpid());
	cleanup();
	CHECK(mkdir(dir, 0700) == 0);
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/ironboot.db", dir);
	CHECK(ib_store_sqlite_open(path, &store, NULL) == 0);
	CHECK(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
	CHECK(sqlite3_exec(raw, "PRAGMA synchronous = OFF", NULL, NULL, NULL) == SQLITE_OK);
	for (size_t i = 0; i < 4; i++)
		CHECK(sqlite3_prepare_v2(raw, tables[i].sql, -1, &insert[i], NULL) == SQLITE_OK);
	n = snprintf(NULL, 0, config_fmt, dir);
	text.name = "fuzz-rows.yaml";
	CHECK((text.buf = malloc((size_t)n + 1)) != NULL);
	snprintf(text.buf, (size_t)n + 1, config_fmt, dir);
	text.len = (size_t)n;
}

/* Reads the input front to back. */
struct in {
	const uint8_t *p;		/* next byte */
	size_t left;			/* bytes left */
};

static uint8_t byte(struct in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* Binds one column value from the input to parameter idx of st. */
static void bind_value(struct in *in, sqlite3_stmt *st, int idx)
{
	uint8_t tag = byte(in), len;
	int64_t v = 0;

	switch (tag & 3) {
	case 0:
		sqlite3_bind_null(st, idx);
		break;
	case 1:
		for (int i = 0; i < 8; i++)
			v = (int64_t)((uint64_t)v << 8 | byte(in));
		sqlite3_bind_int64(st, idx, v);
		break;
	default:
		len = byte(in);
		if (len > in->left)
			len = (uint8_t)in->left;
		if ((tag & 3) == 2)
			sqlite3_bind_text(st, idx, (const char *)in->p, len, SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(st, idx, in->p, len, SQLITE_TRANSIENT);
		in->p += len;
		in->left -= len;
		break;
	}
}

/* Replaces every row with the input's (those the CHECKs refuse are left
 * out); returns how many went in. */
static unsigned write_rows(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	unsigned n = 0;

	CHECK(sqlite3_exec(raw, "BEGIN; DELETE FROM leases4; DELETE FROM leases6;"
			   " DELETE FROM events; DELETE FROM inventory;",
			   NULL, NULL, NULL) == SQLITE_OK);
	for (int r = 0; r < ROWS_MAX && in.left; r++) {
		sqlite3_stmt *st = insert[byte(&in) & 3];

		for (int c = 1; c <= sqlite3_bind_parameter_count(st); c++)
			bind_value(&in, st, c);
		if (sqlite3_step(st) == SQLITE_DONE)
			n++;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	CHECK(sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	return n;
}

/* Every row turns into JSON, whatever bytes its text holds. */
static void check_json(json_t *j)
{
	char *s;

	CHECK(j != NULL);
	CHECK((s = json_dumps(j, JSON_COMPACT)) != NULL);
	free(s);
	json_decref(j);
}

static void check_lease4(const struct ib_lease4 *l)
{
	CHECK(l->hw_len <= IB_HWADDR_MAX);
	CHECK(strnlen(l->hostname, sizeof(l->hostname)) < sizeof(l->hostname));
	check_json(ib_lease4_json(l));
}

/* The address column is any integer; the walk and a fetch see it as 32
 * bits, so two rows may share one address and a fetch may find neither. */
static int on_lease4(const struct ib_lease4 *l, void *ctx)
{
	struct ib_lease4 again;
	int r;

	(void)ctx;
	check_lease4(l);
	r = ib_store_lease4_get(store, l->address, &again);
	CHECK(r == 0 || r == -ENOENT);
	if (r == 0)
		check_lease4(&again);
	return 0;
}

static int on_lease6(const struct ib_lease6 *l, void *ctx)
{
	struct ib_lease6 again;

	(void)ctx;
	CHECK(l->duid_len <= IB_DUID_MAX && l->prefix_len <= 128);
	CHECK(strnlen(l->hostname, sizeof(l->hostname)) < sizeof(l->hostname));
	CHECK(ib_store_lease6_get(store, l->address, &again) == 0);
	CHECK(memcmp(&again, l, sizeof(again)) == 0);
	check_json(ib_lease6_json(l));
	return 0;
}

/* As the REST API and the CLI list events (ib_event_json). */
static int on_event(const struct ib_event *e, void *ctx)
{
	(void)ctx;
	CHECK(strnlen(e->mac, sizeof(e->mac)) < sizeof(e->mac));
	CHECK(strnlen(e->detail, sizeof(e->detail)) < sizeof(e->detail));
	check_json(ib_event_json(e));
	return 0;
}

/* Each stored object is served or refused, never both, never neither. */
static int on_object(const struct ib_inv_row *row, void *ctx)
{
	const struct ib_config *cfg = ((void **)ctx)[0];
	const struct ib_inventory_refused *rf = ((void **)ctx)[1];
	enum ib_config_kind kind;
	bool refused = false;

	CHECK(ib_config_kind_parse(row->kind, &kind) == 0);
	for (size_t i = 0; i < rf->n; i++)
		refused |= rf->v[i].kind == kind && strncmp(rf->v[i].name, row->name,
							    sizeof(rf->v[i].name) - 1) == 0;
	if (rf->more == 0 && !refused)
		CHECK(ib_inventory_lookup(cfg, kind, row->name) == 1);
	return 0;
}

static void check_inventory(void)
{
	static struct ib_inventory_refused rf;
	char err[IB_CONFIG_ERRLEN];
	struct ib_config *cfg;
	void *ctx[2];

	if (ib_inventory_load(&text, store, &cfg, &rf, err) < 0) {
		fprintf(stderr, "fuzz: the file did not load with the stored objects: %s\n", err);
		abort();
	}
	CHECK(rf.n <= IB_INVENTORY_REFUSED_MAX);
	ctx[0] = cfg;
	ctx[1] = &rf;
	CHECK(ib_store_inv_foreach(store, on_object, ctx) == 0);
	ib_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ib_event_filter all = { .limit = 0 }, some = { .mac = "52:54:00:00:00:10",
							      .proto = "http", .limit = 5 };

	if (!store)
		init();
	if (write_rows(data, size) == 0)
		return 0;
	CHECK(ib_store_lease4_foreach(store, 0, UINT32_MAX, on_lease4, NULL) == 0);
	CHECK(ib_store_lease6_foreach(store, on_lease6, NULL) == 0);
	CHECK(ib_store_event_foreach(store, &all, on_event, NULL) == 0);
	CHECK(ib_store_event_foreach(store, &some, on_event, NULL) == 0);
	check_inventory();
	return 0;
}
