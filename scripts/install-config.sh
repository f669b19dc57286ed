#!/bin/sh
# meson install script (meson.build): installs the default configuration
# as DIR/ironboot.yaml, under $DESTDIR, unless one is already there, so a
# reinstall or an upgrade by `make install` never replaces an operator's
# edited file.  The Debian package installs into an empty tree, so it
# always gets one, and dpkg keeps it as a conffile.
#   install-config.sh SOURCE DIR
set -eu
src=$1
# meson: the destination prefix is the install prefix under $DESTDIR
destdir=${MESON_INSTALL_DESTDIR_PREFIX%"$MESON_INSTALL_PREFIX"}
dir=$destdir$2
if [ -e "$dir/ironboot.yaml" ]; then
	echo "Keeping $dir/ironboot.yaml (not replaced by $src)"
	exit 0
fi
install -d -m 0755 "$dir"
install -m 0644 "$src" "$dir/ironboot.yaml"
echo "Installing $src to $dir/ironboot.yaml"
