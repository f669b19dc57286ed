# Sourced by the bench/*/run.sh scripts that run nginx as the peer.
#
#   fetch_nginx WORK
#
# nginx is NOT installed: `apt-get download nginx` is unpacked into
# WORK/nginx (its binary is WORK/nginx/usr/sbin/nginx, run by bench.py in
# the server namespace with a config written under WORK; no system service
# is started or touched).  Sets $nginx_version; exits 2 when the download
# fails.
fetch_nginx() {
	local work=$1 deb
	(cd "$work" && apt-get download nginx >/dev/null 2>&1) || true
	deb=$(ls "$work"/nginx_*.deb 2>/dev/null | head -n 1 || true)
	[ -n "$deb" ] || { echo "run.sh: apt-get download nginx failed" >&2; exit 2; }
	dpkg-deb -x "$deb" "$work/nginx"
	nginx_version=$(dpkg-deb -f "$deb" Version)
}
