/*
 * The wipe action: every disk the instruction names (or every wipeable
 * one) is discarded where the device supports it and its wipe plan
 * (agent_wipe_plan.h) zeroed, with BLKZEROOUT or plain writes.
 */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_wipe_plan.h"
#include "common/log.h"

#define ZERO_CHUNK (1u << 20)	/* bytes per write when writing zeroes */

int ib_agent_fd_size(int fd, uint64_t *ret)
{
	struct stat st;
	uint64_t sz = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &sz) < 0)
			return -errno;
	} else if (S_ISREG(st.st_mode)) {
		sz = (uint64_t)st.st_size;	/* a file standing in for a disk */
	} else {
		return -ENOTBLK;
	}
	*ret = sz;
	return 0;
}

/* Writes zeroes over [off, off+len) with write(): the fallback. */
static int write_zeroes(int fd, uint64_t off, uint64_t len)
{
	uint8_t *z = calloc(1, ZERO_CHUNK);
	int r = 0;

	if (!z)
		return -ENOMEM;
	while (len > 0) {
		size_t n = len < ZERO_CHUNK ? (size_t)len : ZERO_CHUNK;
		ssize_t w = pwrite(fd, z, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			break;
		}
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	free(z);
	return r;
}

/* One range: BLKZEROOUT (the device's write-zeroes, or the kernel writing
 * zeroes for us) where it works, else plain writes. */
static int zero_range(int fd, uint64_t off, uint64_t len)
{
	uint64_t range[2] = { off, len };

	if (ioctl(fd, BLKZEROOUT, range) == 0)
		return 0;
	return write_zeroes(fd, off, len);
}

int ib_agent_wipe_fd(int fd, uint64_t size, bool can_discard,
		     uint64_t *ret_zeroed, int *ret_discard)
{
	struct ib_agent_range plan[IB_AGENT_WIPE_RANGES_MAX];
	size_t n = ib_agent_wipe_plan(size, plan);
	uint64_t whole[2] = { 0, size };
	int r, discard = -EOPNOTSUPP;

	/* A discard lets an SSD drop every block at once; it does not promise
	 * zeroes on read, so the plan is zeroed after it either way. */
	if (can_discard && size > 0)
		discard = ioctl(fd, BLKDISCARD, whole) == 0 ? 0 : -errno;
	for (size_t i = 0; i < n; i++) {
		r = zero_range(fd, plan[i].off, plan[i].len);
		if (r < 0)
			return r;
	}
	if (fsync(fd) < 0)
		return -errno;
	/* drop the kernel's view of the old partitions (not a disk: ENOTTY) */
	ioctl(fd, BLKRRPART, 0);
	*ret_zeroed = ib_agent_wipe_plan_bytes(plan, n);
	*ret_discard = discard;
	return 0;
}

/* Whether the instruction names d (or names none: every wipeable disk). */
static bool chosen(const struct ib_agent_instruction *in, const struct ib_agent_disk *d)
{
	if (in->wipe_ndisks == 0)
		return ib_agent_disk_wipeable(d);
	for (unsigned i = 0; i < in->wipe_ndisks; i++)
		if (strcmp(in->wipe_disks[i], d->name) == 0)
			return true;
	return false;
}

/* Wipes one disk and reports it.  0 or -errno. */
static int wipe_one(struct ib_agent *a, const struct ib_agent_disk *d)
{
	char step[64], detail[128];
	struct ib_agent_progress p = { .step = step, .status = "running", .total = d->size };
	uint64_t t0 = ib_agent_now_ms(), size = 0, zeroed = 0;
	int fd, r, discard = 0;

	snprintf(step, sizeof(step), "wipe:%s", d->name);
	ib_agent_client_progress(a, &p);
	if (d->readonly) {
		r = -EROFS;
		goto out;
	}
	/* O_EXCL on a block device: refused while mounted or in use */
	fd = openat(a->devfd, d->name, O_RDWR | O_EXCL | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = ib_agent_fd_size(fd, &size);
	if (r == 0)
		r = ib_agent_wipe_fd(fd, size, true, &zeroed, &discard);
	close(fd);
out:
	p.duration_ms = ib_agent_now_ms() - t0;
	p.bytes = zeroed;
	p.rate_bps = p.duration_ms ? zeroed * 1000 / p.duration_ms : 0;
	if (r < 0) {
		p.status = "failed";
		p.error = strerror(-r);
	} else {
		p.status = "ok";
		snprintf(detail, sizeof(detail), "zeroed %llu bytes; discard: %s",
			 (unsigned long long)zeroed, discard == 0 ? "done" : strerror(-discard));
		p.detail = detail;
	}
	ib_agent_client_progress(a, &p);
	return r;
}

int ib_agent_wipe(struct ib_agent *a, const struct ib_agent_instruction *in)
{
	struct ib_agent_disk *disks = calloc(IB_AGENT_DISKS_MAX, sizeof(*disks));
	struct ib_agent_progress p = { .step = "wipe", .status = "failed" };
	size_t n = 0, done = 0, failed = 0;
	char why[96];
	int r;

	if (!disks)
		return -ENOMEM;
	r = ib_agent_disks_scan(a->rootfd, disks, IB_AGENT_DISKS_MAX, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!chosen(in, &disks[i]))
			continue;
		if (wipe_one(a, &disks[i]) < 0)
			failed++;
		else
			done++;
	}
	/* a named disk that is not there is a failure, not a quiet no-op */
	for (unsigned k = 0; r == 0 && k < in->wipe_ndisks; k++) {
		size_t i;
		for (i = 0; i < n && strcmp(disks[i].name, in->wipe_disks[k]) != 0; i++)
			;
		if (i == n)
			failed++;
	}
	free(disks);
	if (r < 0)
		snprintf(why, sizeof(why), "no disk list: %s", strerror(-r));
	else if (failed)
		snprintf(why, sizeof(why), "%zu disk(s) not wiped (missing or failed)", failed);
	else if (done == 0)
		snprintf(why, sizeof(why), "no disk to wipe");
	if (r < 0 || failed || done == 0) {
		p.error = why;
		ib_agent_client_progress(a, &p);
		return r < 0 ? r : -EIO;
	}
	snprintf(why, sizeof(why), "%zu disk(s) wiped", done);
	p.status = "ok";
	p.detail = why;
	ib_agent_client_progress(a, &p);
	return 0;
}
