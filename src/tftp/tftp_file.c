/* TFTP files: opening under the root, hot-file cache, block reader. */
#include "tftp/tftp_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

struct ib_tftp_file {
	struct ib_tftp_cache *cache;	/* owner; NULL once stale or streamed */
	unsigned refs;			/* transfers using it */
	dev_t dev;			/* key: device */
	ino_t ino;			/* key: inode */
	struct timespec mtime;		/* key: modification time */
	uint64_t size;			/* key: size */
	uint8_t *data;			/* contents, or NULL when streamed */
	int fd;				/* streamed: descriptor; else -1 */
	uint64_t nascii_size;		/* netascii size, UINT64_MAX = unknown */
	struct ib_tftp_file *prev;	/* LRU list, most recent first */
	struct ib_tftp_file *next;
};

struct ib_tftp_cache {
	uint64_t budget;		/* bytes of data allowed */
	uint64_t used;			/* bytes of data held by listed entries */
	struct ib_tftp_file *head;	/* most recently used */
	struct ib_tftp_file *tail;	/* least recently used */
};

/* Maps resolver errors onto the two answers a client gets. */
static int open_error(int err)
{
	if (err == ENOENT || err == ENOTDIR)
		return -ENOENT;
	if (err == EMFILE || err == ENFILE || err == ENOMEM)
		return -err;
	return -EACCES;	/* EXDEV, ELOOP, EACCES, EPERM, EAGAIN, ... */
}

static int openat2_beneath(int rootfd, const char *name, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, rootfd, name, &how, sizeof(how));
}

bool ib_tftp_openat2_available(int rootfd)
{
	int fd = openat2_beneath(rootfd, ".", O_PATH | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * Without openat2: one component at a time, never following a symlink
 * (O_NOFOLLOW), so nothing can lead out of the root.  ".." was refused by
 * the name check; "" and "." components are skipped.
 */
static int walk_beneath(int rootfd, const char *name)
{
	char comp[IB_TFTP_NAME_MAX + 1];
	int dirfd = rootfd;

	for (;;) {
		const char *slash = strchr(name, '/');
		size_t n = slash ? (size_t)(slash - name) : strlen(name);
		int fd, flags;

		if (n >= sizeof(comp))
			goto err;
		memcpy(comp, name, n);
		comp[n] = '\0';
		if (slash && (n == 0 || strcmp(comp, ".") == 0)) {
			name = slash + 1;
			continue;
		}
		flags = slash ? O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC :
				OPEN_FLAGS | O_NOFOLLOW;
		fd = openat(dirfd, comp, flags);
		if (dirfd != rootfd)
			close(dirfd);
		if (fd < 0 || !slash)
			return fd;
		dirfd = fd;
		name = slash + 1;
	}
err:
	if (dirfd != rootfd)
		close(dirfd);
	errno = ENAMETOOLONG;
	return -1;
}

int ib_tftp_open_beneath(int rootfd, const char *name, bool follow,
			 bool use_openat2, int *ret_fd)
{
	struct stat st;
	int fd;

	if (follow)
		fd = openat(rootfd, name, OPEN_FLAGS);
	else if (use_openat2)
		fd = openat2_beneath(rootfd, name, OPEN_FLAGS);
	else
		fd = walk_beneath(rootfd, name);
	if (fd < 0 && !follow && use_openat2 && errno == ENOSYS)
		fd = walk_beneath(rootfd, name);
	if (fd < 0)
		return open_error(errno);
	/* O_NONBLOCK above: a FIFO planted in the root must not hang us. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EACCES;
	}
	*ret_fd = fd;
	return 0;
}

int ib_tftp_cache_new(uint64_t budget, struct ib_tftp_cache **ret)
{
	struct ib_tftp_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->budget = budget;
	*ret = c;
	return 0;
}

static void file_destroy(struct ib_tftp_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->data);
	free(f);
}

static void lru_unlink(struct ib_tftp_cache *c, struct ib_tftp_file *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		c->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		c->tail = f->prev;
	f->prev = f->next = NULL;
	c->used -= f->size;
	f->cache = NULL;
}

static void lru_push_front(struct ib_tftp_cache *c, struct ib_tftp_file *f)
{
	f->prev = NULL;
	f->next = c->head;
	if (c->head)
		c->head->prev = f;
	else
		c->tail = f;
	c->head = f;
	c->used += f->size;
	f->cache = c;
}

/* Evicts unused entries, oldest first, until need more bytes fit. */
static void evict_for(struct ib_tftp_cache *c, uint64_t need)
{
	struct ib_tftp_file *f = c->tail;

	while (f && c->used + need > c->budget) {
		struct ib_tftp_file *prev = f->prev;

		if (f->refs == 0) {
			lru_unlink(c, f);
			file_destroy(f);
		}
		f = prev;
	}
}

void ib_tftp_cache_free(struct ib_tftp_cache *c)
{
	if (!c)
		return;
	while (c->head) {
		struct ib_tftp_file *f = c->head;

		lru_unlink(c, f);
		if (f->refs == 0)
			file_destroy(f);	/* else freed by its last put */
	}
	free(c);
}

void ib_tftp_cache_set_budget(struct ib_tftp_cache *c, uint64_t budget)
{
	c->budget = budget;
	evict_for(c, 0);
}

uint64_t ib_tftp_cache_used(const struct ib_tftp_cache *c)
{
	return c->used;
}

static bool same_version(const struct ib_tftp_file *f, const struct stat *st)
{
	return f->size == (uint64_t)st->st_size &&
	       f->mtime.tv_sec == st->st_mtim.tv_sec &&
	       f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/*
 * Finds the entry for st's inode.  An entry for an older version of the
 * same inode is unlisted (stale: freed by its last user).
 */
static struct ib_tftp_file *cache_lookup(struct ib_tftp_cache *c,
					 const struct stat *st)
{
	for (struct ib_tftp_file *f = c->head; f; f = f->next) {
		if (f->dev != st->st_dev || f->ino != st->st_ino)
			continue;
		if (same_version(f, st))
			return f;
		lru_unlink(c, f);
		if (f->refs == 0)
			file_destroy(f);
		return NULL;
	}
	return NULL;
}

/* Reads size bytes at offset 0; -EIO if the file is shorter now. */
static int read_all(int fd, uint8_t *buf, uint64_t size)
{
	uint64_t off = 0;

	while (off < size) {
		ssize_t n = pread(fd, buf + off, (size_t)(size - off), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		off += (uint64_t)n;
	}
	return 0;
}

static struct ib_tftp_file *file_alloc(const struct stat *st, int fd)
{
	struct ib_tftp_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->refs = 1;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->mtime = st->st_mtim;
	f->size = (uint64_t)st->st_size;
	f->fd = fd;
	f->nascii_size = UINT64_MAX;
	return f;
}

int ib_tftp_cache_get(struct ib_tftp_cache *c, int fd,
		      struct ib_tftp_file **ret)
{
	struct ib_tftp_file *f;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	f = cache_lookup(c, &st);
	if (f) {
		close(fd);
		f->refs++;
		lru_unlink(c, f);
		lru_push_front(c, f);
		*ret = f;
		return 0;
	}
	evict_for(c, (uint64_t)st.st_size);
	f = file_alloc(&st, fd);
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	/* Too big for what is left of the budget: stream it. */
	if (c->used + f->size > c->budget || f->size > SIZE_MAX / 2) {
		*ret = f;
		return 0;
	}
	f->data = malloc(f->size ? (size_t)f->size : 1);
	if (!f->data || read_all(fd, f->data, f->size) < 0) {
		r = f->data ? -EIO : -ENOMEM;
		file_destroy(f);
		return r;
	}
	close(f->fd);
	f->fd = -1;
	lru_push_front(c, f);
	*ret = f;
	return 0;
}

void ib_tftp_file_put(struct ib_tftp_file *f)
{
	if (!f || --f->refs > 0)
		return;
	if (!f->cache)
		file_destroy(f);	/* streamed, stale or cache gone */
}

uint64_t ib_tftp_file_size(const struct ib_tftp_file *f)
{
	return f->size;
}

const uint8_t *ib_tftp_file_data(const struct ib_tftp_file *f)
{
	return f->data;
}

int ib_tftp_file_netascii_size(struct ib_tftp_file *f, uint64_t *ret)
{
	uint8_t buf[16384];
	uint64_t n = 0;

	if (f->nascii_size != UINT64_MAX) {
		*ret = f->nascii_size;
		return 0;
	}
	if (f->data) {
		n = ib_tftp_netascii_size(f->data, (size_t)f->size);
	} else {
		for (uint64_t off = 0; off < f->size;) {
			size_t want = (size_t)IB_MIN((uint64_t)sizeof(buf),
						     f->size - off);
			ssize_t got = pread(f->fd, buf, want, (off_t)off);

			if (got <= 0)
				return -EIO;
			n += ib_tftp_netascii_size(buf, (size_t)got);
			off += (uint64_t)got;
		}
	}
	f->nascii_size = n;
	*ret = n;
	return 0;
}

int ib_tftp_reader_init(struct ib_tftp_reader *r, struct ib_tftp_file *f,
			bool netascii, uint32_t blksize, uint32_t window)
{
	*r = (struct ib_tftp_reader){
		.f = f, .netascii = netascii, .blksize = blksize,
		.size = f->size,
	};
	if (!netascii)
		return 0;
	if (ib_tftp_file_netascii_size(f, &r->size) < 0)
		return -EIO;
	r->nmarks = window + 1;
	r->marks = calloc(r->nmarks, sizeof(*r->marks));
	if (!r->marks)
		return -ENOMEM;
	r->marks[1 % r->nmarks] = (struct ib_tftp_nascii_mark){
		.block = 1, .in_off = 0, .pending = -1,
	};
	return 0;
}

void ib_tftp_reader_done(struct ib_tftp_reader *r)
{
	free(r->marks);
	r->marks = NULL;
}

/* Reads len bytes at off from a stream; -EIO when the file shrank. */
static int stream_read(const struct ib_tftp_file *f, uint64_t off,
		       uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(f->fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

static int netascii_block(struct ib_tftp_reader *r, uint64_t i, uint32_t len,
			  uint8_t *out, uint8_t *scratch)
{
	struct ib_tftp_nascii_mark *m = &r->marks[i % r->nmarks];
	struct ib_tftp_nascii st = { .pending = m->pending };
	const uint8_t *in;
	size_t inlen, used, n;

	if (m->block != i)
		return -EIO;	/* outside the window: a caller bug */
	/* Each input byte yields at least one output byte. */
	inlen = (size_t)IB_MIN((uint64_t)r->blksize, r->f->size - m->in_off);
	if (r->f->data) {
		in = r->f->data + m->in_off;
	} else {
		if (stream_read(r->f, m->in_off, scratch, inlen) < 0)
			return -EIO;
		in = scratch;
	}
	n = ib_tftp_netascii_encode(&st, in, inlen, &used, out, len);
	if (n != len)
		return -EIO;
	r->marks[(i + 1) % r->nmarks] = (struct ib_tftp_nascii_mark){
		.block = i + 1, .in_off = m->in_off + used, .pending = st.pending,
	};
	return 0;
}

int ib_tftp_reader_block(struct ib_tftp_reader *r, uint64_t i, uint32_t len,
			 uint8_t *out, uint8_t *scratch, const uint8_t **ret_p)
{
	uint64_t off = (i - 1) * r->blksize;
	int err;

	if (r->netascii) {
		err = netascii_block(r, i, len, out, scratch);
	} else if (r->f->data) {
		*ret_p = r->f->data + off;
		return 0;
	} else {
		err = stream_read(r->f, off, out, len);
	}
	if (err < 0)
		return err;
	*ret_p = out;
	return 0;
}
