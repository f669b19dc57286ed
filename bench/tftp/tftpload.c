/*
 * tftpload: TFTP read (RRQ) load generator for bench/tftp.
 *
 * Runs N transfers of one remote file at the same time from one process
 * (one UDP socket per transfer, all in one epoll set), optionally R rounds
 * in a row, and reports per round: wall time of the whole round, per-
 * transfer times (min/p50/p99/max), throughput, retransmissions, failures.
 *
 * Protocol (client side of RFC 1350, 2347, 2348, 2349, 7440):
 *   - RRQ "octet" with blksize (-b), tsize 0, and windowsize (-w, when > 1);
 *   - an OACK fixes blksize/windowsize/tsize (values larger than asked are a
 *     protocol error); DATA 1 without an OACK means no options (512, 1);
 *   - the server's TID is the source port of its first answer; the socket is
 *     then connect()ed to it;
 *   - ACK every windowsize blocks in order (and the last, short, block);
 *     on a gap or a duplicate, ACK the last in-order block once until the
 *     next in-order block arrives (RFC 7440 section 4);
 *   - block numbers roll over past 65535 to 0 (to 1 is recognised too, for
 *     windowsize 1);
 *   - retransmit (RRQ, or the last ACK) after -T ms without progress, at
 *     most -m times in a row, then the transfer fails;
 *   - every received byte count is checked against -e SIZE (or the local
 *     copy -l FILE, which is also compared byte for byte) and against tsize.
 *
 * Everything is bounded: a round ends after -t seconds at the latest
 * (transfers still running count as failures).
 *
 * Output: one JSON object per round on stdout (client_cpu_s: this
 * process's own user + system CPU over the round, from getrusage, which
 * includes the kernel work done in its context); -q silences the human
 * summary on stderr.  Exit status 0 when every transfer of every round
 * succeeded, 1 when some failed, 2 on usage or setup errors.
 *
 *   tftpload -s 198.18.0.1 -p 69 -f ipxe.efi -n 1000 -b 1428 -w 1 \
 *            -a 198.19.0.1+200 -l /srv/tftp/ipxe.efi -t 60
 *
 * Build: cc -O2 -o tftpload tftpload.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OP_RRQ 1
#define OP_DATA 3
#define OP_ACK 4
#define OP_ERROR 5
#define OP_OACK 6

#define BLKSIZE_MAX 65464
#define PKT_MAX (BLKSIZE_MAX + 4)
#define RECV_BATCH 32
#define MAX_ADDRS 4096

enum st { ST_WAIT, ST_DATA, ST_DONE, ST_FAIL };

struct xfer {
	int fd;
	enum st st;
	bool connected;
	bool gap_acked;		/* ACK of last_good sent since the last progress */
	bool rolled1;		/* server rolls 65535 -> 1 */
	uint32_t blksize, window;
	uint64_t good;		/* last block received in order */
	uint64_t acked;		/* last block acknowledged */
	uint64_t bytes;
	uint64_t tsize;
	bool have_tsize;
	uint32_t retries, retrans;
	uint64_t dups, gaps;
	int64_t t0, t1, last;	/* ns: RRQ sent, done, last progress */
	char err[128];
};

static struct {
	struct sockaddr_in srv;
	const char *file;
	int n, rounds;
	uint32_t blksize, window;
	uint32_t timeout_ms, max_retries;
	double limit_s;
	uint64_t expect;	/* 0 = unknown */
	const uint8_t *local;	/* mmap of -l FILE */
	uint64_t local_len;
	struct in_addr addrs[MAX_ADDRS];
	int n_addrs;
	int rcvbuf;
	bool quiet;
	const char *label;
	double drop;		/* -D: self-test, drop this fraction both ways */
} O = {
	.n = 1, .rounds = 1, .blksize = 512, .window = 1, .timeout_ms = 1000,
	.max_retries = 5, .limit_s = 60,
};

static uint8_t *rbufs;		/* RECV_BATCH x PKT_MAX */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* -D: simulated loss (xorshift64*), for testing this client. */
static bool lose(void)
{
	if (O.drop <= 0)
		return false;
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0 < O.drop;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fail(struct xfer *x, const char *fmt, const char *arg)
{
	if (x->st == ST_DONE || x->st == ST_FAIL)
		return;
	x->st = ST_FAIL;
	x->t1 = now_ns();
	snprintf(x->err, sizeof x->err, fmt, arg ? arg : "");
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s) + 1;
	memcpy(p, s, n);
	return n;
}

static int send_rrq(struct xfer *x)
{
	uint8_t pkt[600];
	char num[24];
	size_t n = 0;

	pkt[n++] = 0;
	pkt[n++] = OP_RRQ;
	n += put_str(pkt + n, O.file);
	n += put_str(pkt + n, "octet");
	n += put_str(pkt + n, "blksize");
	snprintf(num, sizeof num, "%u", O.blksize);
	n += put_str(pkt + n, num);
	n += put_str(pkt + n, "tsize");
	n += put_str(pkt + n, "0");
	if (O.window > 1) {
		n += put_str(pkt + n, "windowsize");
		snprintf(num, sizeof num, "%u", O.window);
		n += put_str(pkt + n, num);
	}
	if (sendto(x->fd, pkt, n, 0, (struct sockaddr *)&O.srv, sizeof O.srv) < 0)
		return -errno;
	return 0;
}

/*
 * Wire number of block index blk: the low 16 bits (65535 -> 0), or, for a
 * server seen rolling over to 1, 1..65535 over and over (0 only for ACK 0).
 */
static uint16_t wire_of(const struct xfer *x, uint64_t blk)
{
	if (x->rolled1 && blk > 0)
		return (uint16_t)((blk - 1) % 65535 + 1);
	return (uint16_t)blk;
}

static void send_ack(struct xfer *x, uint64_t blk)
{
	uint16_t wire = wire_of(x, blk);
	uint8_t pkt[4] = { 0, OP_ACK, wire >> 8, wire & 0xff };

	/* A full socket buffer only delays; the retransmit timer covers it. */
	if (!lose())
		(void)send(x->fd, pkt, 4, MSG_DONTWAIT);
	x->acked = blk;
}

static void parse_oack(struct xfer *x, const uint8_t *p, size_t len)
{
	const char *s = (const char *)p, *end = (const char *)p + len;

	x->blksize = 512;
	x->window = 1;
	while (s < end) {
		const char *k = s, *v;
		size_t kl = strnlen(k, (size_t)(end - k));
		if (k + kl >= end)
			break;
		v = k + kl + 1;
		size_t vl = strnlen(v, (size_t)(end - v));
		if (v + vl >= end)
			break;
		unsigned long long val = strtoull(v, NULL, 10);
		if (!strcasecmp(k, "blksize")) {
			if (val < 8 || val > O.blksize) {
				fail(x, "OACK blksize %s out of range", v);
				return;
			}
			x->blksize = (uint32_t)val;
		} else if (!strcasecmp(k, "windowsize")) {
			if (val < 1 || val > O.window) {
				fail(x, "OACK windowsize %s out of range", v);
				return;
			}
			x->window = (uint32_t)val;
		} else if (!strcasecmp(k, "tsize")) {
			x->tsize = val;
			x->have_tsize = true;
		}
		s = v + vl + 1;
	}
}

static void finish_ok(struct xfer *x)
{
	uint64_t want = O.expect;

	x->t1 = now_ns();
	if (x->have_tsize && want && x->tsize != want) {
		char m[32];
		snprintf(m, sizeof m, "%llu", (unsigned long long)x->tsize);
		x->st = ST_DATA;	/* so fail() records it */
		fail(x, "tsize %s does not match the file", m);
		return;
	}
	if (want && x->bytes != want) {
		char m[32];
		snprintf(m, sizeof m, "%llu", (unsigned long long)x->bytes);
		x->st = ST_DATA;
		fail(x, "received %s bytes, size mismatch", m);
		return;
	}
	x->st = ST_DONE;
}

/* One datagram from the server (after the TID is known). */
static void on_packet(struct xfer *x, const uint8_t *p, size_t len, int64_t t)
{
	uint16_t op, blk;

	if (len < 4) {
		fail(x, "short packet%s", NULL);
		return;
	}
	op = (uint16_t)(p[0] << 8 | p[1]);
	blk = (uint16_t)(p[2] << 8 | p[3]);
	if (op == OP_ERROR) {
		char m[80];
		size_t ml = len > 4 ? len - 4 : 0;
		if (ml > sizeof m - 1)
			ml = sizeof m - 1;
		memcpy(m, p + 4, ml);
		m[ml] = 0;
		for (size_t i = 0; i < ml; i++)
			if (m[i] < 32 || m[i] > 126)
				m[i] = m[i] ? '?' : 0;
		if (x->st == ST_WAIT || x->st == ST_DATA) {
			char code[100];
			snprintf(code, sizeof code, "%u %s", blk, m);
			fail(x, "server ERROR %s", code);
		}
		return;
	}
	if (x->st == ST_DONE) {
		/* server lost the final ACK: repeat it */
		if (op == OP_DATA && blk == wire_of(x, x->good))
			send_ack(x, x->good);
		return;
	}
	if (x->st != ST_WAIT && x->st != ST_DATA)
		return;
	if (op == OP_OACK) {
		if (x->st != ST_WAIT) {
			/* a resent OACK: our ACK 0 was lost */
			if (x->good == 0)
				send_ack(x, 0);
			return;
		}
		parse_oack(x, p + 2, len - 2);
		if (x->st == ST_FAIL)
			return;
		x->st = ST_DATA;
		x->last = t;
		x->retries = 0;
		send_ack(x, 0);
		return;
	}
	if (op != OP_DATA) {
		fail(x, "unexpected opcode%s", NULL);
		return;
	}
	if (x->st == ST_WAIT) {
		/* no OACK: the server ignored every option */
		x->blksize = 512;
		x->window = 1;
		x->st = ST_DATA;
	}
	size_t dl = len - 4;
	if (dl > x->blksize) {
		fail(x, "DATA larger than blksize%s", NULL);
		return;
	}
	uint64_t next = x->good + 1;
	uint16_t want = wire_of(x, next);
	if (blk != want && x->window == 1 && next % 65536 == 0 && blk == 1 &&
	    !x->rolled1) {
		x->rolled1 = true;	/* 65535 -> 1 convention */
		want = wire_of(x, next);
	}
	if (blk != want) {
		/* duplicate or gap: re-ACK the last in-order block, once */
		uint16_t d = (uint16_t)(blk - want);
		if (d >= 0x8000)
			x->dups++;
		else
			x->gaps++;
		if (!x->gap_acked) {
			send_ack(x, x->good);
			x->gap_acked = true;
		}
		return;
	}
	uint64_t off = (next - 1) * (uint64_t)x->blksize;
	if (O.local) {
		if (off + dl > O.local_len || memcmp(O.local + off, p + 4, dl)) {
			fail(x, "data differs from the local file%s", NULL);
			return;
		}
	}
	x->good = next;
	x->bytes += dl;
	x->gap_acked = false;
	x->last = t;
	x->retries = 0;
	if (O.expect && x->bytes > O.expect) {
		fail(x, "more data than the file holds%s", NULL);
		return;
	}
	if (dl < x->blksize) {
		send_ack(x, next);
		finish_ok(x);
		return;
	}
	if (next - x->acked >= x->window)
		send_ack(x, next);
}

static void on_readable(struct xfer *x)
{
	struct mmsghdr mm[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct sockaddr_in from[RECV_BATCH];

	for (int loops = 0; loops < 64; loops++) {
		for (int i = 0; i < RECV_BATCH; i++) {
			iov[i].iov_base = rbufs + (size_t)i * PKT_MAX;
			iov[i].iov_len = PKT_MAX;
			memset(&mm[i].msg_hdr, 0, sizeof mm[i].msg_hdr);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof from[i];
		}
		int n = recvmmsg(x->fd, mm, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == ECONNREFUSED && x->connected &&
		    (x->st == ST_WAIT || x->st == ST_DATA)) {
			/* ICMP port unreachable: the server ended the transfer */
			fail(x, "server TID closed (port unreachable)%s", NULL);
			return;
		}
		if (n <= 0)
			return;
		int64_t t = now_ns();
		for (int i = 0; i < n; i++) {
			const uint8_t *p = iov[i].iov_base;
			size_t len = mm[i].msg_len;
			if (lose())
				continue;
			if (!x->connected) {
				if (mm[i].msg_hdr.msg_namelen < sizeof(struct sockaddr_in) ||
				    from[i].sin_addr.s_addr != O.srv.sin_addr.s_addr)
					continue;	/* not our server */
				if (connect(x->fd, (struct sockaddr *)&from[i],
					    sizeof from[i]) < 0) {
					fail(x, "connect: %s", strerror(errno));
					return;
				}
				x->connected = true;
			}
			on_packet(x, p, len, t);
		}
		if (n < RECV_BATCH)
			return;
	}
}

static void on_timer(struct xfer *x, int64_t t)
{
	if (x->st != ST_WAIT && x->st != ST_DATA)
		return;
	if (t - x->last < (int64_t)O.timeout_ms * 1000000)
		return;
	if (x->retries >= O.max_retries) {
		char m[32];
		snprintf(m, sizeof m, "%u", x->retries);
		fail(x, "timeout after %s retransmissions", m);
		return;
	}
	x->retries++;
	x->retrans++;
	x->last = t;
	if (x->st == ST_WAIT && !x->connected)
		send_rrq(x);
	else
		send_ack(x, x->good);
	x->gap_acked = false;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double pct(const int64_t *v, int n, double p)
{
	if (n == 0)
		return 0;
	/* nearest rank */
	int k = (int)(p / 100.0 * n + 0.999999) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k] / 1e6;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc((unsigned char)*s >= 32 ? *s : '?', f);
	}
	fputc('"', f);
}

static int run_round(int round)
{
	struct xfer *xs = calloc((size_t)O.n, sizeof *xs);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int rc = 0;

	if (!xs || ep < 0) {
		perror("setup");
		exit(2);
	}
	for (int i = 0; i < O.n; i++) {
		struct xfer *x = &xs[i];
		struct sockaddr_in me = { .sin_family = AF_INET };
		x->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (x->fd < 0) {
			fprintf(stderr, "tftpload: socket %d: %s\n", i, strerror(errno));
			exit(2);
		}
		if (O.rcvbuf > 0 &&
		    setsockopt(x->fd, SOL_SOCKET, SO_RCVBUFFORCE, &O.rcvbuf, sizeof O.rcvbuf) < 0)
			(void)setsockopt(x->fd, SOL_SOCKET, SO_RCVBUF, &O.rcvbuf, sizeof O.rcvbuf);
		if (O.n_addrs)
			me.sin_addr = O.addrs[i % O.n_addrs];
		if (bind(x->fd, (struct sockaddr *)&me, sizeof me) < 0) {
			fprintf(stderr, "tftpload: bind %s: %s\n", inet_ntoa(me.sin_addr),
				strerror(errno));
			exit(2);
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, x->fd, &ev) < 0) {
			perror("epoll_ctl");
			exit(2);
		}
	}

	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	int64_t start = now_ns();
	int64_t stop_at = start + (int64_t)(O.limit_s * 1e9);
	for (int i = 0; i < O.n; i++) {
		struct xfer *x = &xs[i];
		x->t0 = x->last = now_ns();
		x->st = ST_WAIT;
		int r = send_rrq(x);
		if (r == -EAGAIN || r == -ENOBUFS) {
			/* socket buffer full: the retransmit timer will retry */
		} else if (r < 0) {
			fail(x, "send RRQ: %s", strerror(-r));
		}
	}

	int active = O.n;
	int64_t last_scan = start;
	struct epoll_event evs[256];
	while (active > 0) {
		int64_t t = now_ns();
		if (t >= stop_at)
			break;
		int n = epoll_wait(ep, evs, 256, 2);
		if (n < 0 && errno != EINTR) {
			perror("epoll_wait");
			exit(2);
		}
		for (int i = 0; i < n; i++)
			on_readable(&xs[evs[i].data.u32]);
		t = now_ns();
		if (t - last_scan >= 2000000 || n <= 0) {
			last_scan = t;
			active = 0;
			for (int i = 0; i < O.n; i++) {
				on_timer(&xs[i], t);
				if (xs[i].st == ST_WAIT || xs[i].st == ST_DATA)
					active++;
			}
		}
	}
	int64_t end_all = 0;
	for (int i = 0; i < O.n; i++) {
		struct xfer *x = &xs[i];
		if (x->st == ST_WAIT || x->st == ST_DATA)
			fail(x, "round time limit reached%s", NULL);
	}

	/* statistics */
	getrusage(RUSAGE_SELF, &ru1);
	double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
		     (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
		     (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		     (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	int64_t *times = malloc(sizeof *times * (size_t)O.n);
	int ok = 0;
	uint64_t bytes = 0, retrans = 0, dups = 0, gaps = 0;
	uint32_t nb = 0, nw = 0;
	double sum_mbps = 0;
	for (int i = 0; i < O.n; i++) {
		struct xfer *x = &xs[i];
		retrans += x->retrans;
		dups += x->dups;
		gaps += x->gaps;
		if (x->t1 > end_all)
			end_all = x->t1;
		if (x->st != ST_DONE)
			continue;
		int64_t d = x->t1 - x->t0;
		times[ok++] = d;
		bytes += x->bytes;
		sum_mbps += d > 0 ? (double)x->bytes / (d / 1e9) / 1e6 : 0;
		nb = x->blksize;
		nw = x->window;
	}
	qsort(times, (size_t)ok, sizeof *times, cmp_i64);
	double wall = (end_all - start) / 1e9;
	if (wall <= 0)
		wall = 1e-9;
	int failed = O.n - ok;

	/* distinct error messages, counted */
	printf("{\"label\":");
	json_str(stdout, O.label ? O.label : "");
	printf(",\"round\":%d,\"n\":%d,\"ok\":%d,\"failed\":%d,\"wall_s\":%.6f,"
	       "\"bytes\":%llu,\"agg_MBps\":%.3f,\"mean_xfer_MBps\":%.3f,"
	       "\"min_ms\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
	       "\"blksize\":%u,\"windowsize\":%u,\"retrans\":%llu,\"dups\":%llu,"
	       "\"gaps\":%llu,\"client_cpu_s\":%.6f,\"errors\":{",
	       round, O.n, ok, failed, wall, (unsigned long long)bytes,
	       bytes / wall / 1e6, ok ? sum_mbps / ok : 0.0,
	       ok ? times[0] / 1e6 : 0.0, pct(times, ok, 50), pct(times, ok, 99),
	       ok ? times[ok - 1] / 1e6 : 0.0, nb, nw,
	       (unsigned long long)retrans, (unsigned long long)dups,
	       (unsigned long long)gaps, cpu);
	int shown = 0;
	for (int i = 0; i < O.n && shown < 8; i++) {
		if (xs[i].st != ST_FAIL)
			continue;
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = xs[j].st == ST_FAIL && !strcmp(xs[j].err, xs[i].err);
		if (seen)
			continue;
		int cnt = 0;
		for (int j = i; j < O.n; j++)
			cnt += xs[j].st == ST_FAIL && !strcmp(xs[j].err, xs[i].err);
		printf("%s", shown ? "," : "");
		json_str(stdout, xs[i].err);
		printf(":%d", cnt);
		shown++;
	}
	printf("}}\n");
	fflush(stdout);
	if (!O.quiet)
		fprintf(stderr,
			"%s round %d: %d/%d ok, wall %.3f s, %.2f MB/s aggregate, "
			"per transfer p50 %.2f ms p99 %.2f ms, blksize %u window %u, "
			"retrans %llu\n",
			O.label ? O.label : "tftpload", round, ok, O.n, wall,
			bytes / wall / 1e6, pct(times, ok, 50), pct(times, ok, 99), nb, nw,
			(unsigned long long)retrans);
	if (failed)
		rc = 1;
	for (int i = 0; i < O.n; i++)
		close(xs[i].fd);
	close(ep);
	free(times);
	free(xs);
	return rc;
}

static int parse_addrs(const char *arg)
{
	/* A,B,C   or   A+COUNT (consecutive addresses) */
	char buf[64];
	const char *s = arg;
	while (*s) {
		size_t l = strcspn(s, ",");
		if (l >= sizeof buf)
			return -1;
		memcpy(buf, s, l);
		buf[l] = 0;
		char *plus = strchr(buf, '+');
		long cnt = 1;
		if (plus) {
			*plus = 0;
			cnt = strtol(plus + 1, NULL, 10);
		}
		struct in_addr a;
		if (inet_pton(AF_INET, buf, &a) != 1 || cnt < 1)
			return -1;
		for (long k = 0; k < cnt; k++) {
			if (O.n_addrs >= MAX_ADDRS)
				return -1;
			O.addrs[O.n_addrs++].s_addr = htonl(ntohl(a.s_addr) + (uint32_t)k);
		}
		s += l;
		if (*s == ',')
			s++;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tftpload -s SERVER -f REMOTE [options]\n"
		"  -s ADDR      server IPv4 address\n"
		"  -p PORT      server port (69)\n"
		"  -f NAME      remote file name\n"
		"  -n N         concurrent transfers per round (1)\n"
		"  -R ROUNDS    rounds, one after the other (1)\n"
		"  -b BLKSIZE   blksize to ask for, 8..65464 (512)\n"
		"  -w WINDOW    windowsize to ask for, 1..65535 (1: not sent)\n"
		"  -e BYTES     expected file size\n"
		"  -l FILE      local copy: expected size and contents\n"
		"  -a ADDRS     source addresses, round-robin: A,B or A+COUNT\n"
		"  -T MS        retransmit timeout (1000)\n"
		"  -m N         retransmissions in a row before failing (5)\n"
		"  -t SECONDS   time limit per round (60)\n"
		"  -r BYTES     SO_RCVBUF(FORCE) per socket (auto)\n"
		"  -L LABEL     label in the output\n"
		"  -D PERCENT   self-test: drop this share of packets both ways\n"
		"  -q           no summary on stderr\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int c, port = 69;
	const char *srv = NULL, *local = NULL;

	while ((c = getopt(argc, argv, "s:p:f:n:R:b:w:e:l:a:T:m:t:r:L:D:qh")) != -1) {
		switch (c) {
		case 's': srv = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'f': O.file = optarg; break;
		case 'n': O.n = atoi(optarg); break;
		case 'R': O.rounds = atoi(optarg); break;
		case 'b': O.blksize = (uint32_t)atoi(optarg); break;
		case 'w': O.window = (uint32_t)atoi(optarg); break;
		case 'e': O.expect = strtoull(optarg, NULL, 10); break;
		case 'l': local = optarg; break;
		case 'a':
			if (parse_addrs(optarg) < 0) {
				fprintf(stderr, "tftpload: bad -a %s\n", optarg);
				return 2;
			}
			break;
		case 'T': O.timeout_ms = (uint32_t)atoi(optarg); break;
		case 'm': O.max_retries = (uint32_t)atoi(optarg); break;
		case 't': O.limit_s = atof(optarg); break;
		case 'r': O.rcvbuf = atoi(optarg); break;
		case 'L': O.label = optarg; break;
		case 'q': O.quiet = true; break;
		case 'D': O.drop = atof(optarg) / 100.0; break;
		default: usage();
		}
	}
	if (!srv || !O.file || O.n < 1 || O.rounds < 1 || O.blksize < 8 ||
	    O.blksize > BLKSIZE_MAX || O.window < 1 || O.window > 65535 ||
	    O.timeout_ms < 1 || O.limit_s <= 0 || strlen(O.file) > 255)
		usage();
	O.srv.sin_family = AF_INET;
	O.srv.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, srv, &O.srv.sin_addr) != 1) {
		fprintf(stderr, "tftpload: bad server address %s\n", srv);
		return 2;
	}
	if (local) {
		int fd = open(local, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) {
			fprintf(stderr, "tftpload: %s: %s\n", local, strerror(errno));
			return 2;
		}
		O.local_len = (uint64_t)st.st_size;
		if (st.st_size > 0) {
			O.local = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (O.local == MAP_FAILED) {
				perror("mmap");
				return 2;
			}
		}
		close(fd);
		if (O.expect && O.expect != O.local_len) {
			fprintf(stderr, "tftpload: -e and -l disagree\n");
			return 2;
		}
		O.expect = O.local_len;
	}
	if (O.rcvbuf == 0) {
		/* room for two windows' worth of datagrams (truesize ~ 2x) */
		uint64_t want = (uint64_t)O.window * (O.blksize + 64) * 4;
		if (want < 256 * 1024)
			want = 256 * 1024;
		if (want > 8u << 20)
			want = 8u << 20;
		O.rcvbuf = (int)want;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)O.n + 64) {
		rl.rlim_cur = rl.rlim_max;
		if (rl.rlim_cur < (rlim_t)O.n + 64) {
			rl.rlim_cur = rl.rlim_max = (rlim_t)O.n + 64;
		}
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			fprintf(stderr, "tftpload: need %d descriptors: %s\n", O.n + 64,
				strerror(errno));
			return 2;
		}
	}
	rbufs = malloc((size_t)RECV_BATCH * PKT_MAX);
	if (!rbufs) {
		perror("malloc");
		return 2;
	}
	int rc = 0;
	for (int r = 1; r <= O.rounds; r++)
		rc |= run_round(r);
	return rc;
}
