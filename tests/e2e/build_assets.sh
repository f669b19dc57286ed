#!/bin/bash
# Build the boot assets of the end-to-end Linux boots and the demo, into a
# cache directory (idempotent: a second run reuses what is there).
#
#   tests/e2e/build_assets.sh [CACHE_DIR]      # default /var/cache/ironboot-e2e
#
# Produces in CACHE_DIR:
#   vmlinuz      the newest Debian 12 kernel (linux-image-6.1.0-N-amd64),
#                taken out of the .deb (apt-get download + dpkg-deb -x; nothing
#                is installed on this machine)
#   initrd.img   a busybox initramfs (cpio newc, gzip; ~1 MB).  Its /init
#                mounts proc/sys/dev, prints
#                    IRONBOOT-MARKER: <value of ib.marker= on the cmdline>
#                to /dev/console and /dev/ttyS0, then `poweroff -f`.
#                No modules, no network: iPXE has already fetched everything.
#   VERSION      the kernel package name (the cache key)
#
# An assets directory links to these files; ipxe.efi for UEFI HTTP boot is
# a link to Debian's /usr/lib/ipxe/ipxe.efi, not a copy (ironbootd serves
# the symlinks its operator makes).
#
# busybox-static Conflicts: busybox (which the integration tests use), so it
# is not installed either: its .deb is downloaded and unpacked.  The cpio
# archive is written by python3 (cpio(1) is not needed).
#
# Only Debian's apt sources are contacted (apt-get download).  Exit status
# 0 when every asset is there, non-zero with a message on stderr otherwise.
set -euo pipefail

CACHE=${1:-/var/cache/ironboot-e2e}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

die() { echo "build_assets: $*" >&2; exit 1; }
log() { echo "build_assets: $*" >&2; }

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
exec 9>"$CACHE/.lock"
flock -w 600 9 || die "cannot lock $CACHE/.lock"

work=$(mktemp -d "$CACHE/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# -- (a) kernel -------------------------------------------------------------
# newest linux-image-6.1.0-<N>-amd64 the apt sources know (signed or not:
# the image is the same bzImage)
newest_kernel() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1
}

want=""
if [ -s "$CACHE/vmlinuz" ] && [ -s "$CACHE/VERSION" ]; then
	want=$(cat "$CACHE/VERSION")
	log "kernel: cached ($want)"
else
	pkg=$(newest_kernel)
	if [ -z "$pkg" ]; then
		log "no linux-image-6.1.0-*-amd64 in the apt cache; running apt-get update"
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(newest_kernel)
	fi
	[ -n "$pkg" ] || die "no linux-image-6.1.0-N-amd64 package found (apt-cache search)"
	log "kernel: downloading $pkg"
	(cd "$work" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
		die "apt-get download $pkg failed"
	deb=$(ls "$work"/linux-image-*.deb | head -n 1)
	dpkg-deb -x "$deb" "$work/kernel" || die "dpkg-deb -x $deb failed"
	img=$(ls "$work"/kernel/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$img" ] || die "$deb holds no boot/vmlinuz-*"
	cp "$img" "$work/vmlinuz"
	mv -f "$work/vmlinuz" "$CACHE/vmlinuz"
	echo "$pkg" >"$CACHE/VERSION"
	rm -rf "$work/kernel" "$deb"
	want=$pkg
fi

# -- (b) busybox initramfs ---------------------------------------------------
if [ -s "$CACHE/initrd.img" ] && [ -x "$CACHE/busybox" ] &&
	[ "$CACHE/initrd.img" -nt "$0" ]; then
	log "initrd: cached"
else
	if [ ! -x "$CACHE/busybox" ]; then
		log "initrd: downloading busybox-static"
		(cd "$work" && apt-get download -qq -o APT::Sandbox::User=root busybox-static >/dev/null) ||
			die "apt-get download busybox-static failed"
		deb=$(ls "$work"/busybox-static_*.deb | head -n 1)
		dpkg-deb -x "$deb" "$work/bb" || die "dpkg-deb -x $deb failed"
		[ -x "$work/bb/bin/busybox" ] || die "$deb holds no bin/busybox"
		cp "$work/bb/bin/busybox" "$CACHE/busybox.tmp"
		mv -f "$CACHE/busybox.tmp" "$CACHE/busybox"
	fi
	root="$work/root"
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp}
	cp "$CACHE/busybox" "$root/bin/busybox"
	cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# ironboot e2e initramfs: report the marker of the kernel command line, stop.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
marker=unset
for w in $(cat /proc/cmdline); do
	case "$w" in ib.marker=*) marker=${w#ib.marker=} ;; esac
done
line="IRONBOOT-MARKER: $marker"
echo "$line" >/dev/console
echo "$line" >/dev/ttyS0 2>/dev/null
sync
poweroff -f
# not reached; never let init exit (kernel panic)
while :; do sleep 1; done
EOF
	chmod 755 "$root/init"
	# cpio newc, gzip -9: python3's standard library, so cpio(1) is not needed
	"$PY" - "$root" "$work/initrd.img" <<'EOF' || die "writing the cpio archive failed"
import gzip, os, stat, sys
root, out = sys.argv[1], sys.argv[2]
ino = [300000]
def hdr(name, mode, size, nlink=1):
    ino[0] += 1
    f = [ino[0], mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
    h = b"070701" + b"".join(b"%08X" % v for v in f) + name.encode() + b"\0"
    return h + b"\0" * (-len(h) % 4)
with gzip.open(out, "wb", 9) as z:
    for d, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(d, root)
        if rel != ".":
            z.write(hdr(rel, stat.S_IFDIR | 0o755, 0, 2))
        for fn in sorted(files):
            p = os.path.join(d, fn)
            name = os.path.normpath(os.path.join(rel, fn))
            data = open(p, "rb").read()
            z.write(hdr(name, stat.S_IFREG | (os.stat(p).st_mode & 0o777), len(data)))
            z.write(data + b"\0" * (-len(data) % 4))
    # /dev/console for the kernel's early console before /init runs
    ino[0] += 1
    f = [ino[0], stat.S_IFCHR | 0o600, 0, 0, 1, 0, 0, 0, 0, 5, 1, len("dev/console") + 1, 0]
    h = b"070701" + b"".join(b"%08X" % v for v in f) + b"dev/console\0"
    z.write(h + b"\0" * (-len(h) % 4))
    z.write(hdr("TRAILER!!!", 0, 0))
EOF
	mv -f "$work/initrd.img" "$CACHE/initrd.img"
	log "initrd: built ($(stat -c %s "$CACHE/initrd.img") bytes)"
fi

for f in vmlinuz initrd.img; do
	[ -s "$CACHE/$f" ] || die "$CACHE/$f missing after the build"
done
log "ready in $CACHE ($want)"
