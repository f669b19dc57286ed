"""The boot-storm lab: ironboot-storm in one namespace relaying a fleet's
DHCP to a server stack in another, and ironbootd's config for it
(tests/integration/test_storm.py, test_store_pg_outage.py, bench/storm
and bench/pg share both):

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

from pathlib import Path

import netlab

SRV4, CLI4, SRV6, CLI6, LINK6 = ("198.18.0.1", "198.18.0.2", "fd00:b007::1",
                                 "fd00:b007::2", "fd00:b007:1::1")
RELAYED4, RELAYED6 = "198.19.0.0/16", "fd00:b007:1::/64"
POOL4 = ("198.19.0.10", "198.19.3.250")
POOL6 = ("fd00:b007:1::1000", "fd00:b007:1::1fff")
HTTP_PORT = 8080


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


def config(state_dir: str | Path, *, pool4: tuple[str, str] = POOL4,
           pool6: tuple[str, str] = POOL6, lease_time: int = 3600, **server) -> dict:
    """ironbootd's config for this lab, as a dict to add to and write with
    write_config(): DHCPv4 and DHCPv6 on srv0 serving the relayed pools
    (only ironboot-storm's relay address listed), lease_time for a DHCPv4
    lease and a DHCPv6 valid lifetime (preferred: half of it), the boot
    files of a PXE firmware; no TFTP, no HTTP.  server: more keys of the
    `server` section (log_level, store, store_password_file...)."""
    return {
        "server": {"state_dir": str(state_dir), "log_level": "notice", "syslog": False,
                   **server},
        "dhcp4": {"enabled": True, "mode": "server", "interfaces": ["srv0"],
                  "authoritative": True, "relays": [CLI4],
                  "subnets": [{"subnet": "198.18.0.0/15",
                               "pools": [{"start": pool4[0], "end": pool4[1]}],
                               "routers": [SRV4], "lease_time": lease_time}]},
        "dhcp6": {"enabled": True, "interfaces": ["srv0"], "rapid_commit": False,
                  "subnets": [{"subnet": RELAYED6, "relays": [CLI6],
                               "pools": [{"start": pool6[0], "end": pool6[1]}],
                               "preferred_lifetime": lease_time // 2,
                               "valid_lifetime": lease_time}],
                  "router_advertisements": {"enabled": False}},
        "boot": {"bios": "undionly.kpxe", "efi_x64": "ipxe.efi", "next_server6": SRV6},
        "tftp": {"enabled": False},
    }


def full_chain(cfg: dict, family: int | str, *, tftp_root: str | Path,
               assets: str | Path, max_transfers: int) -> dict:
    """cfg (from config()) made to serve the whole chain a simulated machine
    walks: iPXE from TFTP, the script and kernel + initrd over HTTP
    (examples/templates, one profile for every machine).  The script's
    kernel URLs are base_url's, of the first listen address: a family 6
    fleet gets them over IPv6.  Returns cfg."""
    query = "mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}&platform=${platform}"
    cfg["boot"].update(
        ipxe_script=f"http://{SRV4}:{HTTP_PORT}/boot.ipxe?{query}",
        ipxe_script6=f"http://[{SRV6}]:{HTTP_PORT}/boot.ipxe?{query}")
    cfg["tftp"] = {"enabled": True, "root": str(tftp_root),
                   "max_transfers": max_transfers, "max_per_client": 8}
    listen = [SRV4, SRV6] if str(family) == "4" else [SRV6, SRV4]
    cfg["http"] = {"enabled": True, "listen": listen, "port": HTTP_PORT,
                   "assets": str(assets), "templates": str(netlab.EXAMPLES / "templates")}
    cfg["profiles"] = [{"name": "linux", "kernel": "vmlinuz", "initrd": ["initrd.img"],
                        "args": ["console=ttyS0"]}]
    cfg["groups"] = [{"name": "default", "profile": "linux"}]
    return cfg


def write_config(cfg: dict, path: Path) -> Path:
    """cfg as YAML at path; returns path."""
    import yaml  # Debian's python3-yaml (scripts/deps.sh test)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
