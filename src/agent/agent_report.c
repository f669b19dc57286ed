/* The machine report, read from a root directory: see agent_report.h. */
#include "agent/agent_report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

/* Reads dirfd/path (at most cap-1 bytes) into buf, NUL-terminated, with
 * trailing blanks and newlines cut.  Returns the length or -errno. */
static ssize_t read_raw(int dirfd, const char *path, char *buf, size_t cap)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return n;
}

/* A sysfs text attribute, trimmed and sanitised, into out[IB_AGENT_TEXT_MAX]
 * ("" when absent or unreadable). */
static void read_text(int dirfd, const char *path, char *out)
{
	char raw[IB_AGENT_TEXT_MAX];
	ssize_t n = read_raw(dirfd, path, raw, sizeof(raw));
	size_t a = 0, b;

	out[0] = '\0';
	if (n <= 0)
		return;
	b = (size_t)n;
	while (a < b && (raw[a] == ' ' || raw[a] == '\t' || raw[a] == '\n'))
		a++;
	while (b > a && (raw[b - 1] == ' ' || raw[b - 1] == '\t' || raw[b - 1] == '\n' ||
			 raw[b - 1] == '\0'))
		b--;
	ib_str_sanitize((const uint8_t *)raw + a, b - a, out, IB_AGENT_TEXT_MAX);
}

/* A decimal attribute; -1 when absent or not a number. */
static int64_t read_int(int dirfd, const char *path)
{
	char buf[32], *end;
	long long v;

	if (read_raw(dirfd, path, buf, sizeof(buf)) <= 0)
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return -1;
	return v;
}

static int cmp_disk(const void *a, const void *b)
{
	return strcmp(((const struct ib_agent_disk *)a)->name,
		      ((const struct ib_agent_disk *)b)->name);
}

static int cmp_nic(const void *a, const void *b)
{
	return strcmp(((const struct ib_agent_nic *)a)->name,
		      ((const struct ib_agent_nic *)b)->name);
}

/* SCSI VPD page 0x80 (unit serial number, SPC-4 7.8.14): bytes 4.. */
static void read_vpd80(int dfd, char *out)
{
	uint8_t raw[IB_AGENT_TEXT_MAX + 4];
	ssize_t n = read_raw(dfd, "device/vpd_pg80", (char *)raw, sizeof(raw));
	size_t len, a = 4;

	if (n < 4 || raw[1] != 0x80)
		return;
	len = IB_MIN((size_t)raw[3], (size_t)n - 4);
	while (len > 0 && raw[a] == ' ') {
		a++;
		len--;
	}
	while (len > 0 && (raw[a + len - 1] == ' ' || raw[a + len - 1] == '\0'))
		len--;
	ib_str_sanitize(raw + a, len, out, IB_AGENT_TEXT_MAX);
}

/* One entry of sys/class/block; false when it is not a whole disk. */
static bool read_disk(int blockfd, const char *name, struct ib_agent_disk *d)
{
	int dfd = openat(blockfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int64_t sectors;
	bool ok = false;

	if (dfd < 0)
		return false;
	memset(d, 0, sizeof(*d));
	if (faccessat(dfd, "partition", F_OK, 0) == 0 || strlen(name) >= sizeof(d->name))
		goto out;
	strcpy(d->name, name);
	sectors = read_int(dfd, "size");	/* always 512-byte units */
	d->size = sectors > 0 ? (uint64_t)sectors * 512 : 0;
	d->logical_block = (uint32_t)IB_MAX(read_int(dfd, "queue/logical_block_size"), 0);
	d->rotational = (int)read_int(dfd, "queue/rotational");
	d->removable = read_int(dfd, "removable") == 1;
	d->readonly = read_int(dfd, "ro") == 1;
	read_text(dfd, "device/model", d->model);
	/* virtio-blk: serial; NVMe: device/serial; SCSI/SATA: VPD page 0x80 */
	read_text(dfd, "serial", d->serial);
	if (!d->serial[0])
		read_text(dfd, "device/serial", d->serial);
	if (!d->serial[0])
		read_vpd80(dfd, d->serial);
	ok = true;
out:
	close(dfd);
	return ok;
}

/* An array scan_dir() fills: fn reads one entry into an item. */
struct scan {
	bool (*fn)(int dfd, const char *name, void *item);	/* false: skip it */
	void *items;		/* the array */
	size_t item_size;	/* bytes per item */
	size_t cap;		/* items in the array */
};

/* Calls sc->fn for each entry of rootfd/dir except dot entries. */
static int scan_dir(int rootfd, const char *dir, const struct scan *sc, size_t *ret_n)
{
	int fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int err = -errno;
		close(fd);
		return err;
	}
	while ((e = readdir(d)) != NULL && n < sc->cap) {
		if (e->d_name[0] == '.')
			continue;
		if (sc->fn(dirfd(d), e->d_name, (char *)sc->items + n * sc->item_size))
			n++;
	}
	closedir(d);
	*ret_n = n;
	return 0;
}

static bool disk_cb(int dfd, const char *name, void *item)
{
	return read_disk(dfd, name, item);
}

int ib_agent_disks_scan(int rootfd, struct ib_agent_disk *out, size_t cap, size_t *ret_n)
{
	struct scan sc = { disk_cb, out, sizeof(*out), cap };
	size_t n = 0;
	int r = scan_dir(rootfd, "sys/class/block", &sc, &n);

	if (r < 0)
		return r;
	qsort(out, n, sizeof(*out), cmp_disk);
	*ret_n = n;
	return 0;
}

bool ib_agent_disk_wipeable(const struct ib_agent_disk *d)
{
	static const char *const virtual_prefixes[] = {
		"loop", "ram", "zram", "nbd", "dm-", "md", "sr", "fd", "mtdblock",
	};

	if (d->readonly || d->removable || d->size == 0)
		return false;
	for (size_t i = 0; i < IB_ARRAY_SIZE(virtual_prefixes); i++)
		if (strncmp(d->name, virtual_prefixes[i], strlen(virtual_prefixes[i])) == 0)
			return false;
	return true;
}

/* One entry of sys/class/net; false for a NIC without a device (lo,
 * bridges, bonds, tunnels). */
static bool nic_cb(int netfd, const char *name, void *item)
{
	struct ib_agent_nic *nic = item;
	int dfd = openat(netfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char link[256];
	ssize_t n;
	bool ok = false;

	if (dfd < 0)
		return false;
	memset(nic, 0, sizeof(*nic));
	if (faccessat(dfd, "device", F_OK, AT_SYMLINK_NOFOLLOW) != 0 ||
	    strlen(name) >= sizeof(nic->name))
		goto out;
	strcpy(nic->name, name);
	read_text(dfd, "address", nic->mac);
	n = readlinkat(dfd, "device/driver", link, sizeof(link) - 1);
	if (n > 0) {
		const char *base;
		link[n] = '\0';
		base = strrchr(link, '/');
		base = base ? base + 1 : link;
		ib_str_sanitize((const uint8_t *)base, strlen(base), nic->driver,
				sizeof(nic->driver));
	}
	/* reading carrier or speed of a NIC that is down fails: unknown */
	nic->link = (int)read_int(dfd, "carrier");
	nic->speed_mbps = read_int(dfd, "speed");
	if (nic->speed_mbps <= 0)
		nic->speed_mbps = -1;
	ok = true;
out:
	close(dfd);
	return ok;
}

int ib_agent_nics_scan(int rootfd, struct ib_agent_nic *out, size_t cap, size_t *ret_n)
{
	struct scan sc = { nic_cb, out, sizeof(*out), cap };
	size_t n = 0;
	int r = scan_dir(rootfd, "sys/class/net", &sc, &n);

	if (r < 0)
		return r;
	qsort(out, n, sizeof(*out), cmp_nic);
	*ret_n = n;
	return 0;
}

/* ---- the JSON ------------------------------------------------------------- */

/* s as a JSON string, or null when empty. */
static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *dmi_object(int rootfd, const char *const keys[][2], size_t n)
{
	json_t *o = json_object();
	int fd = openat(rootfd, "sys/class/dmi/id", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char v[IB_AGENT_TEXT_MAX];

	for (size_t i = 0; i < n; i++) {
		v[0] = '\0';
		if (fd >= 0)
			read_text(fd, keys[i][1], v);
		json_object_set_new(o, keys[i][0], str_or_null(v));
	}
	if (fd >= 0)
		close(fd);
	return o;
}

/* Counts of /proc/cpuinfo: threads, distinct (package, core), packages. */
static json_t *cpu_object(int rootfd)
{
	size_t cap = 1 << 20;		/* a 1024-thread machine's is ~1 MiB */
	char *text = malloc(cap);
	char model[IB_AGENT_TEXT_MAX] = "", *save = NULL, *line;
	int64_t threads = 0, phys = -1, pairs[1024][2], packages[64];
	size_t npairs = 0, npackages = 0;
	json_t *o = json_object();

	if (!text || !o) {
		free(text);
		json_decref(o);
		return NULL;
	}
	if (read_raw(rootfd, "proc/cpuinfo", text, cap) < 0)
		text[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *v;
		if (!colon)
			continue;
		v = colon + 1 + (colon[1] == ' ');
		if (strncmp(line, "processor", 9) == 0)
			threads++;
		else if (strncmp(line, "model name", 10) == 0 && !model[0])
			ib_str_sanitize((const uint8_t *)v, strlen(v), model, sizeof(model));
		else if (strncmp(line, "physical id", 11) == 0) {
			size_t i;
			phys = strtoll(v, NULL, 10);
			for (i = 0; i < npackages && packages[i] != phys; i++)
				;
			if (i == npackages && npackages < IB_ARRAY_SIZE(packages))
				packages[npackages++] = phys;
		} else if (strncmp(line, "core id", 7) == 0) {
			int64_t core = strtoll(v, NULL, 10);
			size_t i;
			for (i = 0; i < npairs && (pairs[i][0] != phys || pairs[i][1] != core); i++)
				;
			if (i == npairs && npairs < IB_ARRAY_SIZE(pairs)) {
				pairs[npairs][0] = phys;
				pairs[npairs++][1] = core;
			}
		}
	}
	json_object_set_new(o, "model", str_or_null(model));
	json_object_set_new(o, "threads", json_integer(threads));
	/* without topology lines (some VMs), every thread is a core */
	json_object_set_new(o, "cores", json_integer(npairs ? (json_int_t)npairs : threads));
	json_object_set_new(o, "sockets", npackages ? json_integer((json_int_t)npackages)
						    : json_null());
	free(text);
	return o;
}

/* MemTotal of /proc/meminfo: what the kernel can use, in bytes. */
static json_t *memory_object(int rootfd)
{
	char text[4096], *p;
	json_t *o = json_object();
	long long kb = -1;

	if (read_raw(rootfd, "proc/meminfo", text, sizeof(text)) > 0 &&
	    (p = strstr(text, "MemTotal:")) != NULL)
		kb = strtoll(p + 9, NULL, 10);
	json_object_set_new(o, "total_bytes", kb > 0 ? json_integer(kb * 1024) : json_null());
	return o;
}

static json_t *disks_array(const struct ib_agent_disk *d, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(d[i].name));
		json_object_set_new(o, "size_bytes", json_integer((json_int_t)d[i].size));
		json_object_set_new(o, "logical_block_size",
				    d[i].logical_block ? json_integer(d[i].logical_block) : json_null());
		json_object_set_new(o, "rotational", d[i].rotational < 0 ? json_null() :
				    json_boolean(d[i].rotational));
		json_object_set_new(o, "removable", json_boolean(d[i].removable));
		json_object_set_new(o, "readonly", json_boolean(d[i].readonly));
		json_object_set_new(o, "model", str_or_null(d[i].model));
		json_object_set_new(o, "serial", str_or_null(d[i].serial));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *nics_array(const struct ib_agent_nic *nic, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(nic[i].name));
		json_object_set_new(o, "mac", str_or_null(nic[i].mac));
		json_object_set_new(o, "driver", str_or_null(nic[i].driver));
		json_object_set_new(o, "link", nic[i].link < 0 ? json_null() :
				    json_boolean(nic[i].link));
		json_object_set_new(o, "speed_mbps", nic[i].speed_mbps < 0 ? json_null() :
				    json_integer(nic[i].speed_mbps));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *bmc_object(const struct ib_agent_bmc *b)
{
	json_t *o;

	if (!b || !b->present)
		return json_null();
	o = json_object();
	json_object_set_new(o, "ipv4", str_or_null(b->ipv4));
	json_object_set_new(o, "mac", str_or_null(b->mac));
	json_object_set_new(o, "source", str_or_null(b->source));
	json_object_set_new(o, "error", str_or_null(b->error));
	return o;
}

/* SMBIOS strings by the report's key and sysfs's file name. */
static const char *const system_keys[][2] = {
	{ "vendor", "sys_vendor" }, { "product", "product_name" },
	{ "version", "product_version" }, { "serial", "product_serial" },
	{ "uuid", "product_uuid" }, { "sku", "product_sku" },
};
static const char *const board_keys[][2] = {
	{ "vendor", "board_vendor" }, { "product", "board_name" },
	{ "serial", "board_serial" }, { "asset_tag", "board_asset_tag" },
};
static const char *const bios_keys[][2] = {
	{ "vendor", "bios_vendor" }, { "version", "bios_version" },
	{ "date", "bios_date" },
};
static const char *const chassis_keys[][2] = {
	{ "vendor", "chassis_vendor" }, { "serial", "chassis_serial" },
	{ "asset_tag", "chassis_asset_tag" },
};

char *ib_agent_report_json(int rootfd, const struct ib_agent_report_ctx *ctx, int *ret_err)
{
	struct ib_agent_disk *disks = calloc(IB_AGENT_DISKS_MAX, sizeof(*disks));
	struct ib_agent_nic *nics = calloc(IB_AGENT_NICS_MAX, sizeof(*nics));
	size_t ndisks = 0, nnics = 0;
	json_t *o = NULL;
	char *s = NULL;
	int r = -ENOMEM;

	if (!disks || !nics)
		goto out;
	if ((r = ib_agent_disks_scan(rootfd, disks, IB_AGENT_DISKS_MAX, &ndisks)) < 0 ||
	    (r = ib_agent_nics_scan(rootfd, nics, IB_AGENT_NICS_MAX, &nnics)) < 0)
		goto out;
	o = json_object();
	json_object_set_new(o, "agent_version", json_string(IB_VERSION));
	json_object_set_new(o, "mac", str_or_null(ctx->mac));
	json_object_set_new(o, "mode", str_or_null(ctx->mode));
	json_object_set_new(o, "system", dmi_object(rootfd, system_keys, IB_ARRAY_SIZE(system_keys)));
	json_object_set_new(o, "board", dmi_object(rootfd, board_keys, IB_ARRAY_SIZE(board_keys)));
	json_object_set_new(o, "bios", dmi_object(rootfd, bios_keys, IB_ARRAY_SIZE(bios_keys)));
	json_object_set_new(o, "chassis", dmi_object(rootfd, chassis_keys, IB_ARRAY_SIZE(chassis_keys)));
	json_object_set_new(o, "cpu", cpu_object(rootfd));
	json_object_set_new(o, "memory", memory_object(rootfd));
	json_object_set_new(o, "disks", disks_array(disks, ndisks));
	json_object_set_new(o, "nics", nics_array(nics, nnics));
	json_object_set_new(o, "bmc", bmc_object(ctx->bmc));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	r = s ? 0 : -ENOMEM;
out:
	json_decref(o);
	free(disks);
	free(nics);
	if (!s && ret_err)
		*ret_err = r;
	return s;
}
