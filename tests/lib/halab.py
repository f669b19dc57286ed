"""Two ironbootd on one PostgreSQL, on one link (issue #16 phase 2;
tests/integration/test_store_pg_ha.py):

    srva: a0 198.18.0.1/15, fd00:b007::1/64     ironbootd A
    srvb: b0 198.18.0.3/15, fd00:b007::3/64     ironbootd B
      <-> bridge br0 in cli
    cli:  br0 198.18.0.2/15, fd00:b007::2/64    the relay (a test's socket,
          or ironboot-storm with both servers as helpers)

Both daemons serve the relayed pools 198.19.0.0/16 and fd00:b007:1::/64
from the same database (a PgServer's Unix socket: namespaces do not
separate the filesystem), each with a state dir of its own.  The
namespaces are the test's own (netlab.Lab), deleted afterwards.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

import netlab
from pglab import PgServer

SRV4 = {"a": "198.18.0.1", "b": "198.18.0.3"}
SRV6 = {"a": "fd00:b007::1", "b": "fd00:b007::3"}
RELAY4, RELAY6, LINK6 = "198.18.0.2", "fd00:b007::2", "fd00:b007:1::1"
POOL4 = ("198.19.0.10", "198.19.3.250")
POOL6 = ("fd00:b007:1::1000", "fd00:b007:1::1fff")
TOKEN = "ha-api-token"


@pytest.fixture
def pg():
    """A real PostgreSQL 15 with password authentication (pglab.py)."""
    if not shutil.which("psql"):
        pytest.fail("psql not found on PATH: install step failed (scripts/deps.sh test)",
                    pytrace=False)
    with PgServer(password="ib-ha-secret") as server:
        yield server


def config(tmp: Path, name: str, pg, extra_server: dict | None = None,
           pool4: tuple[str, str] = POOL4) -> Path:
    """Daemon name's config ("a" or "b"): DHCP only, relayed pools."""
    cfg = {
        "server": {"state_dir": str(tmp / f"state-{name}"), "log_level": "info",
                   "syslog": False, "store": pg.uri,
                   "store_password_file": pg.password_file, **(extra_server or {})},
        "dhcp4": {"enabled": True, "mode": "server", "interfaces": [f"{name}0"],
                  "authoritative": True, "relays": [RELAY4],
                  "subnets": [{"subnet": "198.18.0.0/15",
                               "pools": [{"start": pool4[0], "end": pool4[1]}],
                               "routers": [SRV4[name]], "lease_time": 3600}]},
        "dhcp6": {"enabled": True, "interfaces": [f"{name}0"], "rapid_commit": False,
                  "subnets": [{"subnet": "fd00:b007:1::/64", "relays": [RELAY6],
                               "pools": [{"start": POOL6[0], "end": POOL6[1]}],
                               "preferred_lifetime": 1800, "valid_lifetime": 3600}],
                  "router_advertisements": {"enabled": False}},
        "boot": {"bios": "undionly.kpxe", "efi_x64": "ipxe.efi",
                 "next_server6": SRV6[name]},
        "tftp": {"enabled": False},
        "http": {"enabled": True, "listen": [SRV4[name]], "port": 8080,
                 "assets": str(tmp / "assets"), "api_token_file": str(tmp / "token")},
    }
    (tmp / "assets").mkdir(exist_ok=True)
    (tmp / "token").write_text(TOKEN + "\n")
    (tmp / "token").chmod(0o600)
    path = tmp / f"ironboot-{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


class Ha:
    """The lab above; daemons started by start()."""

    def __init__(self, lab: netlab.Lab, tmp: Path, pg, extra_server: dict | None = None,
                 pool4: tuple[str, str] = POOL4, build: Path | None = None):
        self.lab, self.tmp, self.pg = lab, tmp, pg
        self.cli = lab.netns("cli")
        self.ns = {n: lab.netns(f"srv{n}") for n in "ab"}
        lab.ip(self.cli, "link", "add", "br0", "type", "bridge", "forward_delay", "0",
               "stp_state", "0")
        for ns in (self.cli, *self.ns.values()):
            lab.sysctl(ns, "net.ipv6.conf.all.accept_dad", "0")
            lab.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0")
        for n, ns in self.ns.items():
            lab.veth(ns, f"{n}0", self.cli, f"p{n}")
            lab.ip(self.cli, "link", "set", f"p{n}", "master", "br0")
            lab.addr(ns, f"{n}0", f"{SRV4[n]}/15")
            lab.addr(ns, f"{n}0", f"{SRV6[n]}/64")
            lab.route(ns, "198.19.0.0/16", "via", RELAY4)
            lab.ip(ns, "-6", "route", "add", "fd00:b007:1::/64", "via", RELAY6)
        lab.up(self.cli, "br0")
        lab.addr(self.cli, "br0", f"{RELAY4}/15")
        lab.addr(self.cli, "br0", f"{RELAY6}/64")
        self.cfg = {n: config(tmp, n, pg, extra_server, pool4) for n in "ab"}
        self.d = {n: netlab.Daemon(lab, self.ns[n], self.cfg[n], build=build) for n in "ab"}

    def start(self, *names: str, timeout: float = 30) -> None:
        for n in names or "ab":
            self.d[n].start(timeout=timeout)

    def http(self, n: str, path: str, *args: str) -> str:
        """curl of daemon n's HTTP API from its namespace, with the token."""
        r = self.lab.run(self.ns[n], ["curl", "-s", "-H", f"Authorization: Bearer {TOKEN}",
                                      *args, f"http://{SRV4[n]}:8080{path}"], timeout=20)
        return r.stdout

    def metric(self, n: str, name: str) -> float:
        """One unlabelled sample of daemon n's GET /metrics."""
        text = self.http(n, "/metrics")
        m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        if not m:
            raise AssertionError(f"{name} not in {n}'s /metrics: {text[-1500:]}")
        return float(m.group(1))

    def wait_listening(self, n: str, since: int = 0, timeout: float = 15) -> None:
        """Until daemon n's store watch LISTENs (its caches follow the peer)."""
        self.d[n].wait_log("store listener: listening", timeout=timeout, since=since)
