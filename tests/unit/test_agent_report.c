/* Unit tests for the machine report, read from fixture trees made here
 * (src/agent/agent_report.c), and the IPMI LAN messages (agent_ipmi.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/agent_ipmi.h"
#include "agent/agent_report.h"

/* A fixture tree under a temporary directory. */
struct tree {
	char root[64];		/* its path */
	int fd;			/* open on root */
};

/* Writes root/path (parents made) with len bytes of text. */
static void put_n(struct tree *t, const char *path, const char *text, size_t len)
{
	char full[512], *slash;
	int fd;

	snprintf(full, sizeof(full), "%s/%s", t->root, path);
	for (slash = strchr(full + strlen(t->root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(full, 0755);
		*slash = '/';
	}
	fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void put(struct tree *t, const char *path, const char *text)
{
	put_n(t, path, text, strlen(text));
}

static void link_to(struct tree *t, const char *path, const char *target)
{
	char full[512];

	snprintf(full, sizeof(full), "%s/%s", t->root, path);
	assert_int_equal(symlink(target, full), 0);
}

static void mkdir_p(struct tree *t, const char *path)
{
	put(t, path, "");	/* makes the parents; then the file becomes a dir */
	{
		char full[512];
		snprintf(full, sizeof(full), "%s/%s", t->root, path);
		unlink(full);
		assert_int_equal(mkdir(full, 0755), 0);
	}
}

static void tree_rm(struct tree *t)
{
	char cmd[128];

	close(t->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	assert_int_equal(system(cmd), 0);
}

static void tree_new(struct tree *t)
{
	strcpy(t->root, "/tmp/ib-agent-report-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	t->fd = -1;
}

static void tree_open(struct tree *t)
{
	t->fd = open(t->root, O_RDONLY | O_DIRECTORY);
	assert_true(t->fd >= 0);
}

/* A small server as sysfs and procfs show it. */
static void make_server(struct tree *t)
{
	static const char vpd80[] = "\x00\x80\x00\x0c  WD-ABC123  ";

	tree_new(t);
	put(t, "sys/class/dmi/id/sys_vendor", "Supermicro\n");
	put(t, "sys/class/dmi/id/product_name", "SYS-1029P-WTR   \n");
	put(t, "sys/class/dmi/id/product_serial", "S1234\x01X\n");
	put(t, "sys/class/dmi/id/product_uuid", "6b8f2a4c-1d3e-4f50-9a7b-0c1d2e3f4a5c\n");
	put(t, "sys/class/dmi/id/board_vendor", "Supermicro\n");
	put(t, "sys/class/dmi/id/board_name", "X11DDW-NT\n");
	put(t, "sys/class/dmi/id/bios_version", "3.4\n");
	put(t, "sys/class/dmi/id/chassis_serial", "\n");	/* blank: null */
	put(t, "proc/cpuinfo",
	    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6130\nphysical id\t: 0\ncore id\t\t: 0\n\n"
	    "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Gold 6130\nphysical id\t: 0\ncore id\t\t: 0\n\n"
	    "processor\t: 2\nmodel name\t: Intel(R) Xeon(R) Gold 6130\nphysical id\t: 0\ncore id\t\t: 1\n\n"
	    "processor\t: 3\nmodel name\t: Intel(R) Xeon(R) Gold 6130\nphysical id\t: 1\ncore id\t\t: 0\n\n");
	put(t, "proc/meminfo", "MemTotal:       65843228 kB\nMemFree:         1000 kB\n");
	/* disks: virtio with serial, NVMe, SATA (VPD serial), a partition,
	 * a CD drive, a loop device */
	put(t, "sys/class/block/vda/size", "131072\n");
	put(t, "sys/class/block/vda/queue/rotational", "1\n");
	put(t, "sys/class/block/vda/queue/logical_block_size", "512\n");
	put(t, "sys/class/block/vda/removable", "0\n");
	put(t, "sys/class/block/vda/ro", "0\n");
	put(t, "sys/class/block/vda/serial", "IB-DISK-0001\n");
	put(t, "sys/class/block/vda1/size", "2048\n");
	put(t, "sys/class/block/vda1/partition", "1\n");
	put(t, "sys/class/block/nvme0n1/size", "1953525168\n");
	put(t, "sys/class/block/nvme0n1/queue/rotational", "0\n");
	put(t, "sys/class/block/nvme0n1/queue/logical_block_size", "4096\n");
	put(t, "sys/class/block/nvme0n1/device/model", "Samsung SSD 980 PRO 1TB                 \n");
	put(t, "sys/class/block/nvme0n1/device/serial", "S5GXNF0R123456      \n");
	put(t, "sys/class/block/sda/size", "7814037168\n");
	put(t, "sys/class/block/sda/device/model", "WDC WD40EFRX-68N\n");
	put_n(t, "sys/class/block/sda/device/vpd_pg80", vpd80, sizeof(vpd80) - 1);
	put(t, "sys/class/block/sr0/size", "2097152\n");
	put(t, "sys/class/block/sr0/removable", "1\n");
	put(t, "sys/class/block/loop0/size", "0\n");
	/* NICs: virtio with a driver link, one down (no carrier/speed), lo and
	 * a bridge without a device */
	put(t, "sys/class/net/eth0/address", "52:54:00:00:00:30\n");
	put(t, "sys/class/net/eth0/carrier", "1\n");
	put(t, "sys/class/net/eth0/speed", "-1\n");
	mkdir_p(t, "sys/class/net/eth0/device");
	link_to(t, "sys/class/net/eth0/device/driver", "../../../bus/virtio/drivers/virtio_net");
	put(t, "sys/class/net/eno2/address", "3c:ec:ef:00:00:02\n");
	put(t, "sys/class/net/eno2/speed", "10000\n");
	mkdir_p(t, "sys/class/net/eno2/device");
	link_to(t, "sys/class/net/eno2/device/driver", "../../../../bus/pci/drivers/ixgbe");
	put(t, "sys/class/net/lo/address", "00:00:00:00:00:00\n");
	put(t, "sys/class/net/br0/address", "02:00:00:00:00:01\n");
	tree_open(t);
}

static json_t *report(struct tree *t, const struct ib_agent_bmc *bmc)
{
	struct ib_agent_report_ctx ctx = { .mac = "52:54:00:00:00:30", .mode = "discover",
					   .bmc = bmc };
	int err = 0;
	char *s = ib_agent_report_json(t->fd, &ctx, &err);
	json_t *o;

	assert_non_null(s);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	free(s);
	return o;
}

#define STR(o, k) json_string_value(json_object_get((o), (k)))
#define INT(o, k) json_integer_value(json_object_get((o), (k)))

static void test_report_server(void **state)
{
	struct tree t;
	json_t *o, *sys, *cpu, *disks, *nics, *d;

	make_server(&t);
	o = report(&t, NULL);
	assert_string_equal(STR(o, "agent_version"), IB_VERSION);
	assert_string_equal(STR(o, "mac"), "52:54:00:00:00:30");
	assert_string_equal(STR(o, "mode"), "discover");
	sys = json_object_get(o, "system");
	assert_string_equal(STR(sys, "vendor"), "Supermicro");
	assert_string_equal(STR(sys, "product"), "SYS-1029P-WTR");	/* trimmed */
	assert_string_equal(STR(sys, "serial"), "S1234\\x01X");	/* sanitised */
	assert_string_equal(STR(sys, "uuid"), "6b8f2a4c-1d3e-4f50-9a7b-0c1d2e3f4a5c");
	assert_true(json_is_null(json_object_get(sys, "sku")));	/* absent */
	assert_string_equal(STR(json_object_get(o, "board"), "product"), "X11DDW-NT");
	assert_string_equal(STR(json_object_get(o, "bios"), "version"), "3.4");
	assert_true(json_is_null(json_object_get(json_object_get(o, "chassis"), "serial")));
	cpu = json_object_get(o, "cpu");
	assert_string_equal(STR(cpu, "model"), "Intel(R) Xeon(R) Gold 6130");
	assert_int_equal(INT(cpu, "threads"), 4);
	assert_int_equal(INT(cpu, "cores"), 3);		/* (0,0) (0,1) (1,0) */
	assert_int_equal(INT(cpu, "sockets"), 2);
	assert_int_equal(INT(json_object_get(o, "memory"), "total_bytes"), 65843228ll * 1024);
	assert_true(json_is_null(json_object_get(o, "bmc")));

	/* every whole disk, by name; partitions are not disks */
	disks = json_object_get(o, "disks");
	assert_int_equal(json_array_size(disks), 5);
	assert_string_equal(STR(json_array_get(disks, 0), "name"), "loop0");
	d = json_array_get(disks, 1);
	assert_string_equal(STR(d, "name"), "nvme0n1");
	assert_int_equal(INT(d, "size_bytes"), 1953525168ll * 512);
	assert_int_equal(INT(d, "logical_block_size"), 4096);
	assert_true(json_is_false(json_object_get(d, "rotational")));
	assert_string_equal(STR(d, "model"), "Samsung SSD 980 PRO 1TB");
	assert_string_equal(STR(d, "serial"), "S5GXNF0R123456");
	d = json_array_get(disks, 2);
	assert_string_equal(STR(d, "name"), "sda");
	assert_string_equal(STR(d, "serial"), "WD-ABC123");	/* from VPD 0x80 */
	assert_true(json_is_null(json_object_get(d, "rotational")));	/* unknown */
	d = json_array_get(disks, 3);
	assert_string_equal(STR(d, "name"), "sr0");
	assert_true(json_is_true(json_object_get(d, "removable")));
	d = json_array_get(disks, 4);
	assert_string_equal(STR(d, "name"), "vda");
	assert_int_equal(INT(d, "size_bytes"), 64ll << 20);
	assert_true(json_is_true(json_object_get(d, "rotational")));
	assert_true(json_is_null(json_object_get(d, "model")));
	assert_string_equal(STR(d, "serial"), "IB-DISK-0001");

	/* NICs with a device only */
	nics = json_object_get(o, "nics");
	assert_int_equal(json_array_size(nics), 2);
	d = json_array_get(nics, 0);
	assert_string_equal(STR(d, "name"), "eno2");
	assert_string_equal(STR(d, "driver"), "ixgbe");
	assert_true(json_is_null(json_object_get(d, "link")));
	assert_int_equal(INT(d, "speed_mbps"), 10000);
	d = json_array_get(nics, 1);
	assert_string_equal(STR(d, "name"), "eth0");
	assert_string_equal(STR(d, "mac"), "52:54:00:00:00:30");
	assert_string_equal(STR(d, "driver"), "virtio_net");
	assert_true(json_is_true(json_object_get(d, "link")));
	assert_true(json_is_null(json_object_get(d, "speed_mbps")));
	json_decref(o);
	tree_rm(&t);
}

static void test_wipeable(void **state)
{
	struct tree t;
	struct ib_agent_disk d[16];
	size_t n = 0;
	const char *want = "nvme0n1 sda vda ";
	char got[64] = "";

	make_server(&t);
	assert_int_equal(ib_agent_disks_scan(t.fd, d, 16, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		if (ib_agent_disk_wipeable(&d[i])) {
			strcat(got, d[i].name);
			strcat(got, " ");
		}
	assert_string_equal(got, want);
	/* the cap keeps the first by name */
	assert_int_equal(ib_agent_disks_scan(t.fd, d, 2, &n), 0);
	assert_true(n == 2);
	tree_rm(&t);
	{
		static const struct {
			struct ib_agent_disk d;
			bool ok;
		} cases[] = {
			{ { .name = "sdb", .size = 1 }, true },
			{ { .name = "sdb", .size = 0 }, false },
			{ { .name = "sdb", .size = 1, .readonly = true }, false },
			{ { .name = "sdb", .size = 1, .removable = true }, false },
			{ { .name = "dm-0", .size = 1 }, false },
			{ { .name = "md127", .size = 1 }, false },
			{ { .name = "zram0", .size = 1 }, false },
			{ { .name = "nbd3", .size = 1 }, false },
			{ { .name = "mmcblk0", .size = 1 }, true },
			{ { .name = "xvda", .size = 1 }, true },
		};
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			assert_int_equal(ib_agent_disk_wipeable(&cases[i].d), cases[i].ok);
	}
}

static void test_report_bare(void **state)
{
	struct tree t;
	struct ib_agent_bmc bmc = { .present = true, .ipv4 = "198.18.9.9", .source = "dhcp" };
	json_t *o, *b;
	int err = 0;
	struct ib_agent_report_ctx ctx = { .mac = "m", .mode = "wipe" };

	/* no sys/class/block: no report (the agent cannot know the disks) */
	tree_new(&t);
	tree_open(&t);
	assert_null(ib_agent_report_json(t.fd, &ctx, &err));
	assert_int_equal(err, -ENOENT);
	tree_rm(&t);
	/* empty directories, no DMI, no proc: nulls, empty lists */
	tree_new(&t);
	mkdir_p(&t, "sys/class/block");
	mkdir_p(&t, "sys/class/net");
	tree_open(&t);
	o = report(&t, &bmc);
	assert_int_equal(json_array_size(json_object_get(o, "disks")), 0);
	assert_int_equal(json_array_size(json_object_get(o, "nics")), 0);
	assert_true(json_is_null(json_object_get(json_object_get(o, "system"), "vendor")));
	assert_true(json_is_null(json_object_get(json_object_get(o, "cpu"), "model")));
	assert_int_equal(INT(json_object_get(o, "cpu"), "threads"), 0);
	assert_true(json_is_null(json_object_get(json_object_get(o, "memory"), "total_bytes")));
	b = json_object_get(o, "bmc");
	assert_string_equal(STR(b, "ipv4"), "198.18.9.9");
	assert_string_equal(STR(b, "source"), "dhcp");
	assert_true(json_is_null(json_object_get(b, "mac")));
	json_decref(o);
	tree_rm(&t);
}

static void test_ipmi_lan(void **state)
{
	struct ib_agent_bmc b = { 0 };
	uint8_t req[4];
	static const uint8_t ip[] = { 0x00, 0x11, 198, 18, 0, 200 };
	static const uint8_t src[] = { 0x00, 0x11, 0x02 };
	static const uint8_t mac[] = { 0x00, 0x11, 0x0c, 0xc4, 0x7a, 0x01, 0x02, 0x03 };
	static const uint8_t bad_cc[] = { 0xc1 };
	static const uint8_t short_ip[] = { 0x00, 0x11, 198, 18 };

	ib_agent_ipmi_lan_request(1, IB_AGENT_IPMI_LAN_IP, req);
	assert_memory_equal(req, "\x01\x03\x00\x00", 4);
	ib_agent_ipmi_lan_request(0x8f, IB_AGENT_IPMI_LAN_MAC, req);
	assert_memory_equal(req, "\x0f\x05\x00\x00", 4);	/* never the revision bit */
	assert_int_equal(ib_agent_ipmi_lan_apply(IB_AGENT_IPMI_LAN_IP, ip, sizeof(ip), &b), 0);
	assert_string_equal(b.ipv4, "198.18.0.200");
	assert_int_equal(ib_agent_ipmi_lan_apply(IB_AGENT_IPMI_LAN_IP_SOURCE, src, sizeof(src), &b), 0);
	assert_string_equal(b.source, "dhcp");
	assert_int_equal(ib_agent_ipmi_lan_apply(IB_AGENT_IPMI_LAN_MAC, mac, sizeof(mac), &b), 0);
	assert_string_equal(b.mac, "0c:c4:7a:01:02:03");
	assert_int_equal(ib_agent_ipmi_lan_apply(IB_AGENT_IPMI_LAN_IP, bad_cc, 1, &b), -EIO);
	assert_int_equal(ib_agent_ipmi_lan_apply(IB_AGENT_IPMI_LAN_IP, short_ip, sizeof(short_ip), &b),
			 -EBADMSG);
	assert_int_equal(ib_agent_ipmi_lan_apply(IB_AGENT_IPMI_LAN_IP, ip, 0, &b), -EBADMSG);
	assert_int_equal(ib_agent_ipmi_lan_apply((enum ib_agent_ipmi_lan_param)9, ip, sizeof(ip), &b),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_server),
		cmocka_unit_test(test_wipeable),
		cmocka_unit_test(test_report_bare),
		cmocka_unit_test(test_ipmi_lan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
