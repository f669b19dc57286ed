/*
 * What the agent tells the daemon about the machine (docs/AGENT.md,
 * "Report"), read from a root directory: the real "/" on a machine, a
 * fixture tree in the tests.  Only these paths under it are read:
 *
 *   sys/class/dmi/id/        system, board and BIOS identity (SMBIOS)
 *   proc/cpuinfo              CPU model, threads, cores, sockets
 *   proc/meminfo              MemTotal
 *   sys/class/block/          every whole block device (partitions skipped)
 *   sys/class/net/            every NIC with a device (virtual ones skipped)
 *
 * No writes, no network; strings are trimmed and sanitised (printable
 * ASCII, others as \xNN) before they reach the JSON.
 */
#ifndef IB_AGENT_REPORT_H
#define IB_AGENT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent_proto.h"

#define IB_AGENT_DISKS_MAX 256		/* block devices reported */
#define IB_AGENT_NICS_MAX 64		/* NICs reported */
#define IB_AGENT_TEXT_MAX 128		/* bytes of one reported string */

/* One whole block device. */
struct ib_agent_disk {
	char name[IB_AGENT_DISK_NAME_MAX + 1];	/* kernel name: "vda", "nvme0n1" */
	uint64_t size;				/* bytes */
	uint32_t logical_block;			/* bytes per logical block, 0 unknown */
	int rotational;				/* 1, 0, or -1 unknown */
	bool removable;				/* removable media (USB, CD) */
	bool readonly;				/* the kernel's ro flag */
	char model[IB_AGENT_TEXT_MAX];		/* "" when unknown */
	char serial[IB_AGENT_TEXT_MAX];		/* "" when unknown */
};

/* One NIC. */
struct ib_agent_nic {
	char name[IB_AGENT_DISK_NAME_MAX + 1];	/* "eth0", "enp1s0" */
	char mac[IB_AGENT_TEXT_MAX];		/* "aa:bb:cc:dd:ee:ff" */
	char driver[IB_AGENT_TEXT_MAX];		/* "virtio_net", "" when unknown */
	int link;				/* carrier: 1, 0, or -1 unknown */
	int64_t speed_mbps;			/* -1 when unknown */
};

/* What the BMC said, when there is one (agent_bmc.c fills it). */
struct ib_agent_bmc {
	bool present;				/* /dev/ipmi0 exists */
	char ipv4[16];				/* LAN address, "" when unknown */
	char mac[18];				/* LAN MAC, "" when unknown */
	char source[16];			/* "static", "dhcp", ... or "" */
	char error[IB_AGENT_TEXT_MAX];		/* why the rest is empty, or "" */
};

/* The report's context beyond what the tree holds. */
struct ib_agent_report_ctx {
	const char *mac;			/* the boot NIC's MAC */
	const char *mode;			/* ib.mode=, by name */
	const struct ib_agent_bmc *bmc;		/* or NULL: no BMC looked for */
};

/*
 * Every whole block device under rootfd's sys/class/block, sorted by name,
 * into out[cap] (*ret_n of them).  0, or -errno when the directory cannot
 * be read.  More than cap: the first cap by name.
 */
int ib_agent_disks_scan(int rootfd, struct ib_agent_disk *out, size_t cap, size_t *ret_n);

/*
 * Whether a wipe touches d when the daemon names no disks: a writable,
 * non-removable, non-empty disk that is not a virtual device (loop, ram,
 * zram, nbd, dm-*, md*, sr*, fd*, mtdblock*).
 */
bool ib_agent_disk_wipeable(const struct ib_agent_disk *d);

/* Every NIC with a device under sys/class/net, sorted by name. */
int ib_agent_nics_scan(int rootfd, struct ib_agent_nic *out, size_t cap, size_t *ret_n);

/*
 * The report body (JSON text; free() it) or NULL (-ENOMEM, or the
 * block/net directories cannot be read: *ret_err says which).
 */
char *ib_agent_report_json(int rootfd, const struct ib_agent_report_ctx *ctx, int *ret_err);

#endif
