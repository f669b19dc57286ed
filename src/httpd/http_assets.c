/*
 * GET/HEAD /assets/<path>: kernels, initrds and images under the assets
 * directory.  Files must be regular, and go out by sendfile
 * (evbuffer_add_file) so multi-GB images never pass through userspace.
 * Validators and ranges per RFC 9110.
 *
 * Confinement.  The network client is the hostile party, and all it
 * chooses is the request path: that must name a file beneath the
 * directory, so an absolute path or a ".." component is refused (the URL
 * parser already refuses "..", "%2e%2e", "%2F" and "//"; this holds for
 * any caller).  Symlinks inside the directory are followed wherever they
 * point: only the operator creates files there, and an operator links
 * rather than copies (Debian's /usr/lib/ipxe/ipxe.efi is itself a link
 * into /boot), as nginx and dnsmasq serve the links their operator made.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "common/util.h"
#include "httpd/http_server_int.h"

#define ETAG_LEN 64			/* "\"size-mtime_ns-ino\"" in hex */
#define DATE_LEN 40			/* IMF-fixdate (RFC 9110 5.6.7) */
#define FILE_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* What the validators and the body are made of. */
struct asset {
	int fd;				/* open regular file */
	uint64_t size;			/* st_size */
	char etag[ETAG_LEN];		/* strong validator */
	char last_modified[DATE_LEN];	/* date validator, strong once date_strong */
	time_t mtime;			/* seconds, for If-Modified-Since */
	bool date_strong;		/* last_modified is a strong validator: the
					 * file is a second or more older than now
					 * (RFC 9110 8.8.2.2) */
};

int ib_httpd_assets_open(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* rel names a file beneath the directory: relative, no "..", no empty
 * component. */
static bool rel_confined(const char *rel)
{
	const char *p = rel;

	if (rel[0] == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n + (p[n] == '/');
	}
	return true;
}

/* Opens rel beneath dirfd, following the operator's symlinks (top of file). */
static int open_beneath(int dirfd, const char *rel)
{
	int fd;

	if (!rel_confined(rel))
		return -EACCES;
	fd = openat(dirfd, rel, FILE_FLAGS);
	return fd < 0 ? -errno : fd;
}

static void http_date(time_t t, char out[DATE_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, DATE_LEN, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

ssize_t ib_httpd_asset_read(struct ib_http_server *srv, const char *rel, char *buf,
			    size_t cap)
{
	struct stat st;
	ssize_t n;
	int fd;

	if (srv->assets_fd < 0 && srv->cfg->http.assets)
		srv->assets_fd = ib_httpd_assets_open(srv->cfg->http.assets);
	if (srv->assets_fd < 0) {
		srv->assets_fd = -1;
		return -ENOENT;
	}
	if ((fd = open_beneath(srv->assets_fd, rel)) < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		n = -EACCES;
	else if ((uint64_t)st.st_size > cap)
		n = -EFBIG;
	else if ((n = pread(fd, buf, cap, 0)) < 0)
		n = -errno;
	close(fd);
	return n;
}

/* Opens and checks the asset; on failure the reply is sent. */
static int asset_open(struct ib_http_req *rq, const char *rel, struct asset *a)
{
	struct stat st;
	int fd;

	fd = open_beneath(rq->srv->assets_fd, rel);
	if (fd == -ENOENT || fd == -ENOTDIR) {
		ib_httpd_text(rq, 404, "not found");
		return -ENOENT;
	}
	if (fd < 0) {
		/* a refused request path, a symlink loop, permissions */
		ib_httpd_text(rq, 403, "forbidden");
		return fd;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		ib_httpd_text(rq, 403, "forbidden: not a regular file");
		return -EACCES;
	}
	a->fd = fd;
	a->size = (uint64_t)st.st_size;
	a->mtime = st.st_mtim.tv_sec;
	a->date_strong = ib_now_us() - ((int64_t)st.st_mtim.tv_sec * 1000000 +
					st.st_mtim.tv_nsec / 1000) >= 1000000;
	snprintf(a->etag, sizeof(a->etag), "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"",
		 a->size, (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec,
		 (uint64_t)st.st_ino);
	http_date(a->mtime, a->last_modified);
	return 0;
}

/* RFC 9110 8.8.3.2: weak comparison, for If-None-Match. */
static bool etag_listed(const char *list, const char *etag)
{
	size_t n = strlen(etag);

	while (*list) {
		while (*list == ' ' || *list == '\t' || *list == ',')
			list++;
		if (*list == '*')
			return true;
		if (strncmp(list, "W/", 2) == 0)
			list += 2;
		if (strncmp(list, etag, n) == 0 &&
		    (list[n] == '\0' || list[n] == ',' || list[n] == ' ' || list[n] == '\t'))
			return true;
		while (*list && *list != ',')
			list++;
	}
	return false;
}

/* RFC 9110 13.2.2: If-None-Match, else If-Modified-Since. */
static bool not_modified(struct ib_http_req *rq, const struct asset *a)
{
	const char *inm = ib_httpd_req_header(rq, "If-None-Match");
	const char *ims = ib_httpd_req_header(rq, "If-Modified-Since");
	struct tm tm = { 0 };
	const char *end;

	if (inm)
		return etag_listed(inm, a->etag);
	if (!ims)
		return false;
	end = strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	return end && *end == '\0' && a->mtime <= timegm(&tm);
}

/*
 * Decimal digits at *s into *ret, saturating at UINT64_MAX (a position
 * past 64 bits is past any file); *s moves past them.  -EINVAL if none.
 */
static int parse_pos(const char **s, uint64_t *ret)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + (uint64_t)(*p - '0');
	*s = p;
	*ret = v;
	return 0;
}

enum range_result {
	RANGE_NONE,			/* send the whole file (200) */
	RANGE_OK,			/* send [off, off+len) (206) */
	RANGE_UNSATISFIABLE,		/* 416, Content-Range "bytes STAR/size" */
};

/*
 * One range-spec of n bytes at s (RFC 9110 14.1.1: "first-last",
 * "first-" or "-suffix") against a file of size bytes: RANGE_OK with the
 * span (a last-pos past the end is clipped, a suffix longer than the file
 * is all of it), RANGE_UNSATISFIABLE with the empty span at 0, or -EINVAL
 * when malformed.  The span is written for both results, so the caller
 * never copies an unset one (gcc -O1 and up saw that path through
 * parse_range into send_body's Content-Range as -Wmaybe-uninitialized).
 */
static int range_spec(const char *s, size_t n, uint64_t size, uint64_t *off, uint64_t *len)
{
	const char *p = s + (*s == '-');
	uint64_t a, b = UINT64_MAX;

	if (parse_pos(&p, &a) < 0)
		return -EINVAL;
	if (*s == '-') {
		if (p != s + n)
			return -EINVAL;
		if (a == 0) {
			*off = *len = 0;
			return RANGE_UNSATISFIABLE;
		}
		*off = a < size ? size - a : 0;
		*len = size - *off;
		return RANGE_OK;
	}
	if (*p++ != '-' || (p != s + n && parse_pos(&p, &b) < 0) || p != s + n || b < a)
		return -EINVAL;
	if (a >= size) {
		*off = *len = 0;
		return RANGE_UNSATISFIABLE;
	}
	*off = a;
	*len = (b >= size ? size - 1 : b) - a + 1;
	return RANGE_OK;
}

/*
 * RFC 9110 14.2: the Range header h against a file of size bytes.
 *   - another unit than "bytes": ignored (a MUST);
 *   - an invalid range set ("abc", "5-2", "", a bad element among good
 *     ones): rejected with 416, which 14.2 allows ("MAY ignore or reject")
 *     and which tells the client its request was not understood;
 *   - one range: it (206), or 416 when it is unsatisfiable (15.5.17);
 *   - several ranges: ignored, the whole file goes out with 200 (14.2
 *     allows it): boot clients resume with one range, and a
 *     multipart/byteranges body would leave the sendfile path.
 * Empty list elements are skipped (5.6.1).  A satisfiable range of an
 * empty file is all of nothing: the whole (empty) file, 200.
 */
static enum range_result parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	size_t count = 0, n;
	const char *p;
	int r, first = RANGE_NONE;

	if (strncasecmp(h, "bytes=", 6) != 0)
		return RANGE_NONE;
	for (p = h + 6;; p++) {
		p += strspn(p, " \t");
		if ((n = strcspn(p, ", \t")) > 0) {
			uint64_t o, l;

			if ((r = range_spec(p, n, size, &o, &l)) < 0)
				return RANGE_UNSATISFIABLE;
			if (count++ == 0) {
				first = r;
				*off = o;
				*len = l;
			}
			p += n;
			p += strspn(p, " \t");
		}
		if (*p != ',')
			break;
	}
	if (*p != '\0' || count == 0)
		return RANGE_UNSATISFIABLE;
	if (count > 1 || (first == RANGE_OK && *len == 0)) {
		*off = 0;
		*len = size;
		return RANGE_NONE;
	}
	return (enum range_result)first;
}

/*
 * RFC 9110 13.1.5: If-Range holds for this version's strong ETag, or for
 * its exact Last-Modified date when that is a strong validator.  A weak
 * ETag ("W/...") never holds.
 */
static bool if_range_holds(const char *v, const struct asset *a)
{
	if (v[0] == '"')
		return strcmp(v, a->etag) == 0;
	return a->date_strong && strcmp(v, a->last_modified) == 0;
}

/*
 * The range to send.  Range is defined for GET only (RFC 9110 14.2): a
 * HEAD answers as a whole GET would.  If-Range that does not hold means
 * the whole file, whatever the Range says.
 */
static enum range_result want_range(struct ib_http_req *rq, const struct asset *a,
				    uint64_t *off, uint64_t *len)
{
	const char *range = ib_httpd_req_header(rq, "Range");
	const char *if_range = ib_httpd_req_header(rq, "If-Range");

	*off = 0;
	*len = a->size;
	if (!range || rq->method != EVHTTP_REQ_GET)
		return RANGE_NONE;
	if (if_range && !if_range_holds(if_range, a))
		return RANGE_NONE;
	return parse_range(range, a->size, off, len);
}

static void set_u64(struct ib_http_req *rq, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	ib_httpd_header(rq, key, s);
}

/* Sends the headers and [off, off+len) of the file; takes a->fd. */
static void send_body(struct ib_http_req *rq, struct asset *a, int status,
		      uint64_t off, uint64_t len)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(rq->req);
	char cr[96];

	if (status == 206) {
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
			 off + len - 1, a->size);
		ib_httpd_header(rq, "Content-Range", cr);
	}
	ib_httpd_header(rq, "Content-Type", "application/octet-stream");
	set_u64(rq, "Content-Length", len);
	/*
	 * A segment added to a buffer that drains to a socket is sent with
	 * sendfile; a plain buffer (evhttp's) would read it into memory.  The
	 * chain moves as is into the connection's buffer.  TLS must encrypt
	 * in userspace, so there the file is read (mmap) instead.
	 */
	if (!rq->srv->ssl)
		evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
	if (rq->method == EVHTTP_REQ_HEAD || len == 0) {
		close(a->fd);
	} else if (evbuffer_add_file(b, a->fd, (ev_off_t)off, (ev_off_t)len) < 0) {
		/* evbuffer_add_file closes the fd on failure too */
		ib_httpd_text(rq, 500, "cannot send the file");
		return;
	}
	ib_httpd_send(rq, status, len);
}

void ib_httpd_serve_asset(struct ib_http_req *rq, const char *rel)
{
	struct asset a;
	uint64_t off, len;
	enum range_result rr;
	char cr[48];

	/* created after start (or after the last reload): pick it up now */
	if (rq->srv->assets_fd < 0 && rq->srv->cfg->http.assets)
		rq->srv->assets_fd = ib_httpd_assets_open(rq->srv->cfg->http.assets);
	if (rq->srv->assets_fd < 0) {
		rq->srv->assets_fd = -1;
		ib_httpd_text(rq, 404, "not found: no assets directory");
		return;
	}
	if (!*rel || rel[strlen(rel) - 1] == '/') {
		ib_httpd_text(rq, 403, "forbidden: no directory listings");
		return;
	}
	if (asset_open(rq, rel, &a) < 0)
		return;
	ib_httpd_header(rq, "ETag", a.etag);
	ib_httpd_header(rq, "Last-Modified", a.last_modified);
	ib_httpd_header(rq, "Accept-Ranges", "bytes");
	if (not_modified(rq, &a)) {
		close(a.fd);
		ib_httpd_send(rq, 304, 0);
		return;
	}
	rr = want_range(rq, &a, &off, &len);
	if (rr == RANGE_UNSATISFIABLE) {
		close(a.fd);
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, a.size);
		ib_httpd_header(rq, "Content-Range", cr);
		ib_httpd_text(rq, 416, "range not satisfiable");
		return;
	}
	send_body(rq, &a, rr == RANGE_OK ? 206 : 200, off, len);
}
