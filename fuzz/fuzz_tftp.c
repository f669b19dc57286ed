/*
 * libFuzzer target for the TFTP codec.
 *
 * The input is tried as every packet kind.  A request that parses must
 * have a sane name, rebuild into an RRQ that parses back to the same
 * request, and negotiate (with limits taken from the input) into options
 * inside the RFC ranges and the limits, whose OACK fits 512 bytes and
 * parses back unchanged.  A name the name check accepts must hold no
 * "..", no leading '/', no backslash.  The input is also netascii-encoded
 * in blocks of a size taken from it: the output must have the predicted
 * size and decode back to the input.  Any broken property aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftp/tftp_codec.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define NASCII_MAX 4096			/* bytes of input encoded */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *name, size_t len)
{
	int r = ib_tftp_name_check(name, len);

	CHECK(r == 0 || r == -EACCES || r == -ENOENT);
	if (r < 0)
		return;
	CHECK(len > 0 && name[0] != '/');
	CHECK(!memchr(name, '\\', len));
	for (size_t i = 0; i + 1 < len; i++)
		if (name[i] == '.' && name[i + 1] == '.')
			CHECK(!((i == 0 || name[i - 1] == '/') &&
				(i + 2 == len || name[i + 2] == '/')));
}

static void check_negotiation(const struct ib_tftp_request *req,
			      const uint8_t *data, size_t size)
{
	struct ib_tftp_limits lim = {
		.max_blksize = size > 1 ? (uint32_t)data[0] << 9 | data[1] : 0,
		.max_windowsize = size > 2 ? data[2] : 0,
	};
	uint64_t xfer = size > 3 && data[3] & 1 ? UINT64_MAX : size * 1000003ull;
	struct ib_tftp_options o, back;
	uint8_t buf[IB_TFTP_OACK_MAX];
	struct ib_wbuf w;

	ib_tftp_negotiate(&req->opts, &lim, xfer, &o);
	CHECK((o.present & ~req->opts.present) == 0);
	CHECK(o.blksize >= IB_TFTP_BLKSIZE_MIN && o.blksize <= IB_TFTP_BLKSIZE_MAX);
	CHECK(o.blksize <= (lim.max_blksize < 8 ? 8 : lim.max_blksize) ||
	      o.blksize == IB_TFTP_BLKSIZE_DEFAULT);
	CHECK(o.windowsize >= 1 && o.windowsize <= IB_TFTP_WINDOW_MAX);
	CHECK(o.windowsize <= (lim.max_windowsize ? lim.max_windowsize : 1));
	CHECK(o.timeout_s == 0 || (o.timeout_s >= 1 && o.timeout_s <= 255));
	CHECK(!(o.present & IB_TFTP_OPT_TSIZE) || o.tsize == xfer);
	ib_wbuf_init(&w, buf, sizeof(buf));
	CHECK(ib_tftp_build_oack(&w, &o) == 0);
	CHECK(ib_tftp_oack_parse(buf, w.len, &back) == 0);
	CHECK(memcmp(&o, &back, sizeof(o)) == 0);
}

static void check_request(const uint8_t *data, size_t size)
{
	struct ib_tftp_request req, back;
	uint8_t buf[2048];
	struct ib_wbuf w;
	int r = ib_tftp_request_parse(data, size, &req);

	CHECK(r == 0 || r == -EBADMSG || r == -ENAMETOOLONG ||
	      r == -EPROTONOSUPPORT || r == -EOPNOTSUPP);
	if (r < 0)
		return;
	CHECK(req.opcode == IB_TFTP_RRQ || req.opcode == IB_TFTP_WRQ);
	CHECK(req.filename_len > 0 && req.filename_len <= IB_TFTP_NAME_MAX);
	CHECK(strlen(req.filename) == req.filename_len);
	check_name(req.filename, req.filename_len);

	ib_wbuf_init(&w, buf, sizeof(buf));
	CHECK(ib_tftp_build_rrq(&w, req.filename, req.mode, &req.opts) == 0);
	CHECK(ib_tftp_request_parse(buf, w.len, &back) == 0);
	CHECK(strcmp(back.filename, req.filename) == 0);
	CHECK(back.mode == req.mode);
	CHECK(memcmp(&back.opts, &req.opts, sizeof(req.opts)) == 0);
	check_negotiation(&req, data, size);
}

/* Decodes netascii (CR LF -> LF, CR NUL -> CR); -1 if malformed. */
static long netascii_decode(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] != '\r') {
			out[o++] = in[i];
			continue;
		}
		if (i + 1 == len || (in[i + 1] != '\n' && in[i + 1] != '\0'))
			return -1;
		out[o++] = in[i + 1] == '\n' ? '\n' : '\r';
		i++;
	}
	return (long)o;
}

static void check_netascii(const uint8_t *data, size_t size)
{
	static uint8_t enc[2 * NASCII_MAX + 1], dec[2 * NASCII_MAX];
	struct ib_tftp_nascii st = { .pending = -1 };
	size_t len = size < NASCII_MAX ? size : NASCII_MAX;
	size_t blk = size ? 1 + data[0] % 64 : 1, off = 0, o = 0;

	for (;;) {
		size_t used, n = ib_tftp_netascii_encode(&st, data + off, len - off,
							 &used, enc + o, blk);

		CHECK(used <= len - off && n <= blk);
		off += used;
		o += n;
		if (n < blk)
			break;
	}
	CHECK(off == len && st.pending == -1);
	CHECK(o == ib_tftp_netascii_size(data, len));
	CHECK(netascii_decode(enc, o, dec) == (long)len);
	CHECK(memcmp(dec, data, len) == 0);
}

static void check_others(const uint8_t *data, size_t size)
{
	struct ib_tftp_options o;
	const uint8_t *p;
	uint16_t u16, code;
	size_t len;
	char msg[64];

	if (ib_tftp_error_parse(data, size, &code, msg, sizeof(msg)) == 0)
		CHECK(strlen(msg) < sizeof(msg));
	if (ib_tftp_data_parse(data, size, &u16, &p, &len) == 0)
		CHECK(p == data + 4 && len == size - 4);
	(void)ib_tftp_ack_parse(data, size, &u16);
	if (ib_tftp_oack_parse(data, size, &o) == 0)
		CHECK(o.present <= 0xf);
	CHECK((ib_tftp_opcode_peek(data, size, &u16) == 0) == (size >= 2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request(data, size);
	check_others(data, size);
	check_netascii(data, size);
	if (size <= IB_TFTP_NAME_MAX)
		check_name((const char *)data, size);
	return 0;
}
