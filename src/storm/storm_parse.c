/*
 * ironboot-storm's own pure parsers: iPXE settings, tftp:// URLs, iPXE
 * scripts and the client side of a TFTP transfer.  See storm_parse.h.
 */
#include "storm/storm_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tftp/tftp_codec.h"

/* ---- iPXE settings ----------------------------------------------------- */

/* The value of setting name[0..len) (without any ":type"), or "". */
static const char *setting(const struct ib_storm_settings *s, const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} tab[] = {
		{ "net0/mac", offsetof(struct ib_storm_settings, mac) },
		{ "mac", offsetof(struct ib_storm_settings, mac) },
		{ "uuid", offsetof(struct ib_storm_settings, uuid) },
		{ "buildarch", offsetof(struct ib_storm_settings, buildarch) },
		{ "platform", offsetof(struct ib_storm_settings, platform) },
		{ "hostname", offsetof(struct ib_storm_settings, hostname) },
		{ "serial", offsetof(struct ib_storm_settings, serial) },
	};
	const char *colon = memchr(name, ':', len);

	if (colon)
		len = (size_t)(colon - name);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strlen(tab[i].name) != len || memcmp(tab[i].name, name, len) != 0)
			continue;
		const char *v = *(const char *const *)((const char *)s + tab[i].off);
		return v ? v : "";
	}
	return "";
}

int ib_storm_expand(const char *in, const struct ib_storm_settings *s,
		    char *out, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return -ENAMETOOLONG;
	while (*in) {
		const char *v = in;
		size_t n = 1;

		if (in[0] == '$' && in[1] == '{') {
			const char *end = strchr(in + 2, '}');
			if (!end)
				return -EINVAL;
			v = setting(s, in + 2, (size_t)(end - in - 2));
			n = strlen(v);
			in = end + 1;
		} else {
			in++;
		}
		if (o + n >= cap)
			return -ENAMETOOLONG;
		memcpy(out + o, v, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* ---- tftp:// ----------------------------------------------------------- */

/* Parses ":PORT" at p[0..len) (len 0: the default). */
static int parse_port(const char *p, size_t len, uint16_t *ret)
{
	unsigned v = 0;

	if (len == 0) {
		*ret = 69;
		return 0;
	}
	if (p[0] != ':' || len < 2 || len > 6)
		return -EINVAL;
	for (size_t i = 1; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* The host literal h[0..len) (brackets for IPv6) into *u. */
static int parse_host(const char *h, size_t len, struct ib_storm_tftp_url *u)
{
	char lit[64];

	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		if (len - 2 >= sizeof(lit))
			return -EINVAL;
		memcpy(lit, h + 1, len - 2);
		lit[len - 2] = '\0';
		u->family = AF_INET6;
		return inet_pton(AF_INET6, lit, u->addr) == 1 ? 0 : -EINVAL;
	}
	if (len == 0 || len >= sizeof(lit))
		return -EINVAL;
	memcpy(lit, h, len);
	lit[len] = '\0';
	u->family = AF_INET;
	return inet_pton(AF_INET, lit, u->addr) == 1 ? 0 : -EINVAL;
}

int ib_storm_tftp_url_parse(const char *url, size_t len, struct ib_storm_tftp_url *ret)
{
	struct ib_storm_tftp_url u = { 0 };
	const char *p, *slash, *hend, *end = url + len;
	int r;

	if (len < 7 || strncasecmp(url, "tftp://", 7) != 0)
		return -EPROTONOSUPPORT;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
			return -EINVAL;
	p = url + 7;
	slash = memchr(p, '/', (size_t)(end - p));
	if (!slash || slash + 1 >= end)
		return -EINVAL;
	hend = slash;
	/* the port follows the host: after "]" for IPv6, after the last ':' else */
	if (p < slash && p[0] == '[') {
		const char *rb = memchr(p, ']', (size_t)(slash - p));
		if (!rb)
			return -EINVAL;
		hend = rb + 1;
	} else {
		const char *c = memchr(p, ':', (size_t)(slash - p));
		if (c)
			hend = c;
	}
	r = parse_host(p, (size_t)(hend - p), &u);
	r = r ? r : parse_port(hend, (size_t)(slash - hend), &u.port);
	if (r)
		return r;
	if ((size_t)(end - slash - 1) >= sizeof(u.file))
		return -ENAMETOOLONG;
	memcpy(u.file, slash + 1, (size_t)(end - slash - 1));
	*ret = u;
	return 0;
}

/* ---- iPXE scripts ------------------------------------------------------ */

/* Commands whose first argument (not an option) is an image to fetch. */
static const char *const fetch_cmds[] = {
	"kernel", "chain", "imgexec", "boot", "initrd", "imgfetch", "module",
};
#define N_KERNEL_CMDS 4		/* the first four load the image to run */

/* Index of the command word w[0..n) in fetch_cmds, or -1. */
static int fetch_cmd(const char *w, size_t n)
{
	for (size_t i = 0; i < sizeof(fetch_cmds) / sizeof(fetch_cmds[0]); i++)
		if (strlen(fetch_cmds[i]) == n && memcmp(fetch_cmds[i], w, n) == 0)
			return (int)i;
	return -1;
}

/* The next word of line[*pos..len): its start and length (0: none). */
static size_t next_word(const char *line, size_t len, size_t *pos, const char **ret)
{
	size_t i = *pos, s;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	s = i;
	while (i < len && line[i] != ' ' && line[i] != '\t')
		i++;
	*pos = i;
	*ret = line + s;
	return i - s;
}

/* One script line: adds the URL it fetches to f. */
static int scan_line(const char *line, size_t len, struct ib_storm_fetch *f)
{
	size_t pos = 0, n;
	const char *w;
	int cmd;

	n = next_word(line, len, &pos, &w);
	cmd = fetch_cmd(w, n);
	if (cmd < 0)
		return 0;
	/* "boot" alone runs what is loaded; "boot URL" is "chain URL" */
	for (;;) {
		n = next_word(line, len, &pos, &w);
		if (n == 0)
			return 0;
		if (w[0] != '-')
			break;
		/* "--name x" and "-n x" take a value; "--name=x" does not */
		if (!memchr(w, '=', n) && (n == 2 || (n == 6 && memcmp(w, "--name", 6) == 0) ||
					   (n == 9 && memcmp(w, "--timeout", 9) == 0)))
			(void)next_word(line, len, &pos, &w);
	}
	if (f->n >= IB_STORM_MAX_FETCH || n >= IB_STORM_URL_MAX)
		return -E2BIG;
	/* a URL is visible ASCII: a NUL or control byte would cut or bend it */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)w[i] <= ' ' || (unsigned char)w[i] >= 0x7f)
			return -EBADMSG;
	if (cmd < N_KERNEL_CMDS) {
		if (f->has_kernel)
			return 0;	/* a second kernel line: the first one boots */
		/* the kernel goes first */
		memmove(f->url[1], f->url[0], f->n * sizeof(f->url[0]));
		memcpy(f->url[0], w, n);
		f->url[0][n] = '\0';
		f->has_kernel = true;
	} else {
		memcpy(f->url[f->n], w, n);
		f->url[f->n][n] = '\0';
	}
	f->n++;
	return 0;
}

int ib_storm_script_scan(const uint8_t *p, size_t len, struct ib_storm_fetch *ret)
{
	const char *s = (const char *)p;
	size_t i = 0;
	int r = 0;

	ret->n = 0;
	ret->has_kernel = false;
	if (len < 6 || memcmp(s, "#!ipxe", 6) != 0)
		return -EBADMSG;
	while (i < len && r == 0) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - s) : len, l = e - i;

		if (l && s[i + l - 1] == '\r')
			l--;
		if (l && s[i] != '#' && s[i] != ':')
			r = scan_line(s + i, l, ret);
		i = e + 1;
	}
	if (r)
		return r;
	return ret->has_kernel ? 0 : -ENOENT;
}

/* ---- TFTP, the receiving side ----------------------------------------- */

void ib_storm_tftp_rx_init(struct ib_storm_tftp_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	rx->blksize = IB_TFTP_BLKSIZE_DEFAULT;
	rx->windowsize = 1;
}

/* RFC 2347: an OACK, before any data. */
static int rx_oack(struct ib_storm_tftp_rx *rx, const uint8_t *p, size_t len,
		   uint16_t *ret_block)
{
	struct ib_tftp_options o;

	if (rx->started || ib_tftp_oack_parse(p, len, &o) < 0)
		return -EBADMSG;
	if (o.present & IB_TFTP_OPT_BLKSIZE) {
		if (o.blksize < IB_TFTP_BLKSIZE_MIN || o.blksize > IB_TFTP_BLKSIZE_MAX)
			return -EPROTO;
		rx->blksize = o.blksize;
	}
	if (o.present & IB_TFTP_OPT_WINDOWSIZE) {
		if (o.windowsize < IB_TFTP_WINDOW_MIN || o.windowsize > IB_TFTP_WINDOW_MAX)
			return -EPROTO;
		rx->windowsize = o.windowsize;
	}
	if (o.present & IB_TFTP_OPT_TSIZE)
		rx->tsize = o.tsize;
	rx->started = true;
	*ret_block = 0;	/* RFC 2347: the OACK is acknowledged with block 0 */
	return IB_STORM_TFTP_ACK;
}

static int rx_data(struct ib_storm_tftp_rx *rx, const uint8_t *p, size_t len,
		   uint16_t *ret_block)
{
	const uint8_t *d;
	size_t n;
	uint16_t b;

	if (ib_tftp_data_parse(p, len, &b, &d, &n) < 0 || n > rx->blksize)
		return -EBADMSG;
	if (rx->done)	/* our last ACK was lost: say it again */
		return *ret_block = rx->last, IB_STORM_TFTP_DONE;
	if (b != (uint16_t)(rx->last + 1)) {
		uint16_t behind = (uint16_t)(rx->last - b);
		/* a repeat of a block we have: the server did not hear our
		 * ACK; its window's last block repeated gets it again */
		if (behind < 0x8000u) {
			if (behind != 0)
				return IB_STORM_TFTP_NONE;
		} else if (rx->gap_acked) {
			return IB_STORM_TFTP_NONE;
		} else {
			/* RFC 7440 4: a gap is answered once with the ACK of
			 * the last block in order, which restarts the window */
			rx->gap_acked = true;
		}
		rx->in_window = 0;
		*ret_block = rx->last;
		return IB_STORM_TFTP_ACK;
	}
	rx->gap_acked = false;
	rx->started = true;
	rx->last = b;
	rx->blocks++;
	rx->bytes += n;
	*ret_block = b;
	if (n < rx->blksize) {
		rx->done = true;
		return IB_STORM_TFTP_DONE;
	}
	if (++rx->in_window >= rx->windowsize) {
		rx->in_window = 0;
		return IB_STORM_TFTP_ACK;
	}
	return IB_STORM_TFTP_NONE;
}

int ib_storm_tftp_rx_input(struct ib_storm_tftp_rx *rx, const uint8_t *p,
			   size_t len, uint16_t *ret_block)
{
	uint16_t op;
	char msg[64];

	if (ib_tftp_opcode_peek(p, len, &op) < 0)
		return -EBADMSG;
	switch (op) {
	case IB_TFTP_OACK:
		return rx_oack(rx, p, len, ret_block);
	case IB_TFTP_DATA:
		return rx_data(rx, p, len, ret_block);
	case IB_TFTP_ERROR:
		if (ib_tftp_error_parse(p, len, &rx->err_code, msg, sizeof(msg)) < 0)
			return -EBADMSG;
		return -ECONNREFUSED;
	default:
		return -EBADMSG;
	}
}
