/*
 * Replays a fuzz corpus as an ordinary test: every argument is a file, or
 * a directory whose regular files are each fed to LLVMFuzzerTestOneInput()
 * once.  A target signals a failure by crashing (abort, sanitizer), so
 * "failed" here only counts inputs that could not be read.  Exits 0 when
 * every input ran.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INPUT_MAX (1u << 20)	/* libFuzzer's default -max_len is far less */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Counts of inputs run and inputs that could not be read. */
struct tally {
	unsigned passed;	/* inputs fed to the target */
	unsigned failed;	/* inputs that could not be read */
};

/*
 * Reads the regular file at dirfd/name into an exact-size buffer (so ASan
 * catches a read one past the input) and runs it; 0 or -errno.
 */
static int run_file(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t len = 0, size;
	struct stat st;
	uint8_t *buf;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	size = st.st_size > INPUT_MAX ? INPUT_MAX : (size_t)st.st_size;
	buf = malloc(size ? size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < size && (n = read(fd, buf + len, size - len)) > 0)
		len += (size_t)n;
	close(fd);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static void run_one(int dirfd, const char *name, const char *shown, struct tally *t)
{
	if (run_file(dirfd, name) < 0) {
		fprintf(stderr, "cannot read %s\n", shown);
		t->failed++;
	} else {
		t->passed++;
	}
}

static void run_dir(const char *path, struct tally *t)
{
	DIR *d = opendir(path);
	struct dirent *e;
	struct stat st;

	if (!d) {
		fprintf(stderr, "cannot open %s\n", path);
		t->failed++;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		run_one(dirfd(d), e->d_name, e->d_name, t);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	struct tally t = { 0, 0 };
	struct stat st;

	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(argv[i], &t);
		else
			run_one(AT_FDCWD, argv[i], argv[i], &t);
	}
	printf("%u passed, %u failed\n", t.passed, t.failed);
	return t.failed ? 1 : 0;
}
