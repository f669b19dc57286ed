#!/bin/bash
# Builds the Debian package (debian/) from the work tree, in a copy, so
# the tree gets no build output and dpkg-buildpackage's results, which it
# writes to the parent of the source directory, land in OUTDIR instead.
#   scripts/mkdeb.sh [OUTDIR]     default OUTDIR: build-deb
# The copy holds the files git knows (tracked, and new ones not ignored),
# or without git everything but build directories.  dpkg-buildpackage
# honours DEB_BUILD_OPTIONS (e.g. "nocheck parallel=2") and
# DEB_BUILD_PROFILES from the environment.  Prints the .deb's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(dpkg-parsechangelog -S Version)
work=$(mktemp -d "${TMPDIR:-/tmp}/ironboot-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
src=$work/ironboot-$version
mkdir "$src"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
		done | tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - . |
		tar -xf - -C "$src"
fi

echo "mkdeb: dpkg-buildpackage -us -uc -b in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b)
rm -f "$out"/ironboot*_"$version"_*.deb
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
echo "mkdeb: built $(ls "$out"/ironboot_"$version"_*.deb)"
