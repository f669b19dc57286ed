/*
 * libFuzzer target for ironboot-storm's own parsers (src/storm/storm_parse.c);
 * the simulator's other reply parsers are ironboot's codecs and the
 * agent's HTTP response parser, fuzzed by their own targets.
 *
 * The input is read as an iPXE script, as a boot file URL (tftp:// and
 * settings expansion), and as a sequence of TFTP packets a server sends
 * (each prefixed by a 2-byte length) fed to one transfer.  Properties:
 * a scanned script yields 1..IB_STORM_MAX_FETCH NUL-terminated URLs with
 * no blank in them; a parsed tftp URL has a port and a file without a
 * leading NUL; an expansion fits its buffer and leaves text without "${"
 * as it was; a transfer
 * never takes more bytes than blocks times blksize, never acknowledges a
 * block ahead of what it took, and once done stays done.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storm/storm_parse.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_script(const uint8_t *data, size_t size)
{
	static struct ib_storm_fetch f;

	if (ib_storm_script_scan(data, size, &f) < 0)
		return;
	CHECK(f.has_kernel && f.n >= 1 && f.n <= IB_STORM_MAX_FETCH);
	for (size_t i = 0; i < f.n; i++) {
		size_t l = strnlen(f.url[i], IB_STORM_URL_MAX);
		CHECK(l > 0 && l < IB_STORM_URL_MAX);
		CHECK(!strchr(f.url[i], ' ') && !strchr(f.url[i], '\n'));
	}
}

static void fuzz_url(const uint8_t *data, size_t size)
{
	static const struct ib_storm_settings set = { .mac = "52:54:01:00:00:01",
		.uuid = "u", .buildarch = "x86_64", .platform = "efi" };
	char in[512], out[1024];
	struct ib_storm_tftp_url u;
	size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;

	memcpy(in, data, n);
	in[n] = '\0';
	if (ib_storm_tftp_url_parse(in, n, &u) == 0)
		CHECK(u.port != 0 && u.file[0] && (u.family == 2 || u.family == 10));
	/* one pass, as iPXE: text without "${" comes out unchanged */
	if (ib_storm_expand(in, &set, out, sizeof(out)) == 0)
		CHECK(strlen(out) < sizeof(out) && (strstr(in, "${") || strcmp(in, out) == 0));
}

static void fuzz_tftp(const uint8_t *data, size_t size)
{
	struct ib_storm_tftp_rx rx;
	bool done = false;

	ib_storm_tftp_rx_init(&rx);
	while (size >= 2) {
		size_t n = (size_t)data[0] << 8 | data[1];
		uint16_t b = 0;
		int r;

		data += 2;
		size -= 2;
		n = n < size ? n : size;
		r = ib_storm_tftp_rx_input(&rx, data, n, &b);
		CHECK(r >= -ECONNREFUSED || r == -EPROTO || r == -EBADMSG);
		if (r > 0)	/* an ACK names only what was taken in order */
			CHECK(b == rx.last);
		CHECK(rx.bytes <= rx.blocks * (uint64_t)rx.blksize);
		if (done)
			CHECK(rx.done);
		done = rx.done;
		data += n;
		size -= n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_script(data, size);
	fuzz_url(data, size);
	fuzz_tftp(data, size);
	return 0;
}
