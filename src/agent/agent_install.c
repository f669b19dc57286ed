/*
 * The install action: the image at the instruction's URL streams through
 * agent_stream (SHA-256 of the download, decompression) onto the disk,
 * with running progress every IB_AGENT_PROGRESS_EVERY_MS.  The digest is
 * only known at the end: on a mismatch (or any failure after the first
 * byte was written) the disk's wipe plan is zeroed, so a half-written or
 * corrupt image is never booted.
 */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent/agent_http.h"
#include "agent/agent_stream.h"
#include "common/log.h"
#include "common/util.h"

/* One install under way. */
struct install {
	struct ib_agent *a;		/* the agent (progress) */
	struct ib_agent_stream *s;	/* hash + decoder */
	int fd;				/* the disk */
	uint64_t size;			/* the disk's bytes */
	uint64_t written;		/* bytes written so far */
	uint64_t t0;			/* start, ms */
	uint64_t last_ms;		/* last running progress */
	uint64_t last_bytes;		/* written at the last progress */
	int http_status;		/* of the download, 0 before its head */
	enum ib_agent_format format;	/* of the image */
	uint64_t length;		/* Content-Length of the download, 0 unknown */
	char step[64];			/* "install:<disk>" */
};

/* The stream's sink: decoded bytes onto the disk, in order. */
static int sink(void *ctx, const uint8_t *p, size_t n)
{
	struct install *in = ctx;

	if (n > in->size - in->written)
		return -ENOSPC;		/* the image is larger than the disk */
	while (n > 0) {
		ssize_t w = pwrite(in->fd, p, n, (off_t)in->written);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
		in->written += (uint64_t)w;
	}
	return 0;
}

static void running(struct install *in, uint64_t now)
{
	struct ib_agent_progress p = {
		.step = in->step, .status = "running", .bytes = in->written,
		.duration_ms = now - in->t0,
		.total = in->format == IB_AGENT_FORMAT_RAW ? in->length : 0,
	};

	if (now > in->last_ms)
		p.rate_bps = (in->written - in->last_bytes) * 1000 / (now - in->last_ms);
	ib_agent_client_progress(in->a, &p);
	in->last_ms = now;
	in->last_bytes = in->written;
}

/* The download's status and length, before any byte reaches the disk:
 * an error page must never be written. */
static int on_head(void *ctx, const struct ib_agent_http_resp *r)
{
	struct install *in = ctx;

	in->http_status = r->status;
	if (r->status != 200)
		return -EPROTO;
	in->length = r->content_length > 0 ? (uint64_t)r->content_length : 0;
	if (in->format == IB_AGENT_FORMAT_RAW && in->length > in->size)
		return -ENOSPC;
	return 0;
}

/* The download's body: into the stream; progress now and then. */
static int on_body(void *ctx, const uint8_t *p, size_t n)
{
	struct install *in = ctx;
	uint64_t now;
	int r;

	r = ib_agent_stream_feed(in->s, p, n);
	if (r < 0)
		return r;
	now = ib_agent_now_ms();
	if (now - in->last_ms >= IB_AGENT_PROGRESS_EVERY_MS)
		running(in, now);
	return 0;
}

/* Finds the disk named by the instruction and checks it may be written. */
static int pick_disk(struct ib_agent *a, const struct ib_agent_instruction *ins,
		     char *why, size_t whylen)
{
	struct ib_agent_disk *disks = calloc(IB_AGENT_DISKS_MAX, sizeof(*disks));
	size_t n = 0, i;
	int r;

	if (!disks)
		return -ENOMEM;
	r = ib_agent_disks_scan(a->rootfd, disks, IB_AGENT_DISKS_MAX, &n);
	for (i = 0; r == 0 && i < n && strcmp(disks[i].name, ins->disk) != 0; i++)
		;
	if (r < 0)
		snprintf(why, whylen, "no disk list: %s", strerror(-r));
	else if (i == n)
		snprintf(why, whylen, "no disk %s", ins->disk);
	else if (disks[i].readonly)
		snprintf(why, whylen, "disk %s is read-only", ins->disk);
	else if (ins->disk_serial[0] && strcmp(disks[i].serial, ins->disk_serial) != 0)
		snprintf(why, whylen, "disk %s has serial \"%s\", not the one asked for",
			 ins->disk, disks[i].serial);
	else
		why[0] = '\0';
	free(disks);
	if (r == 0 && why[0])
		r = -ENODEV;
	return r;
}

/* Download, decode, write, verify.  0, or -errno with why filled. */
static int stream_image(struct install *in, const struct ib_agent_instruction *ins,
			char *why, size_t whylen)
{
	struct ib_agent_http_call c = {
		.method = "GET", .url = &ins->url, .timeout_ms = IB_AGENT_IMAGE_TIMEOUT_MS,
		.on_head = on_head, .on_body = on_body, .ctx = in,
	};
	uint8_t digest[32];
	char got[65], want[65];
	int status = 0, r;

	r = ib_agent_http_call(&c, &status);
	if (r == -EPROTO || (r == 0 && status != 200)) {
		snprintf(why, whylen, "download: HTTP %d", in->http_status ? in->http_status : status);
		return -EPROTO;
	}
	if (r == -ENOSPC) {
		snprintf(why, whylen, "the image is larger than the disk (%llu bytes)",
			 (unsigned long long)in->size);
		return r;
	}
	if (r == -EBADMSG && in->http_status == 200) {
		snprintf(why, whylen, "the image is not valid %s data", ib_agent_format_name(in->format));
		return r;
	}
	if (r < 0) {
		snprintf(why, whylen, "download: %s", strerror(-r));
		return r;
	}
	r = ib_agent_stream_finish(in->s, digest);
	if (r < 0) {
		snprintf(why, whylen, "%s", r == -EBADMSG ? "the compressed image is truncated"
							  : strerror(-r));
		return r;
	}
	if (memcmp(digest, ins->sha256, 32) != 0) {
		ib_hex_format(digest, 32, got, sizeof(got));
		ib_hex_format(ins->sha256, 32, want, sizeof(want));
		snprintf(why, whylen, "sha256 mismatch: got %s, want %s", got, want);
		return -EBADMSG;
	}
	if (fsync(in->fd) < 0) {
		r = -errno;
		snprintf(why, whylen, "fsync: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* After a failure that may have written part of an image: zero the wipe
 * plan so nothing boots from the disk. */
static void scrub(struct install *in)
{
	uint64_t zeroed;
	int discard, r;

	if (in->written == 0)
		return;
	r = ib_agent_wipe_fd(in->fd, in->size, false, &zeroed, &discard);
	if (r < 0)
		ib_warn("agent: %s: could not zero the partial image: %s", in->step, strerror(-r));
}

static void finish(struct install *in, int r, const char *why)
{
	struct ib_agent_progress p = {
		.step = in->step, .status = r < 0 ? "failed" : "ok", .bytes = in->written,
		.duration_ms = ib_agent_now_ms() - in->t0,
	};
	char detail[128];

	if (r < 0)
		p.error = why;
	if (in->s) {
		snprintf(detail, sizeof(detail), "%s image, %llu bytes downloaded",
			 ib_agent_format_name(in->format),
			 (unsigned long long)ib_agent_stream_in(in->s));
		p.detail = detail;
	}
	if (p.duration_ms)
		p.rate_bps = in->written * 1000 / p.duration_ms;
	ib_agent_client_progress(in->a, &p);
}

int ib_agent_install(struct ib_agent *a, const struct ib_agent_instruction *ins)
{
	struct install in = { .a = a, .fd = -1, .format = ins->format };
	char why[256] = "";
	int r;

	in.t0 = in.last_ms = ib_agent_now_ms();
	snprintf(in.step, sizeof(in.step), "install:%s", ins->disk);
	{
		struct ib_agent_progress p = { .step = in.step, .status = "running" };
		ib_agent_client_progress(a, &p);
	}
	r = pick_disk(a, ins, why, sizeof(why));
	if (r < 0)
		goto out;
	r = ib_agent_stream_new(ins->format, sink, &in, &in.s);
	if (r < 0) {
		if (r == -EPROTONOSUPPORT)
			snprintf(why, sizeof(why), "this agent was built without %s support",
				 ib_agent_format_name(ins->format));
		else
			snprintf(why, sizeof(why), "%s", strerror(-r));
		goto out;
	}
	in.fd = openat(a->devfd, ins->disk, O_WRONLY | O_EXCL | O_CLOEXEC | O_NOFOLLOW);
	if (in.fd < 0 || (r = ib_agent_fd_size(in.fd, &in.size)) < 0) {
		r = in.fd < 0 ? -errno : r;
		snprintf(why, sizeof(why), "open %s: %s", ins->disk, strerror(-r));
		goto out;
	}
	ib_info("agent: installing %s image http://%s:%u%s onto %s (%llu bytes)",
		ib_agent_format_name(ins->format), ins->url.host, ins->url.port,
		ins->url.target, ins->disk, (unsigned long long)in.size);
	r = stream_image(&in, ins, why, sizeof(why));
	if (r < 0)
		scrub(&in);
	else
		ioctl(in.fd, BLKRRPART, 0);	/* the new partition table */
out:
	finish(&in, r, why);
	if (in.fd >= 0)
		close(in.fd);
	ib_agent_stream_free(in.s);
	return r;
}
