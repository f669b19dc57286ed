"""The daemon's own contract: config checking, privilege drop, store
schema guard, clean stop.  Real ironbootd in a namespace, real dhclient."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from netlab import Daemon, REPO, lab_config


def make_config(tmp_path: Path, **server) -> Path:
    cfg = lab_config()
    cfg["server"].update(state_dir=str(tmp_path / "state"), **server)
    # TFTP is exercised in test_tftp.py; keep this lab to DHCP.
    cfg["tftp"]["enabled"] = False
    path = tmp_path / "ironboot.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def two_hosts(lab):
    srv, cli = lab.netns("srv"), lab.netns("cli")
    lab.veth(srv, "srv0", cli, "cli0")
    lab.addr(srv, "srv0", "198.18.0.1/24")
    lab.up(srv, "srv0")
    lab.up(cli, "cli0")
    return srv, cli


def dhclient(lab, cli, tmp_path: Path, ifname: str = "cli0") -> subprocess.CompletedProcess:
    script = tmp_path / "dhclient-script"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    return lab.run(cli, ["dhclient", "-1", "-v", "-lf", str(tmp_path / "leases"),
                         "-pf", str(tmp_path / "dhclient.pid"), "-sf", str(script),
                         ifname], timeout=30)


def test_check_config_reports_file_line_column(lab, ironbootd_bin, tmp_path):
    ok = lab.run(lab.netns("x"), [str(ironbootd_bin), "--check-config",
                                  str(REPO / "examples" / "lab.yaml")])
    assert ok.returncode == 0, ok.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("dhcp4:\n  subnets:\n    - subnet: 198.18.0.0/24\n"
                   "      pools: [ { start: 198.18.1.10, end: 198.18.1.20 } ]\n")
    r = lab.run(lab.netns("y"), [str(ironbootd_bin), "--check-config", str(bad)])
    assert r.returncode == 1
    assert f"{bad}:4:" in r.stderr, r.stderr
    assert "pools[0]" in r.stderr, r.stderr


def test_drops_privileges_and_keeps_serving(lab, ironbootd_bin, tmp_path):
    tmp_path.chmod(0o755)
    srv, cli = two_hosts(lab)
    cfg = make_config(tmp_path, user="nobody")
    d = Daemon(lab, srv, cfg).start()
    uid = pwd.getpwnam("nobody").pw_uid
    status = Path(f"/proc/{d.pid}/status").read_text()
    uids = next(l for l in status.splitlines() if l.startswith("Uid:")).split()[1:]
    assert all(int(u) == uid for u in uids), status
    r = dhclient(lab, cli, tmp_path)
    assert "DHCPACK" in r.stderr, r.stderr + d.log_tail()
    leases = d.cli_json("leases")
    assert [l["state"] for l in leases] == ["active"], leases
    d.stop()


def test_refuses_database_from_newer_version(lab, ironbootd_bin, tmp_path):
    srv, _ = two_hosts(lab)
    cfg = make_config(tmp_path)
    d = Daemon(lab, srv, cfg).start()
    d.stop()
    db = tmp_path / "state" / "ironboot.db"
    subprocess.run(["sqlite3", str(db), "PRAGMA user_version=999;"], check=True)
    assert d.start_fails(timeout=5) == 1
    assert "newer" in d.log(), d.log_tail()


def test_sigterm_flushes_journal_and_exits_zero(lab, ironbootd_bin, tmp_path):
    srv, cli = two_hosts(lab)
    cfg = make_config(tmp_path)
    d = Daemon(lab, srv, cfg).start()
    r = dhclient(lab, cli, tmp_path)
    assert "DHCPACK" in r.stderr, r.stderr
    mac = lab.mac(cli, "cli0")
    d.stop()
    kinds = [e["kind"] for e in d.cli_json("events", "--mac", mac)]
    assert kinds[:2] == ["discover", "request"], kinds


def test_explain_uses_the_daemons_policy(lab, ironbootd_bin, tmp_path):
    srv, cli = two_hosts(lab)
    cfg = make_config(tmp_path)
    d = Daemon(lab, srv, cfg).start()
    out = d.cli_json("explain", "--mac", "52:54:00:00:00:10", "--arch", "7")
    fw, ipxe, script = out["stages"]
    assert (fw["address"], fw["boot"], fw["file"]) == ("198.18.0.10", "pxe", "ipxe.efi")
    assert fw["reason"] == "reservation"
    assert ipxe["boot"] == "ipxe" and ipxe["file"].startswith("http://198.18.0.1:8080/boot.ipxe")
    assert (script["group"], script["profile"]) == ("default", "linux")
    assert script["script"].startswith("#!ipxe\n")
    assert "ib.marker=booted-node10" in script["script"]
    # A machine that really DHCPs gets what explain predicted for its stage.
    r = dhclient(lab, cli, tmp_path)
    assert "DHCPACK" in r.stderr
    mac = lab.mac(cli, "cli0")
    plain = d.cli_json("explain", "--mac", mac)["stages"][0]
    leases = {l["mac"]: l["address"] for l in d.cli_json("leases")}
    assert plain["address"] == leases[mac]
    assert plain["boot"] == "none"
    d.stop()


def test_http_listens_on_an_address_that_comes_up_later(lab, ironbootd_bin, tmp_path):
    """examples/lab.yaml's HTTP listens on fd00:b007::1, the host of its
    ipxe_script6 URL: the daemon starts before srv0 has that address and
    serves the script over IPv6 once it has."""
    srv, cli = two_hosts(lab)
    lab.set_mac(cli, "cli0", "52:54:00:00:00:99")   # the machine asks for its own script
    d = Daemon(lab, srv, make_config(tmp_path)).start()
    d.wait_log("fd00:b007::1 is on no interface yet", timeout=5)
    assert "198.18.0.1 is on no interface" not in d.log_tail()    # that one is up
    lab.addr(srv, "srv0", "fd00:b007::1/64")
    lab.addr(cli, "cli0", "fd00:b007::2/64")
    r = lab.run(cli, ["curl", "-sg", "--max-time", "10",
                      "http://[fd00:b007::1]:8080/boot.ipxe?mac=52:54:00:00:00:99"])
    assert r.returncode == 0 and r.stdout.startswith("#!ipxe"), (r, d.log_tail())
    d.stop()


# ---- server.user and the files read again after the drop ----

@pytest.fixture
def world_dir():
    """A directory server.user can traverse (pytest's tmp root is 0700):
    the daemon rereads its config, token file and TFTP root after the
    drop.  Removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="ib-daemon-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def user_config(base: Path, user: str | None, **http) -> Path:
    cfg = lab_config()
    cfg["server"].update(state_dir=str(base / "state"))
    if user:
        cfg["server"]["user"] = user
    cfg["tftp"].update(enabled=True, root=str(base / "tftp"), port=69)
    (base / "tftp").mkdir(exist_ok=True)
    (base / "assets").mkdir(exist_ok=True)
    cfg["http"].update(assets=str(base / "assets"), **http)
    path = base / "ironboot.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    path.chmod(0o644)
    return path


def test_token_file_server_user_cannot_read(world_dir, lab, ironbootd_bin):
    """server.user rereads http.api_token_file on every reload, so a file
    only root can read would refuse each one: --check-config and the start
    say so, naming the file and the user, instead of the first SIGHUP."""
    srv, cli = two_hosts(lab)
    lab.addr(cli, "cli0", "198.18.0.2/24")
    token = world_dir / "token"
    token.write_text("s3cret\n")
    token.chmod(0o600)                                   # root:root 0600
    cfg = user_config(world_dir, "nobody", api_token_file=str(token))
    r = lab.run(srv, [str(ironbootd_bin), "--check-config", str(cfg)])
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert f"http.api_token_file {token}: server.user nobody cannot read it" in r.stderr, r.stderr
    assert "Permission denied" in r.stderr and "configuration valid" not in r.stdout
    d = Daemon(lab, srv, cfg)
    assert d.start_fails() == 1
    assert "server.user nobody cannot read it" in d.log(), d.log_tail()

    # root alone reads it: fine without server.user
    plain = user_config(world_dir, None, api_token_file=str(token))
    r = lab.run(srv, [str(ironbootd_bin), "--check-config", str(plain)])
    assert r.returncode == 0, r.stderr
    # readable through nobody's group: both pass, and the daemon serves
    os.chown(token, 0, pwd.getpwnam("nobody").pw_gid)
    token.chmod(0o640)
    cfg = user_config(world_dir, "nobody", api_token_file=str(token))
    r = lab.run(srv, [str(ironbootd_bin), "--check-config", str(cfg)])
    assert r.returncode == 0 and "configuration valid" in r.stdout, r.stderr
    d.start()
    p = lab.run(cli, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                      "http://198.18.0.1:8080/api/v1/profiles"])
    assert p.stdout == "401", (p.stdout, p.stderr)
    p = lab.run(cli, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                      "-H", "Authorization: Bearer s3cret", "http://198.18.0.1:8080/api/v1/profiles"])
    assert p.stdout == "200", (p.stdout, p.stderr)
    d.stop()


def tftp_get(lab, cli, out: Path, port: int = 69) -> subprocess.CompletedProcess:
    if out.exists():
        out.unlink()
    return lab.run(cli, ["tftp", "198.18.0.1", str(port), "-m", "binary", "-c", "get",
                         "boot.bin", str(out)], timeout=60)


def udp_port_closed(lab, cli, port: int) -> bool:
    """An RRQ to port answers ICMP port unreachable (nothing listens)."""
    s = lab.socket(cli, socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.connect(("198.18.0.1", port))
        s.send(b"\x00\x01boot.bin\x00octet\x00")
        s.recv(1024)
        return False
    except ConnectionRefusedError:
        return True
    except socket.timeout:
        return False
    finally:
        s.close()


def test_tftp_after_privilege_drop_and_reloads(world_dir, lab, ironbootd_bin):
    """TFTP on port 69 under server.user: serves after the drop, after a
    SIGHUP that changes nothing, and after one that moves it to another
    port below 1024 (issue #11.2: that reload lost the listener).  The
    daemon keeps CAP_NET_BIND_SERVICE and nothing else."""
    if not shutil.which("tftp"):
        pytest.fail("tftp (tftp-hpa) not found: the install step failed (scripts/deps.sh test)")
    srv, cli = two_hosts(lab)
    lab.addr(cli, "cli0", "198.18.0.2/24")
    payload = os.urandom(200_000)
    cfg = user_config(world_dir, "nobody")
    (world_dir / "tftp" / "boot.bin").write_bytes(payload)
    d = Daemon(lab, srv, cfg).start()
    status = Path(f"/proc/{d.pid}/status").read_text()
    fields = dict(ln.split(":", 1) for ln in status.splitlines() if ":" in ln)
    uid = pwd.getpwnam("nobody").pw_uid
    assert all(int(u) == uid for u in fields["Uid"].split()), status
    assert int(fields["CapEff"], 16) == 1 << 10, status          # CAP_NET_BIND_SERVICE
    assert int(fields["CapPrm"], 16) == 1 << 10, status
    assert int(fields["CapInh"], 16) == 0 and int(fields["CapAmb"], 16) == 0, status
    out = world_dir / "got.bin"

    def fetch(port: int) -> None:
        p = tftp_get(lab, cli, out, port)
        assert p.returncode == 0 and out.exists() and out.read_bytes() == payload, \
            (port, p.stdout, p.stderr, d.log_tail())

    fetch(69)
    for port in (69, 169, 69):        # unchanged, moved, moved back
        c = yaml.safe_load(cfg.read_text())
        c["tftp"]["port"] = port
        cfg.write_text(yaml.safe_dump(c, sort_keys=False))
        off = d.log_size()
        d.hup()
        d.wait_log("configuration reloaded", since=off, timeout=15)
        assert "reload refused" not in d.log(off), d.log_tail()
        fetch(port)
        assert udp_port_closed(lab, cli, 169 if port == 69 else 69)
    d.stop()


def test_refused_reload_after_interface_vanished(lab, ironbootd_bin, tmp_path):
    """A reload DHCPv4 accepts but DHCPv6 refuses, after the interface the
    running config serves was deleted: DHCPv4 cannot look that interface
    up again to go back, and must not be left on the refused snapshot the
    daemon frees (src/daemon/daemon.c swap_snapshot).  The daemon says the
    reload was refused, the next good reload applies (it reads what DHCPv4
    serves: a freed snapshot is a use-after-free ASan reports), and the
    moved link is served."""
    srv, cli = two_hosts(lab)
    lab.veth(srv, "srv1", cli, "cli1")
    lab.up(srv, "srv1")
    lab.up(cli, "cli1")
    cfg = make_config(tmp_path)
    d = Daemon(lab, srv, cfg).start()
    lab.ip(srv, "link", "del", "srv0")            # its peer cli0 goes with it
    lab.addr(srv, "srv1", "198.18.0.1/24")

    def write(dhcp6_ifname: str) -> None:
        c = yaml.safe_load(cfg.read_text())
        c["dhcp4"]["interfaces"] = ["srv1"]
        c["dhcp6"]["interfaces"] = [dhcp6_ifname]
        c["dhcp6"]["subnets"][0]["interface"] = dhcp6_ifname
        c["dhcp6"]["router_advertisements"]["interfaces"] = ["srv1"]
        cfg.write_text(yaml.safe_dump(c, sort_keys=False))

    write("ibgone0")                              # DHCPv6: no such interface
    off = d.log_size()
    d.hup()
    d.wait_log("reload refused", since=off, timeout=15)
    log = d.log(off)
    assert "dhcp6: none of the configured interfaces exists" in log, log
    assert "configuration reloaded" not in log, log
    assert d.alive() and not d.problems(), d.problems() or d.log_tail()

    write("srv1")
    off = d.log_size()
    d.hup()
    d.wait_log("configuration reloaded", since=off, timeout=15)
    assert "reload refused" not in d.log(off), d.log_tail()
    r = dhclient(lab, cli, tmp_path, "cli1")
    assert "DHCPACK" in r.stderr, r.stderr + d.log_tail()
    assert not d.problems(), d.problems()
    d.stop()
