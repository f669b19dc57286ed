"""ironbootd and ironboot on a shipped example, as on a fresh host.

The examples name host paths: examples/lab.yaml keeps its store and its
assets under /tmp/ironboot-lab, lab-ipv6.yaml under /tmp/ironboot-lab6,
default.yaml its store under /var/lib/ironboot.  The tests run these files
as shipped (`ironbootd --config examples/<name>.yaml`, nothing rewritten)
and still start from an empty store, never meet a concurrent run and
leave nothing on the host:

  * ironbootd runs in a mount namespace of its own (inside the lab's
    network namespace), where an empty tmpfs covers the directory that
    holds the example's paths (`cover`: /tmp or /var/lib).  The store the
    example names is created there by the daemon itself.
  * the files the example expects (assets) are put where it says, before
    the daemon starts, as symlinks to where they really are: what an
    operator would do (`ln -s /var/cache/ironboot-e2e/vmlinuz ...`).
  * `ironboot` (netlab.Daemon.cli) enters the daemon's mount namespace
    (nsenter --mount), so it reads the store the daemon writes.

    d = shipped_daemon(lab, srv, "lab.yaml", tmp, cover="/tmp",
                       links={"/tmp/ironboot-lab/assets/vmlinuz": cache / "vmlinuz"})
    d.start(); d.cli_json("events", "--mac", mac)

The wrappers are a build directory of their own (netlab.Daemon(build=...)):
`ironbootd` and `ironboot` scripts that exec the real binaries, so the
daemon keeps its PID (`ip netns exec` -> sh -> unshare -> sh -> ironbootd,
each an exec), is stopped and killed by it, and its stderr and sanitizer
reports reach the log netlab checks.  The binaries, the repository and the
link targets must not lie under `cover` (they would be hidden).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import netlab

EXAMPLES = netlab.REPO / "examples"


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def wrapper_build(tmp: Path, cover: str, links: dict[str, Path],
                  files: dict[str, str] | None = None) -> Path:
    """A directory with `ironbootd` and `ironboot` wrappers (see above)
    around the binaries of netlab.build_dir(); returns it.  files: path
    the example names -> text, written there with mode 0600 (an API token
    file: a secret is a file of its own, not a link)."""
    files = dict(files or {})
    real = netlab.build_dir()
    ironbootd = netlab.find_binary(real, "ironbootd").resolve()
    ironboot = netlab.find_binary(real, "ironboot").resolve()
    for p in (ironbootd, ironboot, netlab.REPO, *links.values()):
        if Path(p).resolve().is_relative_to(cover):
            raise netlab.LabError(f"{p} lies under {cover}, which the daemon's "
                                  f"mount namespace covers with an empty tmpfs")
    for dst in [*links, *files]:
        if not Path(dst).is_relative_to(cover):
            raise netlab.LabError(f"{dst} is not under {cover}: linking it "
                                  f"would write on the host")
    out = tmp / "fresh-host"
    out.mkdir()
    pidfile = out / "ironbootd.pid"
    setup = ["set -e",
             f"mount -t tmpfs -o mode=0755 ironboot-fresh-host {shlex.quote(cover)}"]
    for dst, src in links.items():
        setup.append(f"mkdir -p {shlex.quote(str(Path(dst).parent))}")
        setup.append(f"ln -s {shlex.quote(str(src))} {shlex.quote(dst)}")
    for dst, text in files.items():
        setup.append(f"mkdir -p {shlex.quote(str(Path(dst).parent))}")
        setup.append(f"(umask 077 && printf %s {shlex.quote(text)} >{shlex.quote(dst)})")
    setup.append('exec "$@"')
    # the setup runs as `sh -c`, so it needs no file under `cover`
    _script(out / "ironbootd",
            "#!/bin/sh\n"
            "# ironbootd on an empty " + cover + " (tests/e2e/fresh_host.py)\n"
            f"echo $$ >{shlex.quote(str(pidfile))}\n"
            "exec unshare --mount --propagation private /bin/sh -c "
            f"{shlex.quote(chr(10).join(setup))} ironbootd "
            f"{shlex.quote(str(ironbootd))} \"$@\"\n")
    _script(out / "ironboot",
            "#!/bin/sh\n"
            "# ironboot in the mount namespace of the last ironbootd started\n"
            f"exec nsenter --target \"$(cat {shlex.quote(str(pidfile))})\" --mount "
            f"-- {shlex.quote(str(ironboot))} \"$@\"\n")
    return out


def shipped_daemon(lab: netlab.Lab, ns: str, example: str, tmp: Path,
                   cover: str, links: dict[str, Path] | None = None,
                   files: dict[str, str] | None = None) -> netlab.Daemon:
    """netlab.Daemon of examples/<example> as shipped, on an empty `cover`
    with `links` (path the example names -> real file) and `files` (path
    -> text, mode 0600) in place; its log is tmp/ironbootd.stderr."""
    build = wrapper_build(tmp, cover, dict(links or {}), files)
    return netlab.Daemon(lab, ns, EXAMPLES / example, build=build,
                         log_path=tmp / "ironbootd.stderr")
