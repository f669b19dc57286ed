"""ironboot-storm against ironbootd: a small fleet walks the whole chain.

The lab, in namespaces created here:

    srv: srv0 198.18.0.1/15, fd00:b007::1/64        ironbootd
         routes 198.19.0.0/16 via 198.18.0.2, fd00:b007:1::/64 via fd00:b007::2
      <->
    cli: cli0 198.18.0.2/15, fd00:b007::2/64        ironboot-storm
         AnyIP: ip route add local 198.19.0.0/16 dev lo (and fd00:b007:1::/64)

ironboot-storm relays DHCP for every machine (giaddr 198.18.0.2; DHCPv6
RELAY-FORW with link-address fd00:b007:1::1), so the leases come from the
relayed pools 198.19.0.0/16 and fd00:b007:1::/64; the AnyIP routes make
those addresses local in cli, so each machine fetches its boot file, its
script and its kernel from its own leased address, and the daemon's
machine_auth (strict, the default) lets each read only its own script.

50 machines powered on within 2 s must all reach their kernel (DHCP as
firmware, TFTP of a 300 KB first stage with blksize/tsize/windowsize, DHCP
as iPXE, the script, a 2 MB kernel and a 1 MB initrd), over IPv4 and IPv6,
with zero failures; the run is bounded by the simulator's --deadline and
by the test's timeout.  The daemon's leases must be the simulator's
machines', one each.

Run:  sudo /usr/bin/python3 -m pytest tests/integration/test_storm.py -v
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import netlab  # noqa: E402
import stormlab  # noqa: E402

MACHINES = 50
SIZES = {"ipxe.efi": 300_000, "vmlinuz": 2_000_000, "initrd.img": 1_000_000}


def storm_bin(build: Path) -> Path:
    p = netlab.find_binary(build, "ironboot-storm")
    if not p.exists():
        pytest.fail(f"{p} not built", pytrace=False)
    return p


def make_env(lab, tmp_path, build_dir, family):
    tftp, assets = tmp_path / "tftp", tmp_path / "assets"
    tftp.mkdir()
    assets.mkdir()
    for name, size in SIZES.items():
        (tftp if name == "ipxe.efi" else assets).joinpath(name).write_bytes(os.urandom(size))
    cfg = stormlab.full_chain(stormlab.config(tmp_path / "state"), family,
                              tftp_root=tftp, assets=assets, max_transfers=2000)
    cfg = stormlab.write_config(cfg, tmp_path / "ironboot.yaml")
    srv, cli = stormlab.make(lab)
    d = netlab.Daemon(lab, srv, cfg).start(timeout=20)
    return lab, d, cli, storm_bin(build_dir), tmp_path


@pytest.fixture
def env(lab, tmp_path, ironbootd_bin, build_dir):
    return make_env(lab, tmp_path, build_dir, "4")


@pytest.fixture
def env6(lab, tmp_path, ironbootd_bin, build_dir):
    return make_env(lab, tmp_path, build_dir, "6")


def run_storm(lab, cli, binary, *args, timeout=150):
    p = lab.run(cli, [str(binary), "--machines", str(MACHINES), "--within", "2",
                      "--deadline", "120", "--json", *args],
                check=False, timeout=timeout)
    assert p.returncode in (0, 3), p.stderr
    return json.loads(p.stdout), p


@pytest.mark.parametrize("family", ["4", "6"])
def test_fleet_reaches_kernel(request, family):
    lab, d, cli, binary, tmp = request.getfixturevalue("env" if family == "4" else "env6")
    rep, p = run_storm(lab, cli, binary, *stormlab.storm_args(family), "--hist", str(tmp / "hist.tsv"), "-v")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert rep["done"] == MACHINES
    for stage in ("dhcp", "tftp", "dhcp-ipxe", "script", "kernel"):
        st = rep["stages"][stage]
        assert (st["ok"], st["failed"]) == (MACHINES, 0), (stage, st)
        assert 0 < st["p50_ms"] <= st["p99_ms"] <= st["max_ms"]
    # two exchanges per DHCP stage, one transfer, one script, kernel + initrd
    assert rep["stages"]["dhcp"]["exchanges"] == 2 * MACHINES
    assert rep["stages"]["tftp"]["exchanges"] == MACHINES
    assert rep["stages"]["kernel"]["exchanges"] == 2 * MACHINES
    assert rep["ttk_max_s"] <= rep["last_done_s"] + 0.001
    assert rep["cpu_s"] > 0 and rep["unmatched_replies"] == 0
    # the client's run-queue wait is reported: on a loaded host it, not the
    # server, can set a lock-step transfer's time (bench/storm, #15)
    assert 0 <= rep["runq_wait_s"] <= rep["wall_s"]
    hist = (tmp / "hist.tsv").read_text().splitlines()
    assert hist[0] == "stage\tlo_ms\thi_ms\tcount"
    assert sum(int(line.split("\t")[3]) for line in hist[1:]
               if line.startswith("kernel\t")) == MACHINES
    # the daemon bound one address per simulated machine
    leases = d.cli_json("leases" if family == "4" else "leases6")
    macs = {lease["mac"] for lease in leases}
    assert len(leases) == MACHINES and len(macs) == MACHINES
    assert "52:54:01:00:00:00" in macs and f"52:54:01:00:00:{MACHINES - 1:02x}" in macs


def test_until_dhcp_and_table(env):
    """--until dhcp stops after the firmware's DORA; the table names the stage."""
    lab, d, cli, binary, tmp = env
    p = lab.run(cli, [str(binary), "--server", "198.18.0.1", "--relay", "198.18.0.2",
                      "--machines", "200", "--rate", "400", "--until", "dhcp"],
                check=False, timeout=60)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "reached dhcp: 200" in p.stdout
    assert re.search(r"waited \d+\.\d{3} s runnable for a CPU", p.stdout), p.stdout
    assert p.stdout.splitlines()[1].split()[:3] == ["dhcp", "200", "0"]


def test_no_server_fails_by_reason(env):
    """Against a server that does not answer, every machine fails with a
    reason after the firmware's retransmits, within the deadline."""
    lab, d, cli, binary, tmp = env
    p = lab.run(cli, [str(binary), "--server", "198.18.0.99", "--relay", "198.18.0.2",
                      "--machines", "5", "--within", "0.1", "--until", "dhcp",
                      "--deadline", "5", "--json"], check=False, timeout=30)
    assert p.returncode == 3, p.stderr
    rep = json.loads(p.stdout)
    st = rep["stages"]["dhcp"]
    assert st["failed"] == 5 and st["ok"] == 0
    # 4 s then 8 s: the first retransmit happened, the deadline came first
    assert st["failures"] == {"deadline": 5} and st["retransmits"] == 5
