"""ironbootd on a PostgreSQL store (server.store: postgresql://..., issue
#16 phase 1).  A real PostgreSQL 15 (tests/lib/pglab.py: initdb + pg_ctl
as nobody, a Unix socket in a temp dir, password auth, removed afterwards),
the lab config (examples/lab.yaml) with server.store and
server.store_password_file, real dhclient for DHCPv4 and DHCPv6 in a
namespace: the leases are rows in PostgreSQL, no SQLite file is made, and
after a restart the daemon answers the same clients from those rows.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_store_pg.py -v
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

import netlab
from pglab import PgServer

SRV4, SRV6 = "198.18.0.1", "fd00:b007::1"


def need(tool: str) -> None:
    if not shutil.which(tool):
        pytest.fail(f"{tool} not found on PATH: install step failed "
                    f"(scripts/deps.sh test)", pytrace=False)


def write_config(tmp: Path, **server) -> Path:
    cfg = netlab.lab_config()
    cfg["server"].update(state_dir=str(tmp / "state"), **server)
    cfg["tftp"]["enabled"] = False
    cfg["http"]["assets"] = str(tmp / "assets")
    path = tmp / "ironboot.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


class Env:
    def __init__(self, lab, tmp: Path, pg: PgServer):
        self.lab, self.tmp, self.pg = lab, tmp, pg
        self.srv, self.cli = lab.netns("srv"), lab.netns("cli")
        for ns in (self.srv, self.cli):
            lab.sysctl(ns, "net.ipv6.conf.all.accept_dad", "0")
            lab.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0")
        lab.veth(self.srv, "srv0", self.cli, "cli0")
        lab.addr(self.srv, "srv0", f"{SRV4}/24")
        lab.addr(self.srv, "srv0", f"{SRV6}/64")
        lab.up(self.srv, "srv0")
        lab.up(self.cli, "cli0")
        self.cfg = write_config(tmp, store=pg.uri, store_password_file=pg.password_file)
        self.d = netlab.Daemon(lab, self.srv, self.cfg).start(timeout=30)
        script = tmp / "dhclient-script"
        script.write_text("#!/bin/sh\nexit 0\n")
        script.chmod(0o755)
        self.script = script

    def dhclient(self, *family: str) -> str:
        """One dhclient run (-1: give up after one try); its bound address."""
        tag = "6" if family else "4"
        r = self.lab.run(self.cli, ["dhclient", *family, "-1", "-v",
                                    "-lf", str(self.tmp / f"d{tag}.leases"),
                                    "-pf", str(self.tmp / f"d{tag}.pid"),
                                    "-sf", str(self.script), "cli0"], timeout=60)
        assert r.returncode == 0, r.stderr
        leases = (self.tmp / f"d{tag}.leases").read_text()
        key = r"iaaddr ([0-9a-f:]+)" if family else r"fixed-address ([0-9.]+);"
        found = re.findall(key, leases)
        assert found, leases
        return found[-1]

    def rows4(self) -> list[tuple[str, int]]:
        out = self.pg.psql("SELECT address, state FROM leases4 ORDER BY address")
        rows = [line.split("|") for line in out.splitlines() if line]
        return [(".".join(str((int(a) >> s) & 255) for s in (24, 16, 8, 0)), int(st))
                for a, st in rows]

    def rows6(self) -> list[tuple[str, int]]:
        out = self.pg.psql("SELECT encode(address, 'hex'), state FROM leases6"
                           " ORDER BY address")
        rows = [line.split("|") for line in out.splitlines() if line]
        import ipaddress
        return [(str(ipaddress.IPv6Address(bytes.fromhex(a))), int(st)) for a, st in rows]


@pytest.fixture
def pg():
    need("psql")
    with PgServer(password="ib-test-secret") as server:
        yield server


def test_dhcp4_dhcp6_leases_in_postgresql_survive_restart(lab, tmp_path, pg):
    need("dhclient")
    e = Env(lab, tmp_path, pg)
    assert "store: PostgreSQL" in e.d.log(), e.d.log_tail()

    a4 = e.dhclient()
    assert e.rows4() == [(a4, 1)], e.rows4()
    a6 = e.dhclient("-6")
    assert e.rows6() == [(a6, 1)], e.rows6()
    # the journal and the server's identity are in PostgreSQL too
    assert int(pg.psql("SELECT count(*) FROM events WHERE proto = 'dhcp4'")) > 0
    assert len(pg.psql("SELECT value FROM meta WHERE key = 'server_id'")) == 32
    # and nothing went to a SQLite file beside it
    assert not (tmp_path / "state" / "ironboot.db").exists()
    # the CLI reads the same store, through the same password file
    cli_rows = e.d.cli_json("leases")
    assert a4 in str(cli_rows), cli_rows

    e.d.stop()
    e.d.start(timeout=30)
    # after the restart the rows are read back, not made again: the same
    # clients renew the same addresses, and no second row appears
    assert e.dhclient() == a4
    assert e.dhclient("-6") == a6
    assert e.rows4() == [(a4, 1)], e.rows4()
    assert e.rows6() == [(a6, 1)], e.rows6()
    cltt = int(pg.psql(f"SELECT cltt FROM leases4 WHERE address = "
                       f"{int.from_bytes(bytes(map(int, a4.split('.'))), 'big')}"))
    assert cltt >= int(time.time()) - 60


def test_store_password_in_uri_refused(lab, tmp_path, ironbootd_bin):
    """A URI that carries the password is a config error at its
    file:line:column, never a connection attempt."""
    cfg = write_config(tmp_path, store="postgresql://ironboot:hunter2@/ironboot?host=/tmp")
    r = lab.run(lab.netns("x"), [str(ironbootd_bin), "--check-config", str(cfg)])
    assert r.returncode == 1, r.stderr
    line = next(i for i, s in enumerate(cfg.read_text().splitlines(), 1)
                if s.strip().startswith("store:"))
    assert re.search(rf"{re.escape(str(cfg))}:{line}:\d+", r.stderr), r.stderr
    assert "server.store_password_file" in r.stderr, r.stderr
    assert "hunter2" not in r.stderr, r.stderr
    bad = write_config(tmp_path, store="mysql://x")
    r = lab.run(lab.netns("y"), [str(ironbootd_bin), "--check-config", str(bad)])
    assert r.returncode == 1 and "postgresql://" in r.stderr, r.stderr


def test_unreachable_postgresql_refuses_to_start(lab, tmp_path):
    """No server at the socket: ironbootd says so and exits non-zero."""
    cfg = write_config(tmp_path, store="postgresql://ironboot@/ironboot?host=/nonexistent")
    srv = lab.netns("srv")
    d = netlab.Daemon(lab, srv, cfg)
    assert d.start_fails(timeout=30) != 0
    assert "cannot open store postgresql://" in d.log(), d.log_tail()


def test_check_config_connects_to_postgresql(lab, tmp_path, pg, ironbootd_bin):
    """--check-config reaches the database as the daemon would, says its
    schema version and changes nothing; one it cannot reach is an error
    with libpq's reason."""
    ns = lab.netns("chk")
    cfg = write_config(tmp_path, store=pg.uri, store_password_file=pg.password_file)
    r = lab.run(ns, [str(ironbootd_bin), "--check-config", str(cfg)])
    assert r.returncode == 0, r.stderr
    m = re.search(r"reachable, schema version 0; the daemon's start upgrades it to (\d+)",
                  r.stdout)
    assert m, r.stdout
    # nothing was created by the check
    assert pg.psql("SELECT to_regclass('ib_schema') IS NULL") == "t"
    e = Env(lab, tmp_path, pg)		# the daemon's start sets the schema up
    e.d.stop()
    r = lab.run(ns, [str(ironbootd_bin), "--check-config", str(e.cfg)])
    assert r.returncode == 0, r.stderr
    assert f"reachable, schema version {m.group(1)} (this build's)" in r.stdout, r.stdout
    # a wrong password: refused by the server, said
    bad_pw = tmp_path / "wrong-password"
    bad_pw.write_text("not-it\n")
    bad_pw.chmod(0o644)
    cfg2 = write_config(tmp_path, store=pg.uri, store_password_file=str(bad_pw))
    r = lab.run(ns, [str(ironbootd_bin), "--check-config", str(cfg2)])
    assert r.returncode == 1, r.stdout
    assert "cannot connect" in r.stderr and "password authentication failed" in r.stderr, \
        r.stderr
    # no server at all
    cfg3 = write_config(tmp_path, store="postgresql://ironboot@/ironboot?host=/nonexistent")
    r = lab.run(ns, [str(ironbootd_bin), "--check-config", str(cfg3)])
    assert r.returncode == 1, r.stdout
    assert re.search(r"server.store postgresql://\S+: cannot connect: .*/nonexistent",
                     r.stderr), r.stderr
