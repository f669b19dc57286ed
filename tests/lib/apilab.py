"""A two-namespace lab around one daemon serving examples/lab.yaml with an
API token, for the tests of the API's live stream and the web UI:

    srv: srv0 198.18.0.1/24  <->  cli: cli0 (198.18.0.2/24, or none: the
                                   address a DHCP client configures)
                                   (machine(): more namespaces, each a
                                   macvlan of cli0 with its own MAC and lease)

DHCPv6 and router advertisements off; the HTTP service on 198.18.0.1 only.
"""

from __future__ import annotations

from pathlib import Path

import yaml

import netlab

SRV4 = "198.18.0.1"
PORT = 8080


class ApiLab:
    def __init__(self, lab, tmp: Path, token: str, cli_addr: str | None = "198.18.0.2",
                 sections: dict | None = None, **http):
        self.lab, self.tmp = lab, tmp
        self.srv, self.cli = lab.netns("srv"), lab.netns("cli")
        lab.veth(self.srv, "srv0", self.cli, "cli0")
        lab.addr(self.srv, "srv0", f"{SRV4}/24")
        if cli_addr:
            lab.addr(self.cli, "cli0", f"{cli_addr}/24")
        else:
            lab.up(self.cli, "cli0", "lo")
        self.mac = lab.mac(self.cli, "cli0").lower()
        (tmp / "token").write_text(token + "\n")
        (tmp / "token").chmod(0o600)
        cfg = netlab.lab_config()
        cfg["server"]["state_dir"] = str(tmp / "state")
        cfg["dhcp6"]["enabled"] = False
        cfg["dhcp6"]["router_advertisements"]["enabled"] = False
        cfg["http"].update(listen=[SRV4], assets=str(tmp / "assets"),
                           api_token_file=str(tmp / "token"), **http)
        cfg.update(sections or {})		# whole sections added (lifecycle:)
        (tmp / "assets").mkdir()
        self.path = tmp / "ironboot.yaml"
        self.path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        self.d = netlab.Daemon(lab, self.srv, self.path,
                               log_path=tmp / "ironbootd.stderr").start(timeout=20)
        # udhcpc's script: the client configures the address it is given,
        # as a machine does (its TFTP and HTTP then come from its lease)
        self.script = tmp / "udhcpc.sh"
        self.script.write_text('#!/bin/sh\ncase "$1" in bound|renew) '
                               'ip addr replace "$ip/24" dev "$interface" ;; esac\nexit 0\n')
        self.script.chmod(0o755)

    def udhcpc(self, *extra: str, ns: str | None = None, ifname: str = "cli0") -> None:
        """One DORA by busybox udhcpc on cli0 (or ifname of namespace ns;
        extra: its options)."""
        p = self.lab.run(ns or self.cli, ["busybox", "udhcpc", "-i", ifname, "-n", "-q", "-f",
                                          "-t", "5", "-T", "1", "-s", str(self.script), *extra],
                         timeout=40)
        assert p.returncode == 0, p.stdout + p.stderr

    def machine(self, name: str, mac: str) -> str:
        """Another machine on cli0's link: namespace name whose eth0 is a
        macvlan of cli0 with MAC mac, which takes its DHCPv4 lease (udhcpc)
        and configures it, as a booting machine does: its HTTP requests
        then come from the address leased to mac.  The namespace."""
        ns = self.lab.netns(name)
        self.lab.ip(self.cli, "link", "add", "link", "cli0", "name", f"mv-{name}"[:15],
                    "address", mac, "type", "macvlan", "mode", "bridge")
        self.lab.ip(self.cli, "link", "set", f"mv-{name}"[:15], "netns", ns)
        self.lab.ip(ns, "link", "set", f"mv-{name}"[:15], "name", "eth0")
        self.lab.up(ns, "eth0")
        self.udhcpc(ns=ns, ifname="eth0")
        return ns
