"""The boot-storm lab: ironboot-storm in one namespace relaying a fleet's
DHCP to a server stack in another (tests/integration/test_storm.py and
bench/storm share it):

    srv: srv0 198.18.0.1/15, fd00:b007::1/64      the server stack
         routes 198.19.0.0/16 via 198.18.0.2, fd00:b007:1::/64 via fd00:b007::2
      <->
    cli: cli0 198.18.0.2/15, fd00:b007::2/64      ironboot-storm
         AnyIP: 198.19.0.0/16 and fd00:b007:1::/64 local (ip route add local ... dev lo)

The simulator relays DHCP (giaddr 198.18.0.2; RELAY-FORW with link-address
fd00:b007:1::1), so the leases come from the relayed pools, and the AnyIP
routes make those addresses local in cli: each machine fetches TFTP and
HTTP from its own leased address.
"""

from __future__ import annotations

import netlab

SRV4, CLI4, SRV6, CLI6, LINK6 = ("198.18.0.1", "198.18.0.2", "fd00:b007::1",
                                 "fd00:b007::2", "fd00:b007:1::1")
RELAYED4, RELAYED6 = "198.19.0.0/16", "fd00:b007:1::/64"


def make(lab: netlab.Lab) -> tuple[str, str]:
    """Create the srv and cli namespaces above in `lab`; return their names."""
    srv, cli = lab.pair("srv", "cli", (f"{SRV4}/15", f"{SRV6}/64"), (f"{CLI4}/15", f"{CLI6}/64"))
    lab.route(srv, RELAYED4, "via", CLI4)
    lab.ip(srv, "-6", "route", "add", RELAYED6, "via", CLI6)
    # AnyIP: every address of the relayed pools is local in cli
    lab.ip(cli, "route", "add", "local", RELAYED4, "dev", "lo")
    lab.ip(cli, "-6", "route", "add", "local", RELAYED6, "dev", "lo")
    return srv, cli


def storm_args(family: int | str) -> list[str]:
    """ironboot-storm's family, server and relay arguments for this lab
    (family 4 or 6)."""
    if str(family) == "4":
        return ["-4", "--server", SRV4, "--relay", CLI4]
    return ["-6", "--server", SRV6, "--relay", CLI6, "--link", LINK6]
