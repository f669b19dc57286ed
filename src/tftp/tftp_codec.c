/* TFTP wire codec: see tftp_codec.h. */
#include "tftp/tftp_codec.h"

#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Where a known option's value lives in struct ib_tftp_options. */
enum opt_field { F_BLKSIZE, F_TSIZE, F_TIMEOUT, F_WINDOWSIZE };

/* The options ironboot knows, in OACK order. */
static const struct opt_def {
	const char *name;		/* lowercase wire name */
	uint32_t bit;			/* IB_TFTP_OPT_* */
	enum opt_field field;		/* which value */
} opt_table[] = {
	{ "blksize", IB_TFTP_OPT_BLKSIZE, F_BLKSIZE },		/* RFC 2348 */
	{ "tsize", IB_TFTP_OPT_TSIZE, F_TSIZE },		/* RFC 2349 */
	{ "timeout", IB_TFTP_OPT_TIMEOUT, F_TIMEOUT },		/* RFC 2349 */
	{ "windowsize", IB_TFTP_OPT_WINDOWSIZE, F_WINDOWSIZE },	/* RFC 7440 */
};

static const char *const errcode_text[] = {
	[IB_TFTP_EUNDEF] = "not defined",
	[IB_TFTP_ENOTFOUND] = "file not found",
	[IB_TFTP_EACCESS] = "access violation",
	[IB_TFTP_ENOSPACE] = "disk full",
	[IB_TFTP_EBADOP] = "illegal TFTP operation",
	[IB_TFTP_EBADID] = "unknown transfer ID",
	[IB_TFTP_EEXISTS] = "file already exists",
	[IB_TFTP_ENOUSER] = "no such user",
	[IB_TFTP_EOPTNEG] = "option negotiation refused",
};

const char *ib_tftp_errcode_str(uint16_t code)
{
	return code < IB_ARRAY_SIZE(errcode_text) ? errcode_text[code] : "unknown";
}

int ib_tftp_opcode_peek(const void *buf, size_t len, uint16_t *ret)
{
	struct ib_cursor c;

	ib_cursor_init(&c, buf, len);
	return ib_cursor_u16be(&c, ret);
}

/*
 * Reads a NUL-terminated string; *ret points into the buffer and *ret_len
 * excludes the NUL.  -EBADMSG when the packet ends before a NUL.
 */
static int read_cstr(struct ib_cursor *c, const char **ret, size_t *ret_len)
{
	const uint8_t *start = c->p + c->off;
	size_t rem = ib_cursor_remaining(c);
	const uint8_t *nul = rem ? memchr(start, 0, rem) : NULL;

	if (!nul)
		return -EBADMSG;
	*ret = (const char *)start;
	*ret_len = (size_t)(nul - start);
	return ib_cursor_skip(c, *ret_len + 1);
}

/* Parses a decimal value; -EINVAL when empty, not all digits or > max. */
static int parse_decimal(const char *s, size_t len, uint64_t max,
			 uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

static const struct opt_def *opt_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < IB_ARRAY_SIZE(opt_table); i++) {
		const struct opt_def *d = &opt_table[i];

		if (strlen(d->name) == len && strncasecmp(d->name, name, len) == 0)
			return d;
	}
	return NULL;
}

static void opt_set(struct ib_tftp_options *o, const struct opt_def *d,
		    uint64_t v)
{
	uint32_t v32 = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;

	switch (d->field) {
	case F_BLKSIZE: o->blksize = v32; break;
	case F_TSIZE: o->tsize = v; break;
	case F_TIMEOUT: o->timeout_s = v32; break;
	case F_WINDOWSIZE: o->windowsize = v32; break;
	}
	o->present |= d->bit;
}

static uint64_t opt_get(const struct ib_tftp_options *o,
			const struct opt_def *d)
{
	switch (d->field) {
	case F_BLKSIZE: return o->blksize;
	case F_TSIZE: return o->tsize;
	case F_TIMEOUT: return o->timeout_s;
	case F_WINDOWSIZE: return o->windowsize;
	}
	return 0;
}

static void options_default(struct ib_tftp_options *o)
{
	*o = (struct ib_tftp_options){
		.blksize = IB_TFTP_BLKSIZE_DEFAULT,
		.windowsize = 1,
	};
}

/*
 * RFC 2347: option pairs "name NUL value NUL" until the packet ends.  The
 * first instance of an option wins; unknown names and non-numeric values
 * are skipped; an incomplete trailing pair ends the list.
 */
static void parse_options(struct ib_cursor *c, struct ib_tftp_options *o)
{
	while (ib_cursor_remaining(c) > 0) {
		const char *name, *val;
		size_t nlen, vlen;
		const struct opt_def *d;
		uint64_t v;

		if (read_cstr(c, &name, &nlen) < 0 || nlen == 0 ||
		    read_cstr(c, &val, &vlen) < 0)
			return;
		d = opt_lookup(name, nlen);
		if (!d || (o->present & d->bit))
			continue;
		if (parse_decimal(val, vlen, UINT64_MAX, &v) == 0)
			opt_set(o, d, v);
	}
}

static int parse_mode(const char *s, size_t len, enum ib_tftp_mode *ret)
{
	if (len == 5 && strncasecmp(s, "octet", 5) == 0)
		*ret = IB_TFTP_MODE_OCTET;
	else if (len == 8 && strncasecmp(s, "netascii", 8) == 0)
		*ret = IB_TFTP_MODE_NETASCII;
	else
		return -EPROTONOSUPPORT;
	return 0;
}

int ib_tftp_request_parse(const void *buf, size_t len,
			  struct ib_tftp_request *ret)
{
	struct ib_cursor c;
	const char *name, *mode;
	size_t nlen, mlen;
	uint16_t op;
	enum ib_tftp_mode m;
	struct ib_tftp_options o;

	ib_cursor_init(&c, buf, len);
	if (ib_cursor_u16be(&c, &op) < 0)
		return -EBADMSG;
	if (op != IB_TFTP_RRQ && op != IB_TFTP_WRQ)
		return -EOPNOTSUPP;
	if (read_cstr(&c, &name, &nlen) < 0)
		return ib_cursor_remaining(&c) > IB_TFTP_NAME_MAX ?
		       -ENAMETOOLONG : -EBADMSG;
	if (nlen > IB_TFTP_NAME_MAX)
		return -ENAMETOOLONG;
	if (nlen == 0 || read_cstr(&c, &mode, &mlen) < 0)
		return -EBADMSG;
	if (parse_mode(mode, mlen, &m) < 0)
		return -EPROTONOSUPPORT;
	options_default(&o);
	parse_options(&c, &o);

	ret->opcode = op;
	memcpy(ret->filename, name, nlen);
	ret->filename[nlen] = '\0';
	ret->filename_len = nlen;
	ret->mode = m;
	ret->opts = o;
	return 0;
}

void ib_tftp_negotiate(const struct ib_tftp_options *req,
		       const struct ib_tftp_limits *lim, uint64_t xfer_size,
		       struct ib_tftp_options *ret)
{
	uint32_t max_blk = IB_MIN(IB_MAX(lim->max_blksize, IB_TFTP_BLKSIZE_MIN),
				  IB_TFTP_BLKSIZE_MAX);
	uint32_t max_win = IB_MIN(IB_MAX(lim->max_windowsize, IB_TFTP_WINDOW_MIN),
				  IB_TFTP_WINDOW_MAX);
	struct ib_tftp_options o;

	options_default(&o);
	/* RFC 2348: below 8 is invalid (ignored); above what the server
	 * takes, the OACK names the smaller size it will use. */
	if ((req->present & IB_TFTP_OPT_BLKSIZE) &&
	    req->blksize >= IB_TFTP_BLKSIZE_MIN) {
		o.blksize = IB_MIN(req->blksize, max_blk);
		o.present |= IB_TFTP_OPT_BLKSIZE;
	}
	/* RFC 2349: the RRQ carries 0, the OACK the size of the transfer. */
	if ((req->present & IB_TFTP_OPT_TSIZE) && xfer_size != UINT64_MAX) {
		o.tsize = xfer_size;
		o.present |= IB_TFTP_OPT_TSIZE;
	}
	/* RFC 2349: 1..255 seconds, echoed as asked; otherwise ignored. */
	if ((req->present & IB_TFTP_OPT_TIMEOUT) &&
	    req->timeout_s >= IB_TFTP_TIMEOUT_MIN &&
	    req->timeout_s <= IB_TFTP_TIMEOUT_MAX) {
		o.timeout_s = req->timeout_s;
		o.present |= IB_TFTP_OPT_TIMEOUT;
	}
	/* RFC 7440: 1..65535 blocks; the server may answer a smaller one. */
	if ((req->present & IB_TFTP_OPT_WINDOWSIZE) && req->windowsize >= 1) {
		o.windowsize = IB_MIN(req->windowsize, max_win);
		o.present |= IB_TFTP_OPT_WINDOWSIZE;
	}
	*ret = o;
}

int ib_tftp_ack_parse(const void *buf, size_t len, uint16_t *ret_block)
{
	struct ib_cursor c;
	uint16_t op, block;

	ib_cursor_init(&c, buf, len);
	if (ib_cursor_u16be(&c, &op) < 0 || op != IB_TFTP_ACK ||
	    ib_cursor_u16be(&c, &block) < 0)
		return -EBADMSG;
	*ret_block = block;
	return 0;
}

int ib_tftp_error_parse(const void *buf, size_t len, uint16_t *ret_code,
			char *msg, size_t msgcap)
{
	struct ib_cursor c;
	uint16_t op, code;
	size_t rem, n;
	const uint8_t *p;

	ib_cursor_init(&c, buf, len);
	if (ib_cursor_u16be(&c, &op) < 0 || op != IB_TFTP_ERROR ||
	    ib_cursor_u16be(&c, &code) < 0)
		return -EBADMSG;
	rem = ib_cursor_remaining(&c);
	p = c.p + c.off;
	n = rem ? strnlen((const char *)p, rem) : 0;
	if (msgcap > 0) {
		n = IB_MIN(n, msgcap - 1);
		memcpy(msg, p, n);
		msg[n] = '\0';
	}
	*ret_code = code;
	return 0;
}

int ib_tftp_data_parse(const void *buf, size_t len, uint16_t *ret_block,
		       const uint8_t **ret_data, size_t *ret_len)
{
	struct ib_cursor c;
	uint16_t op, block;
	size_t n;
	const uint8_t *p;

	ib_cursor_init(&c, buf, len);
	if (ib_cursor_u16be(&c, &op) < 0 || op != IB_TFTP_DATA ||
	    ib_cursor_u16be(&c, &block) < 0)
		return -EBADMSG;
	n = ib_cursor_remaining(&c);
	if (ib_cursor_bytes(&c, n, &p) < 0 || n > IB_TFTP_BLKSIZE_MAX)
		return -EBADMSG;
	*ret_block = block;
	*ret_data = p;
	*ret_len = n;
	return 0;
}

int ib_tftp_oack_parse(const void *buf, size_t len,
		       struct ib_tftp_options *ret)
{
	struct ib_cursor c;
	uint16_t op;
	struct ib_tftp_options o;

	ib_cursor_init(&c, buf, len);
	if (ib_cursor_u16be(&c, &op) < 0 || op != IB_TFTP_OACK)
		return -EBADMSG;
	options_default(&o);
	parse_options(&c, &o);
	*ret = o;
	return 0;
}

void ib_tftp_data_header(uint16_t block, uint8_t out[IB_TFTP_HDR_LEN])
{
	out[0] = 0;
	out[1] = IB_TFTP_DATA;
	out[2] = (uint8_t)(block >> 8);
	out[3] = (uint8_t)block;
}

uint32_t ib_tftp_gso_segs(uint32_t blksize, uint32_t windowsize,
			  uint32_t path_mtu, uint32_t ip_udp_hdr)
{
	uint64_t pkt = (uint64_t)IB_TFTP_HDR_LEN + blksize;
	uint64_t segs;

	if (windowsize < 2 || pkt + ip_udp_hdr > path_mtu)
		return 0;
	segs = IB_MIN(IB_TFTP_GSO_MAX_BYTES / pkt, (uint64_t)IB_TFTP_GSO_MAX_SEGS);
	return segs < 2 ? 0 : (uint32_t)segs;
}

int ib_tftp_build_data(struct ib_wbuf *w, uint16_t block, const void *data,
		       size_t len)
{
	ib_wbuf_u16be(w, IB_TFTP_DATA);
	ib_wbuf_u16be(w, block);
	ib_wbuf_bytes(w, data, len);
	return ib_wbuf_status(w);
}

int ib_tftp_build_ack(struct ib_wbuf *w, uint16_t block)
{
	ib_wbuf_u16be(w, IB_TFTP_ACK);
	ib_wbuf_u16be(w, block);
	return ib_wbuf_status(w);
}

int ib_tftp_build_error(struct ib_wbuf *w, uint16_t code, const char *msg)
{
	size_t n = msg ? strnlen(msg, IB_TFTP_ERRMSG_MAX) : 0;

	ib_wbuf_u16be(w, IB_TFTP_ERROR);
	ib_wbuf_u16be(w, code);
	ib_wbuf_bytes(w, msg, n);
	ib_wbuf_u8(w, 0);
	return ib_wbuf_status(w);
}

static void write_cstr(struct ib_wbuf *w, const char *s)
{
	ib_wbuf_bytes(w, s, strlen(s) + 1);
}

static void write_options(struct ib_wbuf *w, const struct ib_tftp_options *o)
{
	for (size_t i = 0; i < IB_ARRAY_SIZE(opt_table); i++) {
		const struct opt_def *d = &opt_table[i];
		char num[24];

		if (!(o->present & d->bit))
			continue;
		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)opt_get(o, d));
		write_cstr(w, d->name);
		write_cstr(w, num);
	}
}

int ib_tftp_build_oack(struct ib_wbuf *w, const struct ib_tftp_options *opts)
{
	ib_wbuf_u16be(w, IB_TFTP_OACK);
	write_options(w, opts);
	return ib_wbuf_status(w);
}

int ib_tftp_build_rrq(struct ib_wbuf *w, const char *filename,
		      enum ib_tftp_mode mode, const struct ib_tftp_options *opts)
{
	ib_wbuf_u16be(w, IB_TFTP_RRQ);
	write_cstr(w, filename);
	write_cstr(w, mode == IB_TFTP_MODE_NETASCII ? "netascii" : "octet");
	if (opts)
		write_options(w, opts);
	return ib_wbuf_status(w);
}

int ib_tftp_name_check(const char *name, size_t len)
{
	size_t comp = 0;	/* start of the current component */

	if (len == 0)
		return -ENOENT;
	if (name[0] == '/')
		return -EACCES;
	for (size_t i = 0; i <= len; i++) {
		unsigned char ch = i < len ? (unsigned char)name[i] : '/';

		/* Backslash: a DOS separator on some servers, so "..\x" would
		 * climb there; control bytes have no place in a boot name. */
		if (ch == '\\' || ch < 0x20 || ch == 0x7f)
			return -EACCES;
		if (ch != '/')
			continue;
		if (i - comp == 2 && name[comp] == '.' && name[comp + 1] == '.')
			return -EACCES;
		comp = i + 1;
	}
	return 0;
}

size_t ib_tftp_netascii_encode(struct ib_tftp_nascii *st, const uint8_t *in,
			       size_t inlen, size_t *ret_used, uint8_t *out,
			       size_t outcap)
{
	size_t i = 0, o = 0;

	if (st->pending >= 0 && o < outcap) {
		out[o++] = (uint8_t)st->pending;
		st->pending = -1;
	}
	while (i < inlen && o < outcap) {
		uint8_t ch = in[i++];

		/* RFC 764: LF is sent as CR LF, a bare CR as CR NUL. */
		if (ch == '\n' || ch == '\r') {
			out[o++] = '\r';
			if (o < outcap)
				out[o++] = ch == '\n' ? '\n' : '\0';
			else
				st->pending = ch == '\n' ? '\n' : '\0';
		} else {
			out[o++] = ch;
		}
	}
	*ret_used = i;
	return o;
}

uint64_t ib_tftp_netascii_size(const uint8_t *in, size_t len)
{
	uint64_t n = len;

	for (size_t i = 0; i < len; i++)
		n += in[i] == '\n' || in[i] == '\r';
	return n;
}
