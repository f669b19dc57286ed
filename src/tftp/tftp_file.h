/*
 * Files for the TFTP shell: opening client names under the root directory,
 * the hot-file cache, and reading blocks (octet or netascii).
 *
 * This is shell code (it does the file syscalls) kept apart from the
 * socket code in tftp_server.c.
 *
 * Opening: ib_tftp_open_beneath() resolves a name that already passed
 * ib_tftp_name_check() with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * (Linux 5.6+), so symlinks may move around inside the root but never out
 * of it.  Where openat2 is missing it walks the components itself with
 * O_NOFOLLOW, refusing every symlink.  Trusted names (the configured boot
 * files) are opened with plain openat(), following symlinks anywhere:
 * Debian's /usr/lib/ipxe/ipxe.efi points into /boot.
 *
 * Caching: a boot storm asks for the same few files thousands of times.
 * ib_tftp_cache_get() keys regular files by (dev, ino, mtime, size); the
 * first request reads the file into memory, later ones share the buffer
 * (refcounted).  Entries nobody uses are evicted least recently used first
 * when the budget would be exceeded.  A file that does not fit the budget
 * is streamed with pread() from its own descriptor instead.  A file that
 * changes on disk gets a new entry; the old one lives until its last user
 * finishes.
 */
#ifndef IB_TFTP_FILE_H
#define IB_TFTP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tftp/tftp_codec.h"

struct ib_tftp_cache;

/* One file being served: a cache entry, or a streamed descriptor. */
struct ib_tftp_file;

/*
 * Opens name (NUL-terminated, checked by ib_tftp_name_check) under rootfd
 * for reading.  follow: trusted name, symlinks followed anywhere.  use_openat2
 * selects the resolver (false: the O_NOFOLLOW walk).  Returns 0 and a
 * descriptor of a regular file in *ret_fd (caller owns it), or -ENOENT,
 * -EACCES (outside the root, a refused symlink, not a regular file) or
 * another negative errno.
 */
int ib_tftp_open_beneath(int rootfd, const char *name, bool follow,
			 bool use_openat2, int *ret_fd);

/* Probes whether openat2(RESOLVE_BENEATH) works on this kernel. */
bool ib_tftp_openat2_available(int rootfd);

/* A cache holding at most budget bytes of unused entries' data. */
int ib_tftp_cache_new(uint64_t budget, struct ib_tftp_cache **ret);
/* Frees the cache; every file must have been put back.  Accepts NULL. */
void ib_tftp_cache_free(struct ib_tftp_cache *c);
/* Changes the budget (reload), evicting unused entries to fit. */
void ib_tftp_cache_set_budget(struct ib_tftp_cache *c, uint64_t budget);
/* Bytes of file data held in memory now. */
uint64_t ib_tftp_cache_used(const struct ib_tftp_cache *c);

/*
 * Gets the file open on fd, taking ownership of fd (closed here, or kept
 * for streaming).  On success *ret holds one reference (ib_tftp_file_put).
 * -EIO when the file could not be read whole, -ENOMEM.
 */
int ib_tftp_cache_get(struct ib_tftp_cache *c, int fd,
		      struct ib_tftp_file **ret);
/* Drops a reference; the last one frees streamed files and stale entries. */
void ib_tftp_file_put(struct ib_tftp_file *f);
/* Size in octets on disk. */
uint64_t ib_tftp_file_size(const struct ib_tftp_file *f);
/* The whole contents when held in memory, else NULL (streamed). */
const uint8_t *ib_tftp_file_data(const struct ib_tftp_file *f);
/*
 * Size once netascii-encoded; computed on first use (a pass over the file)
 * and remembered.  -EIO on a read error.
 */
int ib_tftp_file_netascii_size(struct ib_tftp_file *f, uint64_t *ret);

/* Scratch space the reader may use for input (netascii from a stream). */
#define IB_TFTP_READER_SCRATCH IB_TFTP_BLKSIZE_MAX

/* Where one netascii block starts in the input. */
struct ib_tftp_nascii_mark {
	uint64_t block;			/* block index this mark starts */
	uint64_t in_off;		/* input offset */
	int pending;			/* byte owed from the previous block */
};

/*
 * Produces the blocks of one transfer.  Octet: block i is the file bytes
 * at (i-1)*blksize.  Netascii: the encoder's position at the start of each
 * block of the window is remembered, so a window can be resent.
 */
struct ib_tftp_reader {
	struct ib_tftp_file *f;		/* borrowed; the connection holds the ref */
	bool netascii;			/* encode on the fly */
	uint32_t blksize;		/* bytes per block */
	uint64_t size;			/* bytes the transfer carries */
	struct ib_tftp_nascii_mark *marks; /* netascii: ring of nmarks */
	uint32_t nmarks;		/* window + 1 */
};

/* Sets up r for blocks of blksize over f; window bounds the resend range. */
int ib_tftp_reader_init(struct ib_tftp_reader *r, struct ib_tftp_file *f,
			bool netascii, uint32_t blksize, uint32_t window);
void ib_tftp_reader_done(struct ib_tftp_reader *r);
/*
 * Block i (1-based), of length len as computed by the state machine.  Data
 * is either pointed into the cache (*ret_p, no copy) or written to out
 * (blksize bytes of space) with *ret_p = out.  scratch is
 * IB_TFTP_READER_SCRATCH bytes of temporary space.  -EIO on a read error
 * or when the file changed under a stream.
 */
int ib_tftp_reader_block(struct ib_tftp_reader *r, uint64_t i, uint32_t len,
			 uint8_t *out, uint8_t *scratch, const uint8_t **ret_p);

#endif
