/* The store's health at start: see store_health.h. */
#include "store/store_health.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAL_HDR 32
#define FRAME_HDR 24
#define WAL_MAGIC 0x377f0682u	/* | 1: checksums in big-endian words */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The WAL checksum: pairs of 32-bit words in the log's byte order. */
static void wal_sum(const uint8_t *p, size_t n, bool big, uint32_t s[2])
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint32_t x0 = big ? be32(p + i) : (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
				(uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24;
		uint32_t x1 = big ? be32(p + i + 4) : (uint32_t)p[i + 4] |
				(uint32_t)p[i + 5] << 8 | (uint32_t)p[i + 6] << 16 |
				(uint32_t)p[i + 7] << 24;

		s[0] += x0 + s[1];
		s[1] += x1 + s[0];
	}
}

/* Walks the frames after the header; fills r. */
static int walk_frames(int fd, const uint8_t hdr[WAL_HDR], uint32_t page, off_t size,
		       struct ib_wal_report *r)
{
	bool big = be32(hdr) & 1;
	uint32_t s[2] = { 0, 0 }, salt1 = be32(hdr + 16), salt2 = be32(hdr + 20);
	size_t fsz = FRAME_HDR + (size_t)page;
	uint8_t *f = malloc(fsz);
	bool broken = false;

	if (!f)
		return -ENOMEM;
	wal_sum(hdr, 24, big, s);
	if (s[0] != be32(hdr + 24) || s[1] != be32(hdr + 28)) {
		broken = true;	/* SQLite ignores the whole log */
		r->unreadable = true;
		r->bad_frame = 1;
	}
	r->frames = (uint32_t)((size - WAL_HDR) / (off_t)fsz);
	for (uint32_t i = 0; i < r->frames; i++) {
		bool ours, commit;

		if (pread(fd, f, fsz, WAL_HDR + (off_t)i * (off_t)fsz) != (ssize_t)fsz) {
			free(f);
			return -EIO;
		}
		ours = be32(f + 8) == salt1 && be32(f + 12) == salt2;
		commit = be32(f + 4) != 0;
		if (!broken) {
			uint32_t t[2] = { s[0], s[1] };

			wal_sum(f, 8, big, t);
			wal_sum(f + FRAME_HDR, page, big, t);
			if (ours && t[0] == be32(f + 16) && t[1] == be32(f + 20)) {
				s[0] = t[0];
				s[1] = t[1];
				if (commit)
					r->valid = i + 1;
				continue;
			}
			broken = true;
			r->bad_frame = i + 1;
			if (!ours)
				break;	/* an older generation's leftovers: normal */
		}
		/* After the break: frames of this generation are lost. */
		if (ours) {
			r->lost_frames++;
			r->lost_commits += commit;
		}
	}
	free(f);
	return 0;
}

int ib_wal_check(const char *db_path, struct ib_wal_report *ret)
{
	struct ib_wal_report r = { 0 };
	char path[4200];
	uint8_t hdr[WAL_HDR];
	struct stat st;
	uint32_t page;
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s-wal", db_path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			*ret = r;
			return 0;
		}
		return -errno;
	}
	if (fstat(fd, &st) < 0 || st.st_size < WAL_HDR) {
		close(fd);
		*ret = r;
		return 0;		/* empty: nothing to replay */
	}
	r.present = true;
	if (pread(fd, hdr, WAL_HDR, 0) != WAL_HDR) {
		close(fd);
		return -EIO;
	}
	page = be32(hdr + 8);
	if ((be32(hdr) & ~1u) != WAL_MAGIC || page < 512 || page > 65536 ||
	    (page & (page - 1))) {
		/* not a log SQLite would read at all: everything in it is lost */
		r.unreadable = true;
		r.bad_frame = 1;
	} else {
		e = walk_frames(fd, hdr, page, st.st_size, &r);
	}
	close(fd);
	if (e < 0)
		return e;
	*ret = r;
	return 0;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in, out, e = 0;

	in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return errno == ENOENT ? 0 : -errno;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		e = -errno;
		close(in);
		return e;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			e = -EIO;
			break;
		}
	if (n < 0)
		e = -errno;
	if (e == 0 && fsync(out) < 0)
		e = -errno;
	close(in);
	close(out);
	return e;
}

int ib_store_save_damaged(const char *db_path, const char *stamp, char *out, size_t len)
{
	char from[4200], to[4300];
	int r;

	snprintf(out, len, "%s.damaged-%s", db_path, stamp);
	if ((r = copy_file(db_path, out)) < 0)
		return r;
	snprintf(from, sizeof(from), "%s-wal", db_path);
	snprintf(to, sizeof(to), "%s-wal", out);
	return copy_file(from, to);
}

int ib_store_quick_check(const char *db_path, char *msg, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int r = -EIO;

	msg[0] = '\0';
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "PRAGMA quick_check(5)", -1, &st, NULL) != SQLITE_OK) {
		snprintf(msg, len, "%s", db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	r = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (t && strcmp(t, "ok") != 0) {
			size_t n = strlen(msg);

			snprintf(msg + n, len - n, "%s%s", n ? "; " : "", t);
			r = -EBADMSG;
		}
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

int ib_store_backup(const char *db_path, char *msg, size_t len)
{
	char tmp[4200], good[4200], old[4200], *sql;
	sqlite3 *db = NULL;
	int r = -EIO, fd;

	msg[0] = '\0';
	snprintf(tmp, sizeof(tmp), "%s.good.tmp", db_path);
	snprintf(good, sizeof(good), "%s.good", db_path);
	snprintf(old, sizeof(old), "%s.good.1", db_path);
	unlink(tmp);
	sql = sqlite3_mprintf("VACUUM INTO %Q", tmp);
	if (!sql)
		return -ENOMEM;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(msg, len, "%s", db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) < 0) {
		snprintf(msg, len, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if ((rename(good, old) < 0 && errno != ENOENT) || rename(tmp, good) < 0) {
		snprintf(msg, len, "rename: %s", strerror(errno));
		goto out;
	}
	r = 0;
out:
	sqlite3_free(sql);
	sqlite3_close(db);
	if (r < 0)
		unlink(tmp);
	return r;
}
