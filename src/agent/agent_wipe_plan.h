/*
 * What a wipe zeroes on a disk of a given size.  Pure.
 *
 * A discard (BLKDISCARD) of the whole disk comes first where the device
 * supports it, but a discard does not promise that reads return zeroes
 * afterwards, so these ranges are always zeroed as well: what is left is
 * a disk no firmware, kernel or blkid recognises anything on.
 *
 *   - the first 16 MiB: the MBR and the primary GPT (LBA 0..33), and the
 *     superblocks and labels of everything blkid/wipefs knows at the start
 *     of a device (ext2/3/4 at 1 KiB, XFS at 0, btrfs at 64 KiB, LVM2 PV at
 *     512 B, LUKS at 0 and its second header at 16 KiB, md 1.1/1.2 at 0 and
 *     4 KiB, ZFS labels L0/L1 in the first 512 KiB, swap at 4 KiB, FAT and
 *     NTFS boot sectors at 0, ISO 9660 at 32 KiB, bcache at 4 KiB), and the
 *     bootloader gap most partitioning leaves before the first partition;
 *   - the last 16 MiB: the backup GPT (last 33 LBAs), md 0.90/1.0 (within
 *     the last 128 KiB), ZFS labels L2/L3 (the last 512 KiB), and the
 *     DDF/Intel RAID metadata blkid finds at the end;
 *   - the btrfs superblock mirrors at 64 MiB, 256 GiB and 1 PiB (4 KiB
 *     each), which btrfs itself uses to recover a "wiped" filesystem.
 *
 * A disk of 32 MiB or less is zeroed whole.  Ranges are sorted, do not
 * overlap and lie inside the disk.
 */
#ifndef IB_AGENT_WIPE_PLAN_H
#define IB_AGENT_WIPE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define IB_AGENT_WIPE_EDGE (16ull << 20)	/* bytes zeroed at each end */
#define IB_AGENT_WIPE_RANGES_MAX 8		/* ranges of one plan, at most */

/* One range to zero. */
struct ib_agent_range {
	uint64_t off;		/* first byte */
	uint64_t len;		/* bytes, > 0 */
	const char *why;	/* what lives there (static text) */
};

/*
 * The ranges to zero on a disk of size bytes, into out[IB_AGENT_WIPE_RANGES_MAX].
 * Returns how many (0 for an empty disk).
 */
size_t ib_agent_wipe_plan(uint64_t size, struct ib_agent_range out[IB_AGENT_WIPE_RANGES_MAX]);

/* The sum of the plan's lengths. */
uint64_t ib_agent_wipe_plan_bytes(const struct ib_agent_range *r, size_t n);

#endif
