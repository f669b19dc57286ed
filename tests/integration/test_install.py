"""Installed and run like a daemon (issue #11): `meson install` lays out
the programs, man pages, systemd unit, sysusers.d user and default
configuration; the unit passes `systemd-analyze verify`; the Debian
package builds, installs into a scratch root with its maintainer scripts
(`dpkg --root`), keeps its configuration as a conffile and purges cleanly;
the man pages render without warnings and ironboot.yaml(5) names every key
of the config schema; and the daemon runs as the unit runs it (an
unprivileged user with only the unit's ambient capabilities) and tells the
service manager READY / RELOADING / STOPPING over $NOTIFY_SOCKET.

Nothing here touches the machine's own systemd, users or /var/lib: the
unit is verified against a scratch root, the package is installed into one
(maintainer scripts run with DPKG_ROOT set, which every one of them
honours), and the daemon runs in a lab namespace."""

from __future__ import annotations

import gzip
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from netlab import Daemon, REPO, find_binary, lab_config, require_tool

MAN_PAGES = ("ironbootd.8", "ironboot.1", "ironboot.yaml.5")
SCHEMA_FILES = (REPO / "src/config/config_schema.c", REPO / "src/config/config_dhcp6.c",
                REPO / "src/config/config_power.c")
HOST_DSH = Path("/var/lib/systemd/deb-systemd-helper-enabled")


def run(argv, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    p = subprocess.run([str(a) for a in argv], timeout=timeout, **kw)
    assert p.returncode == 0, (f"{' '.join(map(str, argv))} -> {p.returncode}\n"
                               f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def project_version() -> str:
    m = re.search(r"version\s*:\s*'([^']+)'", (REPO / "meson.build").read_text())
    assert m, "no version in meson.build"
    return m.group(1)


# -- the config schema, read from its C tables --------------------------------

def schema_keys() -> dict[str, list[str]]:
    """Section path ("" for the top level, "dhcp4.subnets[]" for the items
    of a list of mappings) -> the keys of its table, in order."""
    src = "\n".join(p.read_text() for p in SCHEMA_FILES)
    tables = {m.group(1): m.group(2) for m in re.finditer(
        r"struct ib_cfg_field (\w+)\[\] = \{(.*?)\n\};", src, re.S)}
    sections = {m.group(1): m.group(2) for m in re.finditer(
        r"struct ib_cfg_section (\w+) =\s*SECTION\((\w+)", src)}
    out: dict[str, list[str]] = {}

    def walk(section: str, path: str) -> None:
        body = tables[sections[section]]
        keys = out.setdefault(path, [])
        for row in re.split(r"\n\s*(?=FIELD\(|LIST\()", body):
            m = re.match(r"\s*(?:FIELD|LIST)\(\w+, \"(\w+)\", (F_\w+)", row)
            if not m:
                continue
            key, kind = m.groups()
            keys.append(key)
            sub = re.search(r"\.sub = &(\w+)", row)
            if sub:
                child = key + ("[]" if kind == "F_MAP_LIST" else "")
                walk(sub.group(1), f"{path}.{child}" if path else child)

    walk("root_section", "")
    return out


def man_items(text: str) -> dict[str, set[str]]:
    """.SS heading -> the names of its .TP items (the first word of the
    line after .TP, without font requests)."""
    out: dict[str, set[str]] = {}
    current = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(".SH"):
            current = None
        elif line.startswith(".SS "):
            current = out.setdefault(line[4:].strip().strip('"'), set())
        elif line.strip() == ".TP" and current is not None and i + 1 < len(lines):
            tag = re.sub(r"\\f[BIRP]|^\.[BI]R? ", "", lines[i + 1]).split()
            if tag:
                current.add(tag[0])
    return out


def test_man_page_names_every_config_key():
    """Each schema table has a .SS heading named by its path, holding a .TP
    item per key; every top-level key has its own .SS.  A key added to the
    schema without its documentation fails here."""
    keys = schema_keys()
    n = sum(len(v) for v in keys.values())
    # the parse itself: a refactor of the tables must not pass by finding nothing
    assert n >= 120 and "state_dir" in keys["server"] and \
        "bootfile_param" in keys["dhcp6.subnets[].reservations[]"], keys
    items = man_items((REPO / "man/ironboot.yaml.5").read_text())
    missing = []
    for path, names in keys.items():
        if path == "":
            missing += [f".SS {k}" for k in names
                        if k not in items and f"{k}[]" not in items]
            continue
        if path not in items:
            missing.append(f".SS {path}")
            continue
        missing += [f"{path}.{k}" for k in names if k not in items[path]]
    assert not missing, ("man/ironboot.yaml.5 does not document: " + ", ".join(missing))
    # nor documents keys that do not exist
    extra = [f"{p}.{k}" for p, names in items.items() if p in keys
             for k in names - set(keys[p]) if re.fullmatch(r"[a-z0-9_]+", k)]
    assert not extra, f"man/ironboot.yaml.5 documents keys the schema lacks: {extra}"


def man_warnings(page: Path) -> str:
    p = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True,
                       text=True, timeout=60,
                       env=dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80"))
    assert p.returncode == 0, f"man -l {page}: {p.returncode}\n{p.stderr}"
    assert len(p.stdout) > 500, f"man -l {page} rendered almost nothing"
    return p.stderr


def test_man_pages_render_without_warnings():
    require_tool("man")
    for name in MAN_PAGES:
        assert man_warnings(REPO / "man" / name) == "", name


# -- the programs' own help ----------------------------------------------------

def long_options(src: str) -> list[str]:
    """The long options of a getopt_long table in C source."""
    return ["--" + o for o in re.findall(r'\{ "([a-z-]+)", (?:required|no)_argument', src)]


def test_every_command_explains_its_arguments(build_dir, ironbootd_bin, tmp_path):
    """`ironboot COMMAND --help` and `ironboot help COMMAND` answer without
    a config or a store (`leases --help` once said "needs one IPv4
    address") and name every option the command parses; both programs
    print their version."""
    cli = find_binary(build_dir, "ironboot")
    nowhere = tmp_path / "absent.yaml"          # help must not read it
    events = (REPO / "src/cli/ironboot.c").read_text().split("static int cmd_events", 1)[1]
    inventory = long_options((REPO / "src/cli/inventory_cmd.c").read_text()) + \
        ["list", "show NAME", "put NAME FILE", "create FILE", "delete NAME"]
    want = {
        "leases": ["list", "show ADDRESS", "release ADDRESS"],
        "leases6": ["list"],
        "events": long_options(events.split("getopt_long", 1)[0]),
        "explain": long_options((REPO / "src/cli/explain.c").read_text()),
        "doctor": long_options((REPO / "src/cli/doctor_cmd.c").read_text()),
        "profiles": inventory, "groups": inventory, "machines": inventory,
    }
    assert len(want["explain"]) >= 10 and "--limit" in want["events"], want
    for cmd, words in want.items():
        for argv in ([cmd, "--help"], ["help", cmd], [cmd, "show", "-h"]):
            p = run([cli, "--config", nowhere, *argv])
            assert p.stdout.startswith("usage: ironboot"), (argv, p.stdout)
            missing = [w for w in words if w not in p.stdout]
            assert not missing, (argv, missing, p.stdout)
    p = subprocess.run([cli, "nosuch", "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "unknown command 'nosuch'" in p.stderr, p
    assert "COMMAND --help" in run([cli, "--help"]).stdout
    version = project_version()
    assert run([cli, "--version"]).stdout == f"ironboot {version}\n"
    assert run([ironbootd_bin, "--version"]).stdout == f"ironbootd {version}\n"
    assert "--check-config" in run([ironbootd_bin, "--help"]).stdout


# -- systemd-analyze verify against a scratch root ----------------------------

def verify_unit(root: Path, unit: Path, mandir: Path) -> None:
    """systemd-analyze verify on unit inside root, with the host's targets
    and /bin/kill (ExecReload) copied in and the installed man pages on
    MANPATH (Documentation=man:...).  Any message fails: verify returns 0
    for a setting it ignores."""
    require_tool("systemd-analyze")
    units = root / "usr/lib/systemd/system"
    units.mkdir(parents=True, exist_ok=True)
    for t in Path("/usr/lib/systemd/system").glob("*.target"):
        if t.is_file() and not t.is_symlink() and not (units / t.name).exists():
            shutil.copy(t, units / t.name)
    (root / "usr/bin").mkdir(parents=True, exist_ok=True)
    if not (root / "bin").exists():
        (root / "bin").symlink_to("usr/bin")
    if not (root / "usr/bin/kill").exists():
        shutil.copy("/usr/bin/kill", root / "usr/bin/kill")
    p = subprocess.run(["systemd-analyze", "verify", f"--root={root}", str(unit)],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MANPATH=str(mandir)))
    assert p.returncode == 0 and p.stderr.strip() == "" and p.stdout.strip() == "", \
        f"systemd-analyze verify {unit}: {p.returncode}\n{p.stdout}{p.stderr}"


def unit_settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def check_unit(text: str, sbindir: str, sysconfdir: str) -> None:
    s = unit_settings(text)
    assert s["Type"] == ["notify"]
    assert s["ExecStart"] == [f"{sbindir}/ironbootd --config {sysconfdir}/ironboot/ironboot.yaml"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert s["User"] == ["ironboot"] and s["StateDirectory"] == ["ironboot"]
    assert s["ConfigurationDirectory"] == ["ironboot"]
    assert s["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE CAP_NET_RAW"]
    assert s["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX AF_NETLINK"]
    for k in ("ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges"):
        assert k in s, k
    # the shipped configuration keeps its store where StateDirectory= puts it
    default = yaml.safe_load((REPO / "examples/default.yaml").read_text())
    assert default["server"]["state_dir"] == "/var/lib/ironboot"
    assert "user" not in default["server"]     # the unit is the user (man ironbootd)


# -- meson install --destdir ---------------------------------------------------

def test_meson_install_destdir(build_dir, ironbootd_bin, tmp_path):
    """The install of the build the suite tests: exactly these files, a
    unit that verifies against the installed tree, and a configuration
    that a second install leaves alone."""
    require_tool("meson")
    opts = {o["name"]: o["value"] for o in json.loads(
        run(["meson", "introspect", "--buildoptions", build_dir]).stdout)}
    prefix = opts["prefix"]

    def under(opt: str) -> str:
        return os.path.join(prefix, opts[opt])     # an absolute option stays itself

    sbindir, bindir, mandir, sysconfdir = (under(o) for o in
                                           ("sbindir", "bindir", "mandir", "sysconfdir"))
    unitdir = opts["systemdunitdir"] or f"{prefix}/lib/systemd/system"
    dest = tmp_path / "dest"
    run(["meson", "install", "-C", build_dir, "--destdir", dest], timeout=300)
    want = {f"{sbindir}/ironbootd", f"{bindir}/ironboot",
            f"{mandir}/man8/ironbootd.8", f"{mandir}/man1/ironboot.1",
            f"{mandir}/man5/ironboot.yaml.5", f"{unitdir}/ironbootd.service",
            f"{prefix}/lib/sysusers.d/ironboot.conf",
            f"{prefix}/lib/sysctl.d/60-ironboot.conf",
            f"{sysconfdir}/ironboot/ironboot.yaml"}
    got = {"/" + str(p.relative_to(dest)) for p in dest.rglob("*") if not p.is_dir()}
    assert got == want, f"unexpected: {sorted(got - want)}; missing: {sorted(want - got)}"

    conf = dest / sysconfdir.lstrip("/") / "ironboot/ironboot.yaml"
    assert conf.read_text() == (REPO / "examples/default.yaml").read_text()
    unit = dest / unitdir.lstrip("/") / "ironbootd.service"
    check_unit(unit.read_text(), sbindir, sysconfdir)
    sysusers = (dest / prefix.lstrip("/") / "lib/sysusers.d/ironboot.conf").read_text()
    assert re.search(r"^u ironboot - .* /var/lib/ironboot$", sysusers, re.M), sysusers
    sysctl = (dest / prefix.lstrip("/") / "lib/sysctl.d/60-ironboot.conf").read_text()
    assert re.search(r"^net\.core\.rmem_max = 8388608$", sysctl, re.M), sysctl
    version = project_version()
    for prog, path in (("ironbootd", sbindir), ("ironboot", bindir)):
        out = run([dest / path.lstrip("/") / prog, "--version"]).stdout
        assert out == f"{prog} {version}\n", out

    verify_unit(dest, unit, dest / mandir.lstrip("/"))

    # an operator's edits survive the next install
    conf.write_text(conf.read_text() + "# edited\n")
    run(["meson", "install", "-C", build_dir, "--destdir", dest, "--no-rebuild"],
        timeout=300)
    assert conf.read_text().endswith("# edited\n")


# -- the Debian package ----------------------------------------------------------

@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    """The .deb built by scripts/mkdeb.sh (what `make deb` runs) from this
    tree, without its unit tests (the suite runs them)."""
    for tool in ("dpkg-buildpackage", "dpkg-deb", "dh", "dpkg-parsechangelog"):
        require_tool(tool)
    out = tmp_path_factory.mktemp("deb")
    env = dict(os.environ, DEB_BUILD_OPTIONS=f"nocheck parallel={os.cpu_count() or 2}",
               DEB_BUILD_PROFILES="nocheck")
    p = subprocess.run([REPO / "scripts/mkdeb.sh", out], capture_output=True, text=True,
                       timeout=280, env=env)
    assert p.returncode == 0, f"mkdeb.sh -> {p.returncode}\n{p.stdout[-6000:]}\n{p.stderr[-6000:]}"
    debs = list(out.glob(f"ironboot_{project_version()}_*.deb"))
    assert len(debs) == 1, (debs, p.stdout[-2000:])
    return debs[0]


DEB_FILES = {"/usr/sbin/ironbootd", "/usr/bin/ironboot",
             "/lib/systemd/system/ironbootd.service", "/usr/lib/sysusers.d/ironboot.conf",
             "/usr/lib/sysctl.d/60-ironboot.conf",
             "/etc/ironboot/ironboot.yaml", "/usr/share/man/man8/ironbootd.8.gz",
             "/usr/share/man/man1/ironboot.1.gz", "/usr/share/man/man5/ironboot.yaml.5.gz",
             "/usr/share/doc/ironboot/copyright", "/usr/share/doc/ironboot/changelog.gz"}


def deb_field(deb: Path, field: str) -> str:
    return run(["dpkg-deb", "-f", deb, field]).stdout.strip()


def test_deb_contents(deb, tmp_path):
    """What the package holds: programs, unit, user, man pages that render,
    the configuration as its one conffile; and the programs run."""
    files = {line.split()[-1].lstrip(".") for line in
             run(["dpkg-deb", "-c", deb]).stdout.splitlines() if not line.startswith("d")}
    assert DEB_FILES <= files, f"missing: {sorted(DEB_FILES - files)}"
    assert deb_field(deb, "Package") == "ironboot"
    assert deb_field(deb, "Version") == project_version()
    depends = deb_field(deb, "Depends")
    assert "libsystemd0" in depends and "systemd-sysusers" in depends, depends
    ctrl = tmp_path / "control"
    run(["dpkg-deb", "-e", deb, ctrl])
    assert (ctrl / "conffiles").read_text().split() == ["/etc/ironboot/ironboot.yaml"]
    assert "systemd-sysusers" in (ctrl / "postinst").read_text()
    assert "/var/lib/ironboot" in (ctrl / "postrm").read_text()

    root = tmp_path / "x"
    run(["dpkg-deb", "-x", deb, root])
    assert (root / "etc/ironboot/ironboot.yaml").read_text() == \
        (REPO / "examples/default.yaml").read_text()
    version = project_version()
    assert run([root / "usr/sbin/ironbootd", "--version"]).stdout == f"ironbootd {version}\n"
    assert run([root / "usr/bin/ironboot", "--version"]).stdout == f"ironboot {version}\n"
    run([root / "usr/sbin/ironbootd", "--check-config", root / "etc/ironboot/ironboot.yaml"])
    for page in root.glob("usr/share/man/man*/*.gz"):
        assert man_warnings(page) == "", page
    unit = root / "lib/systemd/system/ironbootd.service"
    check_unit(unit.read_text(), "/usr/sbin", "/etc")
    verify_unit(root, unit, root / "usr/share/man")


def dpkg_root(root: Path, *args) -> subprocess.CompletedProcess:
    """dpkg on the scratch root; maintainer scripts run on this machine with
    DPKG_ROOT=root (--force-script-chrootless), as on a debootstrap."""
    return run(["dpkg", f"--root={root}", "--force-script-chrootless",
                "--force-depends", *args], timeout=120)


def test_deb_installs_and_purges(deb, tmp_path):
    """dpkg -i into a scratch root runs the postinst (systemd-sysusers
    creates the user ironboot there), registers the conffile; purge runs the
    postrm: the state directory, the conffile and every file go, and
    nothing on this machine changed."""
    require_tool("dpkg", "systemd-sysusers")
    host_passwd = Path("/etc/passwd").read_text()
    host_dsh = sorted(HOST_DSH.rglob("*ironboot*")) if HOST_DSH.exists() else []
    root = tmp_path / "root"
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers",
              "var/log", "etc"):
        (root / d).mkdir(parents=True)
    (root / "var/lib/dpkg/status").touch()
    admin = root / "var/lib/dpkg"

    dpkg_root(root, "-i", deb)
    q = run(["dpkg-query", f"--admindir={admin}", "-W",
             "-f=${Status}|${Conffiles}", "ironboot"]).stdout
    status, conffiles = q.split("|")
    assert status == "install ok installed", q
    assert conffiles.split()[0] == "/etc/ironboot/ironboot.yaml", q
    user = [l for l in (root / "etc/passwd").read_text().splitlines()
            if l.startswith("ironboot:")]
    assert len(user) == 1 and user[0].split(":")[5] == "/var/lib/ironboot", user
    files = [l for l in run(["dpkg-query", f"--admindir={admin}", "-L", "ironboot"])
             .stdout.splitlines() if (root / l.lstrip("/")).is_file()]
    assert set(DEB_FILES) <= set(files), sorted(set(DEB_FILES) - set(files))

    # what a running daemon leaves: the store
    state = root / "var/lib/ironboot"
    state.mkdir()
    (state / "ironboot.db").write_text("leases")
    dpkg_root(root, "--purge", "ironboot")
    assert not state.exists(), "purge left /var/lib/ironboot"
    assert not (root / "etc/ironboot").exists(), "purge left /etc/ironboot"
    left = [f for f in files if (root / f.lstrip("/")).exists()]
    assert not left, f"purge left {left}"
    q = subprocess.run(["dpkg-query", f"--admindir={admin}", "-W", "-f=${Status}",
                        "ironboot"], capture_output=True, text=True, timeout=30)
    assert "installed" not in q.stdout or "not-installed" in q.stdout, q.stdout

    assert Path("/etc/passwd").read_text() == host_passwd, "the host's users changed"
    assert (sorted(HOST_DSH.rglob("*ironboot*")) if HOST_DSH.exists() else []) == host_dsh


# -- the daemon as the unit runs it ------------------------------------------------

class Notify:
    """A $NOTIFY_SOCKET: the datagrams sd_notify(3) sends, in order."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        path.chmod(0o666)             # the daemon runs as nobody
        self.seen: list[dict[str, str]] = []

    def wait(self, key: str, value: str = "1", timeout: float = 20.0) -> dict[str, str]:
        """The next message (after those already returned) with key=value."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {key}={value} on {self.path}; got {self.seen}"
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            msg = dict(l.split("=", 1) for l in data.splitlines() if "=" in l)
            self.seen.append(msg)
            if msg.get(key) == value:
                return msg

    def close(self) -> None:
        self.sock.close()


def proc_status(pid: int) -> dict[str, str]:
    return dict(l.split(":\t", 1) for l in
                Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in l)


def test_daemon_runs_as_the_unit_runs_it(lab, ironbootd_bin):
    """The unit's user story, without systemd: an unprivileged user (here
    nobody) holding only CAP_NET_BIND_SERVICE and CAP_NET_RAW as ambient
    capabilities, no_new_privs, server.user unset, binds DHCPv4 (67),
    DHCPv6 (547), router advertisements (raw ICMPv6), TFTP (69) and HTTP,
    and speaks sd_notify: READY=1 when serving, RELOADING=1 then READY=1
    around each SIGHUP (a refused reload too), STOPPING=1 on SIGTERM.
    Its stderr is "the journal" ($JOURNAL_STREAM names it), so each line
    carries its priority as sd-daemon(3)'s "<N>" prefix."""
    require_tool("setpriv")
    nobody = pwd.getpwnam("nobody")
    base = Path(tempfile.mkdtemp(prefix="ib-unit-", dir="/tmp"))
    notify = None
    try:
        base.chmod(0o755)
        state = base / "state"                  # what StateDirectory= provides
        state.mkdir(mode=0o750)
        os.chown(state, nobody.pw_uid, nobody.pw_gid)
        cfg = lab_config()
        cfg["server"]["state_dir"] = str(state)
        cfg["server"].pop("user", None)
        cfg["dhcp6"]["router_advertisements"]["enabled"] = True
        cfg["http"]["assets"] = str(base / "assets")
        cfg["tftp"]["port"] = 69
        path = base / "ironboot.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        path.chmod(0o644)
        # ironbootd as the unit starts it: User=, AmbientCapabilities=,
        # CapabilityBoundingSet=, NoNewPrivileges=
        caps = "+net_bind_service,+net_raw"
        wrapper = base / "as-unit"
        wrapper.write_text(
            "#!/bin/sh\n"
            f"exec setpriv --reuid={nobody.pw_uid} --regid={nobody.pw_gid} --clear-groups "
            f"--inh-caps=-all,{caps} --ambient-caps=-all,{caps} "
            f"--bounding-set=-all,{caps} --no-new-privs {ironbootd_bin} \"$@\"\n")
        wrapper.chmod(0o755)
        notify = Notify(base / "notify.sock")

        srv, cli = lab.netns("srv"), lab.netns("cli")
        lab.veth(srv, "srv0", cli, "cli0")
        lab.addr(srv, "srv0", "198.18.0.1/24")
        lab.addr(srv, "srv0", "fd00:b007::1/64")
        log_path = base / "ironbootd.log"
        log_path.touch()
        st = log_path.stat()
        d = Daemon(lab, srv, path, log_path=log_path,
                   env={"NOTIFY_SOCKET": str(notify.path),
                        "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        d.bin = wrapper
        d.start()
        ready = notify.wait("READY")
        assert ready.get("STATUS") == "serving", ready
        st = proc_status(d.pid)
        assert st["Uid"].split()[0] == str(nobody.pw_uid), st["Uid"]
        # CapEff: exactly CAP_NET_BIND_SERVICE (10) and CAP_NET_RAW (13)
        assert int(st["CapEff"], 16) == (1 << 10) | (1 << 13), st["CapEff"]
        assert st["NoNewPrivs"].strip() == "1"
        lines = d.log().splitlines()
        assert lines and all(re.match(r"<[3-7]>(err|warning|notice|info|debug): ", l)
                             for l in lines), d.log_tail()
        assert any(l.startswith("<5>notice: ironbootd ") and " ready " in l
                   for l in lines), d.log_tail()

        d.hup()
        notify.wait("RELOADING")
        msg = notify.wait("READY")
        assert msg.get("STATUS") == "serving", msg
        d.wait_log("configuration reloaded")

        path.write_text(path.read_text() + "\nbogus_key: 1\n")
        d.hup()
        notify.wait("RELOADING")
        msg = notify.wait("READY")
        assert "reload refused" in msg.get("STATUS", ""), msg
        d.wait_log("<3>err: reload refused")

        d.stop()
        notify.wait("STOPPING")
    finally:
        if notify:
            notify.close()
        shutil.rmtree(base, ignore_errors=True)
