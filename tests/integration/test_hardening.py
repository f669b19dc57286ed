"""Small hardening items of issue #11, each against the real daemon in a
namespace the test creates (198.18.0.1 on srv0)."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from netlab import Daemon, lab_config, require_tool


def make_config(tmp_path: Path, name: str = "ironboot.yaml", relays=None, **server) -> Path:
    cfg = lab_config()
    cfg["server"].update(state_dir=str(tmp_path / "state"), **server)
    cfg["tftp"]["enabled"] = False
    if relays:
        cfg["dhcp4"]["relays"] = relays       # relayed requests served from these
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def srv_host(lab) -> str:
    srv, cli = lab.netns("srv"), lab.netns("cli")
    lab.veth(srv, "srv0", cli, "cli0")
    lab.addr(srv, "srv0", "198.18.0.1/24")
    return srv


def test_second_daemon_on_one_state_dir_refused(lab, ironbootd_bin, tmp_path):
    """Item 8: a second ironbootd on the same state dir must not bind
    67/69/547 beside the first; it says who holds the dir and exits 1.
    The lock dies with its holder: after kill -9 a new daemon starts."""
    srv = srv_host(lab)
    cfg = make_config(tmp_path)
    first = Daemon(lab, srv, cfg).start()
    second = Daemon(lab, srv, cfg, log_path=tmp_path / "second.log")
    assert second.start_fails(timeout=10) == 1
    log = second.log()
    assert f"another ironbootd (pid {first.pid}) is using the state directory" in log, log
    assert "listening" not in log and "serving" not in log, log
    assert first.alive()
    first.kill9()
    third = Daemon(lab, srv, cfg, log_path=tmp_path / "third.log").start()
    third.stop()


def flip_wal_byte(db: Path, frame: int) -> None:
    """Flip one byte in the page of WAL frame `frame` (1-based)."""
    wal = Path(str(db) + "-wal")
    page = int.from_bytes(wal.read_bytes()[8:12], "big")
    off = 32 + (frame - 1) * (24 + page) + 24 + 100
    with open(wal, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x40]))


def test_damaged_wal_is_reported_and_saved(lab, ironbootd_bin, tmp_path):
    """Item 10: a bit flipped in the middle of the write-ahead log made
    SQLite drop every durable transaction after it without a word.  The
    daemon now names the damage and what is lost before SQLite truncates
    the log, keeps the damaged files, checks the database, and keeps a
    copy of the last good one."""
    require_tool("perfdhcp")
    srv = srv_host(lab)
    cli = lab.ns("cli")
    lab.addr(cli, "cli0", "198.18.0.2/24")
    cfg = make_config(tmp_path, relays=["198.18.0.2"])     # perfdhcp relays from it
    d = Daemon(lab, srv, cfg).start()
    d.wait_log("consistency check passed")
    p = lab.run(cli, ["perfdhcp", "-4", "-l", "cli0", "-r", "40", "-R", "40", "-s", "7",
                      "-n", "40", "-p", "30", "-d", "10", "-W", "5000000", "198.18.0.1"],
                timeout=90)
    assert "Statistics for: REQUEST-ACK" in p.stdout, p.stdout + p.stderr
    before = len(d.cli_json("leases"))
    assert before >= 30, before
    d.kill9()
    db = tmp_path / "state" / "ironboot.db"
    wal = Path(str(db) + "-wal")
    page = int.from_bytes(wal.read_bytes()[8:12], "big")
    frames = (wal.stat().st_size - 32) // (24 + page)
    assert frames >= 8, frames
    flip_wal_byte(db, frames // 2)
    off = d.log_size()
    d.start()
    log = d.log(off)
    assert f"damaged at frame {frames // 2} of {frames}" in log, log
    assert "will be LOST" in log and "a copy is saved as" in log, log
    saved = list((tmp_path / "state").glob("ironboot.db.damaged-*"))
    assert len(saved) == 2, saved                       # the db and its log
    d.wait_log("consistency check passed", since=off)
    assert (tmp_path / "state" / "ironboot.db.good").exists()
    assert (tmp_path / "state" / "ironboot.db.good.1").exists()
    after = len(d.cli_json("leases"))
    assert after < before, (before, after)              # the loss is real
    d.stop()


def test_token_file_read_and_exposure_said(lab, ironbootd_bin, tmp_path):
    """Item 11: --check-config reads http.api_token_file (a missing one
    fails the check, as it would fail the start), and a token file other
    users can read is said by --check-config and by the daemon."""
    srv = srv_host(lab)
    token = tmp_path / "token"
    cfg = lab_config()
    cfg["server"]["state_dir"] = str(tmp_path / "state")
    cfg["tftp"]["enabled"] = False
    cfg["http"]["api_token_file"] = str(token)
    path = tmp_path / "ironboot.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    d = Daemon(lab, srv, path)
    r = d.check_config()
    assert r.returncode == 1 and f"http.api_token_file {token}" in r.stderr, r.stderr
    token.write_text("s3cret\n")
    token.chmod(0o600)
    r = d.check_config()
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    token.chmod(0o644)
    r = d.check_config()
    assert r.returncode == 0, r.stderr
    assert "is readable by every user" in r.stderr, r.stderr
    d.start()
    d.wait_log("is readable by every user")
    d.stop()


@pytest.mark.parametrize("with_token", [True, False])
def test_cli_release_is_seen_by_the_running_daemon(lab, ironbootd_bin, tmp_path, with_token):
    """Item 9: `ironboot leases release` wrote the store behind a running
    daemon, whose cache kept the address bound until a restart.  With the
    daemon running the CLI now goes through POST /api/v1/leases/ADDR/
    release, and the address is free for the next client at once: over
    HTTP with the API token, else through the daemon's control socket
    (state_dir/ironbootd.sock, 0600), which needs none."""
    import test_dhcp4 as d4
    extra = {}
    if with_token:
        token = tmp_path / "token"
        token.write_text("t0ken\n")
        token.chmod(0o600)
        extra["http__api_token_file"] = str(token)
    env = d4.Env(lab, tmp_path, d4.base_config(tmp_path / "state", **extra))
    env.daemon.start(timeout=15)
    sock = tmp_path / "state" / "ironbootd.sock"
    assert stat.S_ISSOCK(sock.stat().st_mode) and stat.S_IMODE(sock.stat().st_mode) == 0o600
    try:
        owner, other, late = d4.rand_mac(), d4.rand_mac(), d4.rand_mac()
        _, ack = env.l2.dora(owner)
        addr = ack.yiaddr
        want = ((50, d4.ip4(addr)),)
        off = env.l2.discover(other, want)
        assert off is not None and off.yiaddr != addr, off   # bound to owner
        out = env.daemon.cli("leases", "release", addr)
        assert json.loads(out)["state"] == "released", out
        off = env.l2.discover(late, want)      # (other holds its own offer)
        assert off is not None and off.yiaddr == addr, off    # free at once
        evs = env.daemon.events_when(
            lambda evs: any(e["kind"] == "lease-release-operator" for e in evs),
            "--proto", "dhcp4", "--mac", owner)
        kinds = [e["kind"] for e in evs]
        assert "lease-release-operator" in kinds, kinds
        # from the network, without a token, the route is refused like
        # every write: 401 with a token file, 403 without one
        st = env.lab.run(env.srv, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                   "-X", "POST", f"http://{d4.SRV_IP}:8080/api/v1/leases/"
                                   f"{addr}/release"])
        assert st.stdout == ("401" if with_token else "403"), st.stdout
        # the control socket reads and ends leases without the token; its
        # other writes need the token, as over the network (docs/SECURITY.md)
        def local(method, path, *extra):
            return env.lab.run(env.srv, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                         "--unix-socket", str(sock), "-X", method, *extra,
                                         f"http://localhost/api/v1/{path}"]).stdout
        assert local("GET", "leases") == "200"
        body = ["-H", "Content-Type: application/json", "--data-binary",
                '{"name": "p9", "kernel": "http://x/k"}']
        assert local("PUT", "profiles/p9", *body) == ("401" if with_token else "403")
        assert local("POST", f"machines/{owner}/power/status") == \
            ("401" if with_token else "403")
    finally:
        env.close()
    env.daemon.stop()
    assert not sock.exists()                    # removed when the daemon stops
    # with the daemon stopped the CLI writes the store itself, as before
    out = env.daemon.cli("leases", "release", addr)
    assert out.strip() == f"released {addr}", out


def test_loader_refuses_rows_the_server_never_writes(lab, ironbootd_bin, tmp_path):
    """Item 7: the lease loader served a row with a 3-byte Ethernet address
    and a row outside every subnet.  Both are now refused at load, with a
    warning naming the first and the count; they stay in the store."""
    srv = srv_host(lab)
    cfg = make_config(tmp_path)
    d = Daemon(lab, srv, cfg).start()
    d.stop()
    db = tmp_path / "state" / "ironboot.db"
    far = 4102444800                                    # 2100-01-01
    rows = [(3323068566, 3323068416, "x'525400'"),        # 198.18.0.150, 3 bytes
            (3323070729, 3323070720, "x'525400000099'")]  # 198.18.9.9, no subnet
    for addr, net, hw in rows:
        subprocess.run(["sqlite3", str(db),
                        "INSERT INTO leases4 (address, subnet, htype, hwaddr, cltt, "
                        f"expires, state) VALUES ({addr}, {net}, 1, {hw}, 1, {far}, 1)"],
                       check=True, timeout=30)
    off = d.log_size()
    d.start()
    line = d.wait_log("stored lease(s) refused", since=off)
    assert "2 stored lease(s) refused" in line and "198.18.0.150" in line, line
    assert "not 6 bytes" in line, line
    assert len(d.cli_json("leases")) == 2                 # still in the store
    d.stop()
