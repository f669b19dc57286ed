#!/bin/bash
# A small bootable disk image, as an installer would write one, into the
# e2e cache (idempotent like build_assets.sh: a second run reuses it).
#
#   tests/e2e/build_disk.sh [CACHE_DIR]      # default /var/cache/ironboot-e2e
#
# Produces in CACHE_DIR:
#   disk.img         64 MiB, MBR partition table, one active FAT32 partition
#                    (type 0xEF, the EFI system partition) from 1 MiB on:
#                      BIOS: syslinux's mbr.bin -> the partition's syslinux
#                            boot sector -> /syslinux.cfg
#                      UEFI: \EFI\BOOT\BOOTX64.EFI = systemd-boot
#                            (systemd-boot-efi) -> /loader/entries/ironboot.conf
#                    both boot /vmlinuz (build_assets.sh's Debian kernel) with
#                    /disk-initrd.img and "ib.hostname=ironboot-disk
#                    ib.loader=syslinux|systemd-boot" on the command line.
#                    Nothing is ever mounted: mtools writes the FAT.
#   disk.img.gz      the same, gzip'd (an image an install streams)
#   disk.img.sha256  sha256sum of disk.img.gz
#
# The initramfs (busybox-static, from build_assets.sh's cache) prints
#     IRONBOOT-DISK-BOOTED <ib.hostname of the command line>
#     IRONBOOT-DISK-LOADER <ib.loader of the command line>
# on /dev/console and /dev/ttyS0, then powers off.  No root file system:
# the disk boots, and that is what the tests prove.
#
# Needs (scripts/deps.sh test): dosfstools, mtools, syslinux,
# syslinux-common, systemd-boot-efi.  Exit 0 when the image is there.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${1:-/var/cache/ironboot-e2e}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
HOSTNAME_ARG=ironboot-disk
SIZE_MIB=64
PART_START=2048			# sectors: 1 MiB

MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi

die() { echo "build_disk: $*" >&2; exit 1; }
log() { echo "build_disk: $*" >&2; }

for t in mkfs.vfat mcopy mmd syslinux; do
	command -v "$t" >/dev/null || die "$t missing (scripts/deps.sh test: dosfstools mtools syslinux)"
done
[ -f "$MBR_BIN" ] || die "$MBR_BIN missing (scripts/deps.sh test: syslinux-common)"
[ -f "$SDBOOT" ] || die "$SDBOOT missing (scripts/deps.sh test: systemd-boot-efi)"

bash "$HERE/build_assets.sh" "$CACHE" || die "build_assets.sh $CACHE failed"
CACHE=$(cd "$CACHE" && pwd)

exec 9>"$CACHE/.disk-lock"
flock -w 600 9 || die "cannot lock $CACHE/.disk-lock"
if [ -s "$CACHE/disk.img" ] && [ -s "$CACHE/disk.img.gz" ] && [ -s "$CACHE/disk.img.sha256" ] &&
	[ "$CACHE/disk.img" -nt "$0" ] && [ "$CACHE/disk.img" -nt "$CACHE/vmlinuz" ]; then
	log "cached: $CACHE/disk.img"
	exit 0
fi

work=$(mktemp -d "$CACHE/.disk-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# -- the initramfs ---------------------------------------------------------------
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys}
cp "$CACHE/busybox" "$root/bin/busybox"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# ironboot test disk: say that the disk booted, and how; power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
host=unset loader=unset
for w in $(cat /proc/cmdline); do
	case "$w" in
	ib.hostname=*) host=${w#ib.hostname=} ;;
	ib.loader=*) loader=${w#ib.loader=} ;;
	esac
done
for out in /dev/console /dev/ttyS0; do
	printf 'IRONBOOT-DISK-BOOTED %s\nIRONBOOT-DISK-LOADER %s\n' "$host" "$loader" >"$out" 2>/dev/null
done
sync
poweroff -f
while :; do sleep 1; done
EOF
chmod 755 "$root/init"
bash "$REPO/scripts/agent-image.sh" --cpio "$root" "$work/disk-initrd.img" ||
	die "writing the initramfs failed"

# -- the FAT32 partition (mtools: nothing is mounted) ------------------------------
part="$work/part.img"
part_sectors=$(( SIZE_MIB * 2048 - PART_START ))
truncate -s $(( part_sectors * 512 )) "$part"
mkfs.vfat -F 32 -s 1 -n IRONBOOT -i 1b007e57 "$part" >/dev/null || die "mkfs.vfat failed"
export MTOOLS_SKIP_CHECK=1
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
# check can miss its ticks and panic ("IO-APIC + timer doesn't work!")
cmd="console=ttyS0 no_timer_check ib.hostname=$HOSTNAME_ARG"
cat >"$work/syslinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT ironboot
PROMPT 0
TIMEOUT 0
LABEL ironboot
  LINUX /vmlinuz
  INITRD /disk-initrd.img
  APPEND $cmd ib.loader=syslinux
EOF
printf 'default ironboot.conf\ntimeout 0\n' >"$work/loader.conf"
cat >"$work/ironboot.conf" <<EOF
title   ironboot test disk
linux   /vmlinuz
initrd  /disk-initrd.img
options $cmd ib.loader=systemd-boot
EOF
mmd -i "$part" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
mcopy -i "$part" "$CACHE/vmlinuz" ::/vmlinuz
mcopy -i "$part" "$work/disk-initrd.img" ::/disk-initrd.img
mcopy -i "$part" "$work/syslinux.cfg" ::/syslinux.cfg
mcopy -i "$part" "$SDBOOT" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$part" "$work/loader.conf" ::/loader/loader.conf
mcopy -i "$part" "$work/ironboot.conf" ::/loader/entries/ironboot.conf
# Debian's syslinux(1) is the mtools installer: boot sector + ldlinux.sys/.c32
syslinux --install "$part" || die "syslinux --install failed"

# -- the disk: MBR (syslinux's boot code + one partition entry) + the partition --
disk="$work/disk.img"
"$PY" - "$MBR_BIN" "$disk" "$SIZE_MIB" "$PART_START" "$part_sectors" <<'EOF' ||
import struct, sys
mbr_bin, out, size_mib, start, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])
code = open(mbr_bin, "rb").read()[:440]
mbr = bytearray(512)
mbr[:len(code)] = code
mbr[440:444] = struct.pack("<I", 0x1B007E57)          # disk signature
# one entry: active, CHS "beyond 1024 cylinders" (LBA only), type 0xEF (ESP)
mbr[446:462] = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0xEF, b"\xfe\xff\xff",
                           start, count)
mbr[510:512] = b"\x55\xaa"
with open(out, "wb") as f:
    f.write(mbr)
    f.truncate(size_mib << 20)
EOF
	die "writing the MBR failed"
dd if="$part" of="$disk" bs=1M seek=1 conv=notrunc status=none || die "dd failed"
[ "$(stat -c %s "$disk")" -eq $(( SIZE_MIB << 20 )) ] || die "disk.img has the wrong size"

gzip -9 -n -c "$disk" >"$work/disk.img.gz"
(cd "$work" && sha256sum disk.img.gz) >"$work/disk.img.sha256"
mv -f "$work/disk.img.gz" "$CACHE/disk.img.gz"
mv -f "$work/disk.img.sha256" "$CACHE/disk.img.sha256"
mv -f "$disk" "$CACHE/disk.img"
log "built $CACHE/disk.img ($SIZE_MIB MiB; gzip $(stat -c %s "$CACHE/disk.img.gz") bytes)"
