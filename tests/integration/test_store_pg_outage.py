"""ironbootd when its PostgreSQL goes away and comes back (issue #16):
no lease is acknowledged without its row, /readyz and `ironboot doctor`
say the store is down, HTTP keeps serving assets, and the daemon
reconnects by itself (backoff capped at 5 s) without a restart.

A real PostgreSQL 15 (tests/lib/pglab.py: initdb + pg_ctl as nobody, a
Unix socket in a temp dir, password auth), stopped with pg_ctl stop -m
fast or -m immediate and started again on the same data.  The DHCP load
is ironboot-storm from the build in the boot-storm lab (tests/lib/
stormlab.py: namespaces this test creates, 198.18.0.0/15), relaying
DORA for its machines; --acks records every lease it was acknowledged,
and afterwards each one must be an ACTIVE row of that machine in the
database.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_store_pg_outage.py -v
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import netlab
import stormlab
from pglab import PgServer

PORT = stormlab.HTTP_PORT


def need(tool: str) -> None:
    if not shutil.which(tool):
        pytest.fail(f"{tool} not found on PATH: install step failed "
                    f"(scripts/deps.sh test)", pytrace=False)


def get(lab, ns: str, path: str, timeout: float = 10) -> tuple[int, bytes]:
    """(status, body) of one GET to the daemon, on a fresh connection."""
    return netlab.http_get(lab, ns, stormlab.SRV4, PORT, path, timeout)


class Env:
    def __init__(self, lab, tmp: Path, pg: PgServer, build: Path):
        self.lab, self.tmp, self.pg = lab, tmp, pg
        assets = tmp / "assets"
        assets.mkdir()
        (assets / "vmlinuz").write_bytes(b"kernel" * 1000)
        cfg = stormlab.config(tmp / "state", pool4=("198.19.0.10", "198.19.15.250"),
                              log_level="info", store=pg.uri,
                              store_password_file=pg.password_file)
        cfg["http"] = {"enabled": True, "listen": [stormlab.SRV4], "port": PORT,
                       "assets": str(assets)}
        cfg = stormlab.write_config(cfg, tmp / "ironboot.yaml")
        self.srv, self.cli = stormlab.make(lab)
        self.d = netlab.Daemon(lab, self.srv, cfg).start(timeout=30)
        self.storm = netlab.find_binary(build, "ironboot-storm")
        if not self.storm.exists():
            pytest.fail(f"{self.storm} not built", pytrace=False)

    def storm_argv(self, acks: Path, machines: int, mac_base: str, *extra: str,
                   family: int = 4) -> list[str]:
        return [str(self.storm), *stormlab.storm_args(family), "--until", "dhcp",
                "--machines", str(machines), "--mac-base", mac_base,
                "--acks", str(acks), "--json", *extra]

    def run_storm(self, acks: Path, machines: int, mac_base: str, *extra: str,
                  timeout: float = 120, family: int = 4) -> dict:
        p = self.lab.run(self.cli, self.storm_argv(acks, machines, mac_base, *extra,
                                                   family=family),
                         check=False, timeout=timeout)
        assert p.returncode in (0, 3), p.stderr
        return json.loads(p.stdout)

    def ready(self) -> tuple[int, dict]:
        st, body = get(self.lab, self.cli, "/readyz")
        return st, json.loads(body)

    def wait_ready(self, want: int, timeout: float) -> tuple[float, dict]:
        """Polls /readyz until it answers want; (seconds taken, its body)."""
        t0 = time.monotonic()
        while True:
            st, body = self.ready()
            if st == want:
                return time.monotonic() - t0, body
            assert time.monotonic() - t0 < timeout, (st, body, self.d.log_tail())
            time.sleep(0.1)

    def metrics(self) -> dict[str, float]:
        """The unlabelled samples of GET /metrics."""
        st, body = get(self.lab, self.cli, "/metrics")
        assert st == 200
        return {k: float(v) for k, v in (line.split(" ", 1) for line in
                body.decode().splitlines() if line and not line.startswith("#")
                and "{" not in line)}

    def rows6(self) -> dict[str, int]:
        """address -> expires of every leases6 row."""
        out = self.pg.psql("SELECT encode(address, 'hex'), expires FROM leases6")
        return {str(ipaddress.IPv6Address(bytes.fromhex(a))): int(x)
                for a, x in (line.split("|") for line in out.splitlines())}

    def expiries(self) -> dict[str, int]:
        """address -> expires of every leases4 row."""
        out = self.pg.psql("SELECT address, expires FROM leases4")
        return {a: int(x) for a, x in (line.split("|") for line in out.splitlines())}

    def rows(self) -> dict[str, tuple[str, int]]:
        """address -> (hwaddr, state) of every leases4 row."""
        out = self.pg.psql("SELECT address, encode(hwaddr, 'hex'), state FROM leases4")
        rows = {}
        for line in out.splitlines():
            a, hw, st = line.split("|")
            rows[str(ipaddress.IPv4Address(int(a)))] = (hw, int(st))
        return rows


def read_acks(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [tuple(line.split()) for line in path.read_text().splitlines() if line]


def check_acks_stored(e: Env, acks: list[tuple[str, str]]) -> None:
    """Every acknowledged lease is an ACTIVE row of its machine."""
    rows = e.rows()
    missing = [(mac, a) for mac, a in acks
               if rows.get(a) != (mac.replace(":", ""), 1)]
    assert not missing, (missing[:10], len(missing), len(acks))


@pytest.fixture
def pg():
    need("psql")
    with PgServer(password="ib-test-secret") as server:
        yield server


@pytest.fixture
def env(lab, tmp_path, pg, ironbootd_bin, build_dir):
    return Env(lab, tmp_path, pg, build_dir)


def test_postgresql_stopped_no_ack_readyz_doctor_then_recovers(env):
    e, pg = env, env.pg
    before = e.run_storm(e.tmp / "acks0", 20, "52:54:02:00:00:00")
    assert before["done"] == 20, before
    acks0 = read_acks(e.tmp / "acks0")
    assert len(acks0) == 20
    check_acks_stored(e, acks0)
    assert e.ready()[0] == 200
    expires0 = e.expiries()

    pg.halt("fast")
    # the daemon notices between requests (the server's goodbye), says so
    took, body = e.wait_ready(503, timeout=10)
    assert body["checks"]["store"].startswith("down: database unreachable"), body
    e.d.wait_log(r"store: database unreachable .*no new lease is acknowledged", timeout=10,
                 regex=True)

    # new machines while it is down: offered, never acknowledged
    down = e.run_storm(e.tmp / "acks1", 10, "52:54:03:00:00:00", "--deadline", "6")
    assert down["done"] == 0, down
    assert read_acks(e.tmp / "acks1") == []
    # the machines it holds bindings for are renewed within their stored
    # lease: the same address each, and no row is written for it
    renewed = e.run_storm(e.tmp / "acks-renew", 20, "52:54:02:00:00:00")
    assert renewed["done"] == 20, renewed
    assert sorted(read_acks(e.tmp / "acks-renew")) == sorted(acks0)
    # what needs no store is still served: an asset over HTTP
    st, data = get(e.lab, e.cli, "/assets/vmlinuz")
    assert (st, data) == (200, b"kernel" * 1000)
    m = e.metrics()
    assert m["ironboot_store_up"] == 0 and m["ironboot_store_connection_losses_total"] == 1, m
    assert m["ironboot_dhcp4_kept_while_down_total"] == 20, m
    # the operator's doctor says where the trouble is
    doc = e.d.cli_run("doctor")
    assert doc.returncode != 0
    assert "PostgreSQL cannot be reached" in doc.stdout + doc.stderr, doc.stdout
    # and the log does not repeat it per request
    assert e.d.log().count("store commit failed") <= 2, e.d.log_tail()

    pg.resume()
    # the renewals while it was down wrote nothing: the rows are as before
    assert e.expiries() == expires0
    took, body = e.wait_ready(200, timeout=15)
    assert took < 10, took	# the backoff is capped at 5 s (+ a quarter jitter)
    assert body["checks"]["store"] == "ok", body
    e.d.wait_log(r"store: reconnected to the database", timeout=5)
    m = e.metrics()
    assert m["ironboot_store_up"] == 1 and m["ironboot_store_reconnects_total"] == 1, m

    # service resumed by itself: the refused machines are served now
    after = e.run_storm(e.tmp / "acks2", 10, "52:54:03:00:00:00")
    assert after["done"] == 10, after
    acks2 = read_acks(e.tmp / "acks2")
    assert len(acks2) == 10
    check_acks_stored(e, acks0 + acks2)
    assert e.d.alive()


def test_dhcp6_renewals_while_postgresql_is_stopped(env):
    """DHCPv6: the machines the daemon holds bindings for get their own
    addresses while PostgreSQL is stopped, no row changes; new ones wait
    for it and are served after it is back."""
    e, pg = env, env.pg
    before = e.run_storm(e.tmp / "a0", 10, "52:54:07:00:00:00", family=6)
    assert before["done"] == 10, before
    acks0 = read_acks(e.tmp / "a0")
    rows0 = e.rows6()
    assert sorted(rows0) == sorted(a for _, a in acks0)

    pg.halt("fast")
    e.wait_ready(503, timeout=10)
    down = e.run_storm(e.tmp / "a1", 5, "52:54:08:00:00:00", "--deadline", "6", family=6)
    assert down["done"] == 0 and read_acks(e.tmp / "a1") == [], down
    renewed = e.run_storm(e.tmp / "a2", 10, "52:54:07:00:00:00", family=6)
    assert renewed["done"] == 10, renewed
    assert sorted(read_acks(e.tmp / "a2")) == sorted(acks0)
    assert e.metrics()["ironboot_dhcp6_kept_while_down_total"] == 10

    pg.resume()
    assert e.rows6() == rows0	# nothing was written for the renewals
    e.wait_ready(200, timeout=15)
    after = e.run_storm(e.tmp / "a3", 5, "52:54:08:00:00:00", family=6)
    assert after["done"] == 5, after
    assert len(e.rows6()) == 15


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgresql_restart_under_load_every_ack_has_its_row(env, mode):
    """DORA load across a PostgreSQL restart: every ACK the machines got
    is in the database afterwards, and the whole fleet is served in the
    end without restarting the daemon."""
    e, pg = env, env.pg
    machines, rate = 400, 40		# 10 s of power-ons, bounded
    acks = e.tmp / "acks"
    p = e.lab.popen(e.cli, e.storm_argv(acks, machines, "52:54:04:00:00:00",
                                        "--rate", str(rate), "--deadline", "90"),
                    stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        pg.halt(mode)
        time.sleep(2)
        pg.resume()
        out, _ = p.communicate(timeout=150)
    finally:
        if p.poll() is None:
            e.lab.kill(p)
    rep = json.loads(out)
    got = read_acks(acks)
    # no ACK without its row, however the server went down
    check_acks_stored(e, got)
    # every machine acknowledged once, one address each
    assert rep["done"] == machines, rep
    assert len({mac for mac, _ in got}) == machines
    assert len({a for _, a in got}) == machines
    assert e.ready()[0] == 200
    assert "store: reconnected to the database" in e.d.log(), e.d.log_tail()
    assert e.d.alive()
