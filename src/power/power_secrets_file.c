/*
 * Reading the secrets file: the mode check, then the pure parser
 * (power_secrets.c).  Here, not with the parser, because it does I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "power/power_secrets.h"

int ib_power_secrets_load(const char *path, struct ib_power_secrets **ret,
			  char err[IB_SECRETS_ERRLEN])
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(err, IB_SECRETS_ERRLEN, "cannot open: %s", strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, IB_SECRETS_ERRLEN, "not a regular file");
		close(fd);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		snprintf(err, IB_SECRETS_ERRLEN,
			 "mode %04o lets others read it; refused (chmod 600)",
			 (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	if (st.st_size > IB_SECRETS_FILE_MAX) {
		snprintf(err, IB_SECRETS_ERRLEN, "larger than %d bytes", IB_SECRETS_FILE_MAX);
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		snprintf(err, IB_SECRETS_ERRLEN, "short read");
		free(buf);
		return -EIO;
	}
	r = ib_power_secrets_parse(buf, (size_t)n, ret, err);
	explicit_bzero(buf, (size_t)n);
	free(buf);
	return r;
}
