/* An ironboot HTTP service inside a fuzz target: see http_harness.h. */
#include "http_harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "common/log.h"
#include "common/util.h"
#include "config/config.h"
#include "httpd/http_server.h"
#include "httpd/http_server_int.h"
#include "inventory/inventory.h"
#include "journal/journal.h"
#include "store/store.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define DIR_PREFIX "ib-fuzz-http-"
#define HTTP_PORT 18079			/* on 127.x.y.z of this process only */
#define HANG_S 10			/* an exchange that takes longer aborts */
#define PRUNE_EVERY 512			/* inputs between journal prunes */
#define RESET_MAX 4096			/* stored objects a reset deletes */

/* The service and what the writer swaps. */
static struct {
	char dir[128];			/* private directory */
	struct sockaddr_un sun;		/* abstract AF_UNIX listener */
	socklen_t sun_len;
	struct ib_config_text text;	/* the config file's text */
	struct ib_config *cfg;		/* snapshot served */
	struct ib_store *store;
	struct ib_journal *journal;
	struct event_base *base;
	struct ib_http_server *srv;
	bool written;			/* an API write was applied since the reset */
	unsigned inputs;		/* since the last prune */
	bool debug;			/* FUZZ_HTTP_DEBUG set: print each exchange */
} h;

/* One exchange's client side. */
static struct {
	int fd;				/* our end of the connection */
	const uint8_t *out;		/* request bytes */
	size_t out_len, out_off;	/* how many, how many sent */
	char in[FUZZ_HTTP_REPLY_MAX + 1]; /* reply bytes kept */
	size_t in_len;
	bool done;			/* the server closed (or reset) it */
	bool hung;			/* the watchdog fired */
	struct event *rev, *wev, *watchdog;
} c;

static const char user_data[] =
	"#cloud-config\n"
	"hostname: {{hostname}}\n"
	"{{#metadata.distro}}\n# distro: {{.}}\n{{/metadata.distro}}\n"
	"write_files:\n  - path: /etc/ironboot-profile\n    content: {{profile}}\n"
	"runcmd:\n  - [curl, -fsS, {{base_url}}]\n";
static const char ks[] = "# kickstart for {{mac}} ({{uuid}})\nnetwork --hostname={{hostname}}\n"
	"{{#labels.rack}}rack {{.}}\n{{/labels.rack}}";
static const char meta[] = "{\"mac\": {{mac}}, \"serial\": {{serial}}, \"role\": {{metadata.role}}}\n";
static const char setup_sh[] = "#!/bin/sh\nhostname {{hostname}}\necho {{metadata.role}}\n";
static const char custom[] = "#!ipxe\necho custom for {{mac}} on {{arch}}/{{platform}}\n"
	"chain {{base_url}}/configs/ks?mac={{mac}}\n";

static const char os_sha256[] =
	"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  os.img.gz\n";

/* The config; %1$s is the directory, %2$s the listen address. */
static const char config_fmt[] =
	"server: { state_dir: %1$s/state }\n"
	"dhcp4: { enabled: false }\n"
	"tftp: { enabled: false }\n"
	"journal: { max_events: 2000 }\n"
	"http:\n"
	"  listen: [%2$s]\n"
	"  port: %3$u\n"
	"  base_url: http://198.18.0.1:8080\n"
	"  assets: %1$s/assets\n"
	"  templates: %1$s/templates\n"
	"  api_token_file: %1$s/token\n"
	/* one peer asks for every machine, over AF_UNIX (no address facts):
	 * strict mode would refuse them all (tests/unit/test_machine_auth.c
	 * and test_machine_auth.py cover it) */
	"  machine_auth: off\n"
	"profiles:\n"
	"  - name: linux\n"
	"    kernel: vmlinuz\n"
	"    initrd: [initrd.img, extra/initrd2.img]\n"
	"    args: [\"console=ttyS0\", \"ib.marker=booted-{{hostname}}\", \"quiet\"]\n"
	"    configs:\n"
	"      - { name: user-data, template: user-data.yaml, format: yaml }\n"
	"      - { name: ks, template: ks.cfg, format: text }\n"
	"      - { name: meta.json, template: meta.json, format: json }\n"
	"      - { name: setup.sh, template: setup.sh, format: shell }\n"
	"    metadata: { distro: debian, role: worker }\n"
	"  - name: local-disk\n"
	"    boot: local\n"
	"    local_method: exit\n"
	"  - name: custom\n"
	"    kernel: http://198.18.0.1:8080/assets/vmlinuz\n"
	"    script: custom.ipxe\n"
	"    configs: [ { name: ks, template: ks.cfg, format: text } ]\n"
	/* written by the agent (fuzz_agent_api.c asks for the install) */
	"  - name: imaged\n"
	"    image: { url: \"http://198.18.0.1:8080/assets/os.img.gz\", sha256_file: os.sha256,\n"
	"             disk: vda, format: gzip }\n"
	"groups:\n"
	"  - name: local\n"
	"    profile: local-disk\n"
	"    selector: { mac: \"52:54:00:00:00:20\" }\n"
	"  - name: rack1\n"
	"    profile: custom\n"
	"    selector: { labels: { rack: r1 }, arch: x86_64 }\n"
	"  - name: default\n"
	"    profile: linux\n"
	/* machines of no inventory entry are the lifecycle's: the agent's
	 * endpoints (fuzz_agent_api.c) */
	"lifecycle: { auto_discover: true }\n"
	"machines:\n"
	"  - mac: \"52:54:00:00:00:10\"\n"
	"    hostname: node10\n"
	"    labels: { rack: r1 }\n"
	"    metadata: { role: db }\n";

static void write_file(const char *rel, const void *p, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", h.dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, p, len) == (ssize_t)len);
	close(fd);
}

static void make_dir(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", h.dir, rel);
	CHECK(mkdir(path, 0700) == 0 || errno == EEXIST);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
	rm_tree(h.dir);
}

/* Removes the directories of runs that died without cleaning up. */
static void remove_stale(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d)) != NULL) {
		long pid;

		if (strncmp(e->d_name, DIR_PREFIX, strlen(DIR_PREFIX)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(DIR_PREFIX), NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
			rm_tree(path);
		}
	}
	if (d)
		closedir(d);
}

static char kernel[4000];		/* assets/vmlinuz; the other files are 7 or 0 bytes */

static void make_files(void)
{
	const char *parent = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char path[256];

	remove_stale(parent);
	snprintf(h.dir, sizeof(h.dir), "%s/" DIR_PREFIX "%ld", parent, (long)getpid());
	rm_tree(h.dir);
	CHECK(mkdir(h.dir, 0700) == 0);
	atexit(cleanup);
	make_dir("state");
	make_dir("assets");
	make_dir("assets/extra");
	make_dir("templates");
	for (size_t i = 0; i < sizeof(kernel); i++)
		kernel[i] = (char)('a' + i % 26);
	write_file("assets/vmlinuz", kernel, sizeof(kernel));
	write_file("assets/initrd.img", "initrd\n", 7);
	write_file("assets/extra/initrd2.img", "second\n", 7);
	write_file("assets/empty", "", 0);
	/* the operator's links are followed (http_assets.c); a client's
	 * path never leaves the directory */
	snprintf(path, sizeof(path), "%s/assets/alias.img", h.dir);
	CHECK(symlink("vmlinuz", path) == 0);
	write_file("templates/user-data.yaml", user_data, sizeof(user_data) - 1);
	write_file("templates/ks.cfg", ks, sizeof(ks) - 1);
	write_file("templates/meta.json", meta, sizeof(meta) - 1);
	write_file("templates/setup.sh", setup_sh, sizeof(setup_sh) - 1);
	write_file("templates/custom.ipxe", custom, sizeof(custom) - 1);
	write_file("token", FUZZ_HTTP_TOKEN "\n", sizeof(FUZZ_HTTP_TOKEN));
	write_file("assets/os.sha256", os_sha256, sizeof(os_sha256) - 1);
}

static void load_text(void)
{
	char addr[INET_ADDRSTRLEN];
	unsigned long pid = (unsigned long)getpid();
	int n;

	/*
	 * 127.0.0.0/8 is all local: an address no other process uses, one per
	 * pid (pid_max is at most 2^22; 127.255.255.255 is never made).  The
	 * "| 1" this had once gave adjacent pids one address: two harnesses
	 * started together (corpus_api_body and corpus_http_request under
	 * meson test) could not both listen.
	 */
	snprintf(addr, sizeof(addr), "127.%lu.%lu.%lu", 1 + ((pid >> 16) & 0x3f),
		 (pid >> 8) & 0xff, pid & 0xff);
	n = snprintf(NULL, 0, config_fmt, h.dir, addr, HTTP_PORT);
	h.text.name = "fuzz-http.yaml";
	h.text.buf = malloc((size_t)n + 1);
	CHECK(h.text.buf);
	snprintf(h.text.buf, (size_t)n + 1, config_fmt, h.dir, addr, HTTP_PORT);
	h.text.len = (size_t)n;
}

/* Leases for the API's listings and the journal's who-is-this. */
static void add_leases(void)
{
	struct ib_lease4 l4 = {
		.address = 0xc612000au, .subnet = 0xc6120000u, .htype = 1, .hw_len = 6,
		.hwaddr = { 0x52, 0x54, 0, 0, 0, 0x10 }, .client_id_len = 7,
		.client_id = { 1, 0x52, 0x54, 0, 0, 0, 0x10 }, .hostname = "node10",
		.cltt = 1700000000, .expires = 4000000000, .state = IB_LEASE_ACTIVE,
	};
	struct ib_lease6 l6 = {
		.address = { 0xfd, 0, 0xb0, 0x07, [15] = 0x10 }, .subnet = { 0xfd, 0, 0xb0, 0x07 },
		.prefix_len = 64, .duid_len = 10, .duid = { 0, 3, 0, 1, 0x52, 0x54, 0, 0, 0, 0x10 },
		.iaid = 1, .has_mac = true, .mac = { 0x52, 0x54, 0, 0, 0, 0x10 },
		.hostname = "node10", .cltt = 1700000000, .preferred = 4000000000,
		.expires = 4000000000, .state = IB_LEASE_ACTIVE,
	};

	CHECK(ib_store_begin(h.store) == 0);
	CHECK(ib_store_lease4_commit(h.store, &l4, 1700000000) == 0);
	l4.address++;
	l4.hwaddr[5] = 0x11;
	l4.client_id_len = 0;
	l4.hostname[0] = '\0';
	l4.state = IB_LEASE_RELEASED;
	CHECK(ib_store_lease4_commit(h.store, &l4, 1700000000) == 0);
	CHECK(ib_store_lease6_commit(h.store, &l6, 1700000000) == 0);
	CHECK(ib_store_commit(h.store) == 0);
}

/* Swaps in next as the daemon does; frees the snapshot it replaces. */
static int swap(struct ib_config *next)
{
	if (ib_http_server_reconfigure(h.srv, next) < 0) {
		ib_http_server_reconfigure(h.srv, h.cfg);
		ib_config_free(next);
		return -EIO;
	}
	ib_journal_set_config(h.journal, &next->journal);
	ib_config_free(h.cfg);
	h.cfg = next;
	return 0;
}

/* The REST API's writer (ib_http_inventory_fn), as daemon.c's. */
static int apply(void *ctx, const struct ib_inventory_change *ch, bool *ret_created, char *err)
{
	struct ib_config *next;
	int r;

	(void)ctx;
	r = ib_inventory_apply(&h.text, h.store, ch, ib_now_us(), &next, ret_created, err);
	if (r < 0)
		return r;
	if ((r = swap(next)) < 0) {
		snprintf(err, IB_CONFIG_ERRLEN, "stored, but not applied");
		return r;
	}
	h.written = true;
	return 0;
}

static void listen_unix(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int n;

	h.sun.sun_family = AF_UNIX;
	n = snprintf(h.sun.sun_path + 1, sizeof(h.sun.sun_path) - 1, DIR_PREFIX "%ld",
		     (long)getpid());
	h.sun_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&h.sun, h.sun_len) == 0);
	CHECK(listen(fd, 64) == 0);
	CHECK(evhttp_accept_socket_with_handle(h.srv->http, fd) != NULL);
}

void fuzz_http_init(void)
{
	char err[IB_CONFIG_ERRLEN];

	if (h.srv)
		return;
	h.debug = getenv("FUZZ_HTTP_DEBUG") != NULL;
	ib_log_setup(h.debug ? IB_LOG_DEBUG : IB_LOG_ERR, false, "fuzz");
	signal(SIGPIPE, SIG_IGN);
	make_files();
	load_text();
	if (ib_config_load_text_with(&h.text, NULL, 0, &h.cfg, err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	snprintf(err, sizeof(err), "%s/state/ironboot.db", h.dir);
	CHECK(ib_store_sqlite_open(err, &h.store, NULL) == 0);
	add_leases();
	CHECK(ib_journal_new(h.store, &h.cfg->journal, &h.journal) == 0);
	CHECK((h.base = event_base_new()) != NULL);
	CHECK(ib_http_server_new(h.base, h.cfg, h.store, h.journal, &h.srv) == 0);
	ib_http_server_set_inventory(h.srv, apply, NULL);
	listen_unix();
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	char scratch[4096];
	ssize_t n;

	(void)what;
	(void)arg;
	for (;;) {
		size_t room = FUZZ_HTTP_REPLY_MAX - c.in_len;

		n = room ? read(fd, c.in + c.in_len, room) : read(fd, scratch, sizeof(scratch));
		if (n > 0) {
			if (room)
				c.in_len += (size_t)n;
			continue;
		}
		if (n == 0 || errno != EAGAIN)
			c.done = true;	/* closed, or reset after a refusal */
		return;
	}
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	ssize_t n;

	(void)what;
	(void)arg;
	while (c.out_off < c.out_len) {
		n = write(fd, c.out + c.out_off, c.out_len - c.out_off);
		if (n < 0) {
			if (errno != EAGAIN)
				c.out_off = c.out_len;	/* the server closed first */
			if (errno == EAGAIN)
				return;
			break;
		}
		c.out_off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	event_del(c.wev);
}

static void on_hang(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	c.hung = true;
}

static void parse_reply(struct fuzz_http_reply *ret)
{
	char *end;

	c.in[c.in_len] = '\0';
	*ret = (struct fuzz_http_reply){ .buf = c.in, .len = c.in_len };
	/* evhttp answers in the request's version, "HTTP/0.1" included */
	if (strncmp(c.in, "HTTP/", 5) == 0 && (end = strchr(c.in, ' ')) != NULL)
		ret->status = (int)strtol(end + 1, NULL, 10);
	end = strstr(c.in, "\r\n\r\n");
	if (end)
		ret->body = end + 4;
}

void fuzz_http_exchange(const void *req, size_t len, struct fuzz_http_reply *ret)
{
	struct timeval tv = { HANG_S, 0 };

	c.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(c.fd >= 0 && connect(c.fd, (struct sockaddr *)&h.sun, h.sun_len) == 0);
	CHECK(fcntl(c.fd, F_SETFL, O_NONBLOCK) == 0);
	c.out = req;
	c.out_len = len;
	c.out_off = 0;
	c.in_len = 0;
	c.done = c.hung = false;
	c.rev = event_new(h.base, c.fd, EV_READ | EV_PERSIST, on_read, NULL);
	c.wev = event_new(h.base, c.fd, EV_WRITE | EV_PERSIST, on_write, NULL);
	c.watchdog = evtimer_new(h.base, on_hang, NULL);
	CHECK(c.rev && c.wev && c.watchdog);
	CHECK(event_add(c.rev, NULL) == 0 && event_add(c.wev, NULL) == 0);
	CHECK(evtimer_add(c.watchdog, &tv) == 0);
	while (!c.done && !c.hung)
		event_base_loop(h.base, EVLOOP_ONCE);
	CHECK(!c.hung);		/* the server neither answered nor closed */
	event_free(c.rev);
	event_free(c.wev);
	event_free(c.watchdog);
	close(c.fd);
	parse_reply(ret);
	if (h.debug)
		fprintf(stderr, "---- request (%zu bytes)\n%.*s\n---- reply (%zu bytes)\n%s\n",
			len, (int)len, (const char *)req, c.in_len, c.in);
}

/* Copies the stored objects' keys for the reset. */
struct keys {
	char kind[RESET_MAX][16];
	char name[RESET_MAX][128];
	size_t n;
};

static int add_key(const struct ib_inv_row *row, void *ctx)
{
	struct keys *k = ctx;

	if (k->n == RESET_MAX || strlen(row->kind) >= sizeof(k->kind[0]) ||
	    strlen(row->name) >= sizeof(k->name[0]))
		return -ENOBUFS;
	strcpy(k->kind[k->n], row->kind);
	strcpy(k->name[k->n], row->name);
	k->n++;
	return 0;
}

void fuzz_http_reset(void)
{
	static struct keys k;
	char err[IB_CONFIG_ERRLEN];
	struct ib_config *next;

	if (h.written) {
		k.n = 0;
		CHECK(ib_store_inv_foreach(h.store, add_key, &k) == 0);
		CHECK(ib_store_begin(h.store) == 0);
		for (size_t i = 0; i < k.n; i++)
			CHECK(ib_store_inv_delete(h.store, k.kind[i], k.name[i]) == 0);
		CHECK(ib_store_commit(h.store) == 0);
		CHECK(ib_config_load_text_with(&h.text, NULL, 0, &next, err) == 0);
		CHECK(swap(next) == 0);
		h.written = false;
	}
	if (++h.inputs >= PRUNE_EVERY) {
		h.inputs = 0;
		ib_journal_flush(h.journal, false);
		ib_journal_prune(h.journal, ib_now_us());
	}
}

bool fuzz_http_written(void)
{
	return h.written;
}

/* Whether an asset reply's length is that of a file in the directory. */
static bool asset_length_known(const struct fuzz_http_reply *r)
{
	const char *cl = strstr(r->buf, "\r\nContent-Length: ");
	const char *ct = strstr(r->buf, "\r\nContent-Type: application/octet-stream\r\n");
	unsigned long n;

	/* the first response's head only: a pipelined asset further on is
	 * not this response's type (a harness mistake fuzzing found) */
	if (r->status != 200 || !cl || !ct || (r->body && (cl > r->body || ct > r->body)))
		return true;	/* not a whole asset */
	n = strtoul(cl + 18, NULL, 10);
	return n == sizeof(kernel) || n == 7 || n == 0;
}

/* Whether the first request of the connection is a HEAD (evhttp skips
 * empty lines before a request line). */
static bool first_is_head(const char *req, size_t len)
{
	while (len > 0 && (*req == '\r' || *req == '\n')) {
		req++;
		len--;
	}
	return len >= 5 && memcmp(req, "HEAD ", 5) == 0;
}

/*
 * Whether the first response arrived whole: as many body bytes as its
 * Content-Length says, although the client half-closed right after its
 * request (fuzz finding 5: an asset's sendfile body was dropped).  A HEAD,
 * a 1xx, 204 or 304 has no body; a reply past the bytes kept is not
 * judged.
 */
static bool body_whole(const char *req, size_t len, const struct fuzz_http_reply *r)
{
	const char *cl = strstr(r->buf, "\r\nContent-Length: ");

	if (!r->body || !cl || cl > r->body || r->status < 200 || r->status == 204 ||
	    r->status == 304 || first_is_head(req, len) || r->len >= FUZZ_HTTP_REPLY_MAX)
		return true;
	return strtoull(cl + 18, NULL, 10) <= r->len - (size_t)(r->body - r->buf);
}

void fuzz_http_check_reply(const void *req, size_t len, const struct fuzz_http_reply *r)
{
	static const char passwd[] = "root:x:0:0:";

	/* whatever evhttp accepted gets an HTTP answer */
	CHECK(r->len == 0 || (strncmp(r->buf, "HTTP/", 5) == 0 && r->status >= 100));
	/* files outside the assets directory are never served: no body of
	 * theirs (unless the request itself carried the text, which an error
	 * may quote, or the journal, which /api/v1/events lists, has it from
	 * an earlier request), no length other than one of our files' */
	CHECK(!memmem(r->buf, r->len, passwd, sizeof(passwd) - 1) ||
	      memmem(req, len, passwd, sizeof(passwd) - 1) ||
	      strstr(r->buf, "\r\nContent-Type: application/json\r\n"));
	CHECK(asset_length_known(r));
	CHECK(body_whole(req, len, r));
	/* no reply forgotten by the dispatcher, no failure of ours */
	CHECK(r->status != 500);
}

void fuzz_http_machine_token(const char *mac, char ret[IB_HTTPD_MACHINE_TOKEN_LEN + 1])
{
	ib_httpd_machine_token(h.srv->machine_secret, mac, ret);
}
