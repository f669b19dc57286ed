#!/bin/bash
# The agent image: the Debian kernel and an initramfs whose /init is
# ironboot-agent (docs/AGENT.md).  `make agent-image` runs it.
#
#   scripts/agent-image.sh [--agent PATH] [--out DIR] [--cache DIR]
#       --agent   the static agent (default build/ironboot-agent; it must be
#                 statically linked: checked with file(1))
#       --out     where vmlinuz and initrd.img go (default build/agent)
#       --cache   tests/e2e/build_assets.sh's cache, reused for the kernel
#                 and busybox (default $IB_E2E_ASSETS or /var/cache/ironboot-e2e)
#
#   scripts/agent-image.sh --cpio ROOT OUT
#       writes the directory ROOT as a gzip'd cpio (newc) initramfs OUT,
#       with /dev/console added (also used by tests/e2e/build_disk.sh)
#
# The initramfs:
#   /init                         the agent (PID 1: mounts, then runs itself
#                                 with --system and restarts it if it dies)
#   /bin/busybox                  busybox-static: udhcpc (and a shell for
#                                 people; the agent needs none)
#   /bin/ironboot-agent           -> /init
#   /bin/ironboot-agent-dhcp-event -> /init (udhcpc's event script)
#   /lib/modules/<kver>/...       the drivers below, and their dependencies
#   /lib/modules/ironboot-agent.list   their paths in load order
#
# Drivers: the Debian kernel has virtio, SCSI, ATA, NVMe and every NIC as
# modules, so the image carries the common ones (virtio for VMs; AHCI,
# ata_piix, NVMe, megaraid_sas, mpt3sas for disks; Intel, Broadcom,
# Realtek and Mellanox NICs; the IPMI driver for the BMC) and the agent
# loads them all with finit_module() in dependency order.  Dependencies
# come from each module's own modinfo "depends=" (the .deb has no
# modules.dep).  Firmware files are not included: a NIC that needs one
# (some bnx2x, r8169, ice in full mode) may not come up.
#
# The selected modules are cached per kernel in CACHE/agent-modules-<pkg>
# (the kernel .deb is downloaded once, ~70 MB, and dropped).  Only Debian's
# apt sources are contacted (apt-get download).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

die() { echo "agent-image: $*" >&2; exit 1; }
log() { echo "agent-image: $*" >&2; }

# -- cpio (newc) + gzip, written by python3: directories, files, symlinks ------
write_cpio() {
	"$PY" - "$1" "$2" <<'EOF'
import gzip, os, stat, sys
root, out = sys.argv[1], sys.argv[2]
ino = [300000]
def entry(z, name, mode, data=b"", nlink=1, rdev=(0, 0)):
    ino[0] += 1
    f = [ino[0], mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
         len(name) + 1, 0]
    h = b"070701" + b"".join(b"%08X" % v for v in f) + name.encode() + b"\0"
    z.write(h + b"\0" * (-len(h) % 4))
    z.write(data + b"\0" * (-len(data) % 4))
with gzip.open(out + ".tmp", "wb", 9) as z:
    for d, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(d, root)
        if rel != ".":
            entry(z, rel, stat.S_IFDIR | 0o755, nlink=2)
        # symlinks to directories show up in dirs: write them as links
        for fn in sorted(files + [x for x in dirs if os.path.islink(os.path.join(d, x))]):
            p = os.path.join(d, fn)
            name = os.path.normpath(os.path.join(rel, fn))
            if os.path.islink(p):
                entry(z, name, stat.S_IFLNK | 0o777, os.readlink(p).encode())
            else:
                with open(p, "rb") as fh:
                    entry(z, name, stat.S_IFREG | (os.stat(p).st_mode & 0o777), fh.read())
    if not os.path.exists(os.path.join(root, "dev")):
        entry(z, "dev", stat.S_IFDIR | 0o755, nlink=2)
    # the kernel's console before /init runs (and before devtmpfs)
    entry(z, "dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    entry(z, "TRAILER!!!", 0)
os.replace(out + ".tmp", out)
EOF
}

if [ "${1:-}" = "--cpio" ]; then
	[ $# -eq 3 ] || die "usage: $0 --cpio ROOT OUT"
	[ -d "$2" ] || die "$2 is not a directory"
	write_cpio "$2" "$3"
	exit 0
fi

AGENT="$REPO/build/ironboot-agent"
OUT="$REPO/build/agent"
CACHE=${IB_E2E_ASSETS:-/var/cache/ironboot-e2e}
while [ $# -gt 0 ]; do
	case $1 in
	--agent) AGENT=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--cache) CACHE=$2; shift 2 ;;
	*) die "usage: $0 [--agent PATH] [--out DIR] [--cache DIR] | --cpio ROOT OUT" ;;
	esac
done

[ -x "$AGENT" ] || die "$AGENT missing: build it first (make, or ninja -C build)"
# The image has no libc: the agent must carry its own.
case $(file -b "$AGENT") in
*"statically linked"*) ;;
*) die "$AGENT is not statically linked ($(file -b "$AGENT" | cut -c1-80)); use the plain build, not a sanitizer build" ;;
esac

# -- the kernel and busybox: build_assets.sh's cache ---------------------------
bash "$REPO/tests/e2e/build_assets.sh" "$CACHE" ||
	die "tests/e2e/build_assets.sh $CACHE failed"
CACHE=$(cd "$CACHE" && pwd)
PKG=$(cat "$CACHE/VERSION")
for f in vmlinuz busybox; do
	[ -s "$CACHE/$f" ] || die "$CACHE/$f missing after build_assets.sh"
done

exec 9>"$CACHE/.agent-lock"
flock -w 900 9 || die "cannot lock $CACHE/.agent-lock"
work=$(mktemp -d "$CACHE/.agent-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# -- modules -------------------------------------------------------------------
# by module name (as the kernel spells it, '_' for '-'); dependencies added
MODULES="virtio_pci virtio_net virtio_blk virtio_scsi
  nvme ahci ata_piix sd_mod megaraid_sas mpt3sas
  e1000 e1000e igb igc ixgbe i40e ice r8169 tg3 bnxt_en mlx5_core
  ipmi_si ipmi_devintf"
MODCACHE="$CACHE/agent-modules-$PKG"
if [ -s "$MODCACHE/lib/modules/ironboot-agent.list" ] &&
	[ "$MODCACHE/lib/modules/ironboot-agent.list" -nt "$0" ]; then
	log "modules: cached ($PKG)"
else
	log "modules: downloading $PKG"
	(cd "$work" && apt-get download -qq -o APT::Sandbox::User=root "$PKG" >/dev/null) ||
		die "apt-get download $PKG failed"
	deb=$(ls "$work"/linux-image-*.deb | head -n 1)
	dpkg-deb -x "$deb" "$work/k" || die "dpkg-deb -x $deb failed"
	rm -f "$deb"
	rm -rf "$work/mods"
	"$PY" - "$work/k" "$work/mods" $MODULES <<'EOF' || die "selecting the modules failed"
import os, re, shutil, sys
src, dst, want = sys.argv[1], sys.argv[2], sys.argv[3:]
(kver,) = os.listdir(os.path.join(src, "lib/modules"))
base = os.path.join("lib/modules", kver)
mods = {}
for d, _, files in os.walk(os.path.join(src, base, "kernel")):
    for f in files:
        if f.endswith(".ko"):
            mods[f[:-3].replace("-", "_")] = os.path.relpath(os.path.join(d, f), src)
def depends(name):
    data = open(os.path.join(src, mods[name]), "rb").read()
    m = re.search(rb"(?:^|\0)depends=([^\0]*)\0", data)
    return [x.replace("-", "_") for x in m.group(1).decode().split(",") if x] if m else []
order, seen = [], set()
def visit(name):
    if name in seen:
        return
    if name not in mods:
        sys.exit(f"module {name} is not in the kernel package")
    seen.add(name)
    for dep in depends(name):
        visit(dep)
    order.append(name)
for w in want:
    visit(w)
for name in order:
    os.makedirs(os.path.dirname(os.path.join(dst, mods[name])), exist_ok=True)
    shutil.copy2(os.path.join(src, mods[name]), os.path.join(dst, mods[name]))
with open(os.path.join(dst, "lib/modules/ironboot-agent.list"), "w") as f:
    f.write("# ironboot-agent loads these in order (scripts/agent-image.sh)\n")
    for name in order:
        f.write("/" + mods[name] + "\n")
print(f"{len(order)} modules for {kver}")
EOF
	rm -rf "$work/k" "$MODCACHE"
	mv "$work/mods" "$MODCACHE"
fi

# -- the initramfs ---------------------------------------------------------------
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc}
cp "$AGENT" "$root/init"
strip "$root/init" 2>/dev/null || true
chmod 755 "$root/init"
cp "$CACHE/busybox" "$root/bin/busybox"
ln -s /init "$root/bin/ironboot-agent"
ln -s /init "$root/bin/ironboot-agent-dhcp-event"
cp -a "$MODCACHE/lib" "$root/lib"
cat >"$root/etc/ironboot-agent-release" <<EOF
kernel=$PKG
agent=$(sha256sum "$root/init" | cut -d' ' -f1)
EOF
mkdir -p "$OUT"
write_cpio "$root" "$work/initrd.img"
cp "$CACHE/vmlinuz" "$work/vmlinuz"
mv -f "$work/vmlinuz" "$OUT/vmlinuz"
mv -f "$work/initrd.img" "$OUT/initrd.img"
log "agent $(stat -c %s "$root/init") bytes (stripped), $(grep -c '^/' "$root/lib/modules/ironboot-agent.list") modules"
log "ready: $OUT/vmlinuz ($(stat -c %s "$OUT/vmlinuz") bytes), $OUT/initrd.img ($(stat -c %s "$OUT/initrd.img") bytes)"
