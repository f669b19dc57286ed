"""Router advertisements in auto mode (issue #11), against rdisc6 and a
foreign router sent by scapy, in namespaces the test creates:

    ns srv:  srv0 198.18.0.1/24  ironbootd ---.
    ns cli:  cli0 (link-local)   rdisc6 ------+-- br0 (ns sw, no MLD snooping)
    ns rtr:  rtr0                scapy "router" (fe80::b007:1)

iPXE configures IPv6 as well as IPv4 and, when no router advertisement
comes, waits ~16 s before it boots.  `router_advertisements.enabled: auto`
(the default, and examples/lab.yaml's) makes ironbootd advertise on its
boot links when no other router does, never as a default router:

  test_auto_dhcp4_only      lab.yaml with DHCPv4 only: after listening, an
                            RA with router lifetime 0, M=0, O=0, no prefix;
                            the journal and `explain` say it advertises
  test_lab_yaml_as_shipped  examples/lab.yaml unmodified (DHCPv4 and DHCPv6
                            on srv0): router lifetime 0, M=1, O=1 and the
                            DHCPv6 prefix on-link without SLAAC
  test_router_appears       a router starts advertising later: ironbootd
                            logs it once and stops; rdisc6 then hears only
                            the router; journal and `explain` say "quiet"
  test_router_already_there a router answers the daemon's own solicitation
                            while it listens: it never advertises
  test_peer_tie_break       another advertiser with router lifetime 0 (as a
                            second ironbootd would be) and a higher
                            link-local address: ours keeps advertising
  test_disabled_explain     enabled: false: no RA server, and `explain`
                            says the client waits for IPv6

Negative checks never sleep: they follow the daemon's log line saying it
heard the foreign RA, and rdisc6 -m then waits its own window (4 s: an
advertising daemon answers a solicitation within 3.5 s).

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_ra_auto.py -v
"""

from __future__ import annotations

import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import netlab

sys.path.insert(0, str(netlab.REPO / "tests" / "e2e"))
from fresh_host import shipped_daemon  # noqa: E402

SRV_IP = "198.18.0.1"
RTR_LL = "fe80::b007:1"                  # the foreign router's source address
PEER_HIGH = "fe80::ffff:ffff:ffff:ffff"  # above any EUI-64 link-local address
MAC = "52:54:00:00:00:10"                # examples/lab.yaml's node10
ADVERTISING = re.escape("ra: srv0: no other router heard; advertising")

# The foreign router: one RA at start, then one per Router Solicitation it
# sees (rdisc6's, the daemon's own), for at most `seconds`.
ROUTER = r'''
import sys
from scapy.all import (Ether, IPv6, ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6NDOptSrcLLAddr,
                       get_if_hwaddr, sendp, sniff)
iface, src, lifetime, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
mac = get_if_hwaddr(iface)
ra = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=src, dst="ff02::1", hlim=255) /
      ICMPv6ND_RA(routerlifetime=lifetime, M=0, O=0) / ICMPv6NDOptSrcLLAddr(lladdr=mac))

def answer(p):
    if p[Ether].src != mac:
        sendp(ra, iface=iface, verbose=False)
        print("answered", p[IPv6].src, flush=True)

def started():
    sendp(ra, iface=iface, verbose=False)
    print("listening", flush=True)

sniff(iface=iface, lfilter=lambda p: ICMPv6ND_RS in p, prn=answer, store=False,
      timeout=seconds, started_callback=started)
'''


def need(tool: str) -> None:
    if not shutil.which(tool):
        pytest.fail(f"{tool} not found on PATH: install step failed "
                    f"(scripts/deps.sh test)", pytrace=False)


class Env:
    """srv, cli and rtr on one bridge; the daemon on srv0."""

    def __init__(self, lab: netlab.Lab, tmp: Path):
        self.lab, self.tmp = lab, tmp
        self.srv, self.cli = lab.netns("srv"), lab.netns("cli")
        self.rtr, self.sw = lab.netns("rtr"), lab.netns("sw")
        for ns in (self.srv, self.cli, self.rtr, self.sw):
            lab.sysctl(ns, "net.ipv6.conf.all.accept_dad", "0")
            lab.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0")
        lab.veth(self.srv, "srv0", self.sw, "p-srv")
        lab.veth(self.cli, "cli0", self.sw, "p-cli")
        lab.veth(self.rtr, "rtr0", self.sw, "p-rtr")
        lab.bridge(self.sw, "br0", ports=["p-srv", "p-cli", "p-rtr"])
        # RSs go to ff02::2: flood them to every port, listener or not
        lab.ip(self.sw, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0")
        lab.addr(self.srv, "srv0", f"{SRV_IP}/24")
        self.srv_ll = self.linklocal(self.srv, "srv0")
        self.linklocal(self.cli, "cli0")
        self.router: subprocess.Popen | None = None
        self.d: netlab.Daemon | None = None

    def linklocal(self, ns: str, dev: str) -> str:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            out = self.lab.run(ns, ["ip", "-6", "-o", "addr", "show", "dev", dev,
                                    "scope", "link"]).stdout
            m = re.search(r"inet6 (fe80::[0-9a-f:]+)/64", out)
            if m and "tentative" not in out:
                return m.group(1)
            time.sleep(0.1)
        raise AssertionError(f"no link-local address on {dev}")

    def start(self, ra: dict | None = None, dhcp6: bool = False) -> netlab.Daemon:
        """examples/lab.yaml (paths made absolute), state under tmp; DHCPv6
        off unless dhcp6 (then as the file says); ra: router_advertisements
        keys (none: the default, auto)."""
        cfg = netlab.lab_config()
        cfg["server"]["state_dir"] = str(self.tmp / "state")
        if not dhcp6:
            cfg["dhcp6"] = {"enabled": False}
        if ra is not None:
            cfg["dhcp6"]["router_advertisements"] = ra
        path = self.tmp / "ironboot.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        self.d = netlab.Daemon(self.lab, self.srv, path).start(timeout=20)
        return self.d

    def start_router(self, src: str = RTR_LL, lifetime: int = 1800) -> None:
        """The scapy router in rtr, once it sniffs (its first RA sent)."""
        script = self.tmp / "router.py"
        script.write_text(ROUTER)
        self.router = self.lab.popen(
            self.rtr, ["/usr/bin/python3", str(script), "rtr0", src, str(lifetime), "120"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.router.stdout], [], [], 0.5)
            if ready and "listening" in self.router.stdout.readline():
                return
            if self.router.poll() is not None:
                break
        raise AssertionError(f"scapy router did not start: {self.router.stderr.read()[-800:]}")

    def rdisc6(self, multiple: bool = False) -> str:
        """rdisc6 on cli0: the first RA (-1), or every RA within 4 s (-m)."""
        args = ["-m", "-r", "1"] if multiple else ["-1", "-r", "3"]
        p = self.lab.run(self.cli, ["rdisc6", "-n", *args, "-w", "4000", "cli0"], timeout=60)
        assert multiple or p.returncode == 0, f"rdisc6: {p.stderr}\n{self.d.log_tail()}"
        return p.stdout

    def close(self) -> None:
        if self.router is not None:
            self.lab.kill(self.router)


def senders(out: str) -> list[str]:
    """The source of each RA rdisc6 printed ("from fe80::1%cli0")."""
    return re.findall(r"^\s*from (fe80::[0-9a-f:]+)", out, re.M)


def field(out: str, name: str) -> str:
    m = re.search(rf"{re.escape(name)}\s*:\s*(\S+)", out)
    assert m, f"no {name!r} in rdisc6 output:\n{out}"
    return m.group(1)


def explain_ra(d: netlab.Daemon) -> list[dict]:
    return d.cli_json("explain", "--mac", MAC)["router_advertisements"]


@pytest.fixture
def env(lab, tmp_path, ironbootd_bin):
    need("rdisc6")
    e = Env(lab, tmp_path)
    yield e
    e.close()


def test_auto_dhcp4_only(env):
    """Only DHCPv4 serves srv0: router lifetime 0, M=0, O=0, no prefix."""
    d = env.start()
    d.wait_log("ra: srv0: listening 4 s for another router before advertising (auto)")
    d.wait_log(ADVERTISING, timeout=15, regex=True)
    out = env.rdisc6()
    assert senders(out) == [env.srv_ll], out
    assert field(out, "Router lifetime") == "0", out
    assert field(out, "Stateful address conf.") == "No", out
    assert field(out, "Stateful other conf.") == "No", out
    assert "Prefix" not in out, out
    kinds = [(e["kind"], e["detail"]["interface"])
             for e in d.cli_json("events", "--proto", "ra")]
    assert kinds == [("listening", "srv0"), ("advertising", "srv0")], kinds
    ra = explain_ra(d)
    assert [(r["link"], r["state"], r["waits"]) for r in ra] == \
        [("srv0", "sends", False)], ra
    assert (ra[0]["managed"], ra[0]["other"], ra[0]["router_lifetime"]) == (False, False, 0)
    d.stop()


def test_lab_yaml_as_shipped(lab, tmp_path, ironbootd_bin):
    """examples/lab.yaml unmodified: DHCPv6 serves srv0 too, so M=1, O=1 and
    its prefix on-link, not for SLAAC; still router lifetime 0."""
    need("rdisc6")
    netlab.require_tool("unshare", "nsenter")
    srv, cli = lab.netns("srv"), lab.netns("cli")
    for ns in (srv, cli):
        lab.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0")
    lab.veth(srv, "srv0", cli, "cli0")
    lab.addr(srv, "srv0", f"{SRV_IP}/24")
    lab.addr(srv, "srv0", "fd00:b007::1/64")
    d = shipped_daemon(lab, srv, "lab.yaml", tmp_path, cover="/tmp")
    d.start(timeout=20)
    d.wait_log(ADVERTISING, timeout=15, regex=True)
    p = lab.run(cli, ["rdisc6", "-n", "-1", "-r", "3", "-w", "4000", "cli0"], timeout=60)
    out = p.stdout
    assert p.returncode == 0, p.stderr
    assert field(out, "Router lifetime") == "0", out
    assert field(out, "Stateful address conf.") == "Yes", out
    assert field(out, "Stateful other conf.") == "Yes", out
    assert "Prefix                   : fd00:b007::/64" in out, out
    assert field(out, "On-link") == "Yes", out
    assert field(out, "Autonomous address conf.") == "No", out
    d.stop()


def test_router_appears(env):
    """Advertising, then a router advertises: logged once, we stop."""
    d = env.start()
    d.wait_log(ADVERTISING, timeout=15, regex=True)
    assert senders(env.rdisc6()) == [env.srv_ll]
    since = d.log_size()
    env.start_router()
    d.wait_log(f"ra: srv0: heard a router advertisement from {RTR_LL} (router lifetime "
               f"1800 s); stopped advertising on srv0 while it does", since=since)
    out = env.rdisc6(multiple=True)
    got = senders(out)
    assert RTR_LL in got and env.srv_ll not in got, out
    # the router answers every solicitation: said once all the same
    assert d.log(since).count("heard a router advertisement") == 1, d.log(since)
    quiet = [e["detail"] for e in d.cli_json("events", "--proto", "ra")
             if e["kind"] == "quiet"]
    assert quiet == [{"interface": "srv0", "router": RTR_LL, "router_lifetime": 1800}], quiet
    ra = explain_ra(d)
    assert (ra[0]["state"], ra[0]["waits"], ra[0]["router"]) == ("quiet", True, RTR_LL), ra
    text = d.cli("explain", "--mac", MAC)
    assert f"RA     quiet  on srv0: {RTR_LL} advertised there" in text, text
    d.stop()


def test_router_already_there(env):
    """A router answers the daemon's solicitation: it never advertises."""
    env.start_router()
    d = env.start()
    d.wait_log(f"ra: srv0: heard a router advertisement from {RTR_LL} (router lifetime "
               f"1800 s); not advertising on srv0 while it does", timeout=15)
    out = env.rdisc6(multiple=True)
    got = senders(out)
    assert RTR_LL in got and env.srv_ll not in got, out
    assert "advertising every" not in d.log(), d.log_tail()
    d.stop()


def test_peer_tie_break(env):
    """Another non-router advertiser (lifetime 0) with a higher address: ours
    stays, so two daemons that start together do not both fall silent."""
    d = env.start()
    d.wait_log(ADVERTISING, timeout=15, regex=True)
    since = d.log_size()
    env.start_router(src=PEER_HIGH, lifetime=0)
    d.wait_log(f"ra: srv0: {PEER_HIGH} also advertises without being a router; ours is "
               f"the lower address, so it keeps advertising", since=since)
    got = senders(env.rdisc6(multiple=True))
    assert env.srv_ll in got and PEER_HIGH in got, got
    d.stop()


def test_disabled_explain(env):
    """enabled: false: no RA server; explain says the client waits."""
    d = env.start(ra={"enabled": False})
    assert "ra: " not in d.log(), d.log_tail()
    ra = explain_ra(d)
    assert [(r["link"], r["state"], r["waits"]) for r in ra] == [("srv0", "none", True)], ra
    text = d.cli("explain", "--mac", MAC)
    assert ("RA     none   on srv0: the client waits for IPv6 configuration before it "
            "boots") in text, text
    assert "why: dhcp6.router_advertisements.enabled is false" in text, text
    d.stop()
