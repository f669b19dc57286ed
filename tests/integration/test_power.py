"""Power control through BMCs (issue #13, docs/POWER.md), against real BMC
software: OpenIPMI's ipmi_sim as the BMC of a QEMU VM (IPMI v2.0 RMCP+
through libfreeipmi), and tests/lib/redfish_emu.py driving a QEMU VM over
QMP (itself checked against a real Redfish client, python3-sushy).

Every BMC lives in namespace "bmc" (198.18.0.2); ironboot's side,
build/ironboot-power, runs in namespace "srv" (198.18.0.1) and drives the
power module on a libevent loop as the daemon's lifecycle will.  The VM's
state is read from QEMU's side (QMP query-status, the process), not only
from the BMC's answer.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import bmc as B
from netlab import find_binary, require_tool

SRV_IP, BMC_IP = "198.18.0.1", "198.18.0.2"
USER, PASSWORD = "admin", "pw-Zx81-secret"


@pytest.fixture
def power_tool(build_dir):
    p = find_binary(build_dir, "ironboot-power")
    if not p.exists():
        pytest.fail(f"{p} is not built")
    return p


@pytest.fixture
def net(lab):
    srv, bmc = lab.netns("srv"), lab.netns("bmc")
    lab.veth(srv, "srv0", bmc, "bmc0")
    lab.addr(srv, "srv0", f"{SRV_IP}/24")
    lab.addr(bmc, "bmc0", f"{BMC_IP}/24")
    return srv, bmc


@pytest.fixture
def secrets(tmp_path):
    return B.write_secrets(tmp_path / "secrets.json", {
        "lab": (USER, PASSWORD), "wrong": (USER, "not-the-password")})


def ipmi_bmc(name="node1", credential="lab", **kw):
    kw.setdefault("timeout_ms", 3000)
    return dict(name=name, driver="ipmi", address=BMC_IP, credential=credential,
                ipmi_workarounds=["opensesspriv"], **kw)


def redfish_bmc(name="node1", port=8000, credential="lab", scheme="http", **kw):
    kw.setdefault("timeout_ms", 5000)
    return dict(name=name, driver="redfish", address=f"{scheme}://{BMC_IP}:{port}",
                credential=credential, **kw)


def one(lab, srv, tool, secrets, bmcs_file, op, name="node1", ok=True):
    rc, res, summary, err = B.run_power(lab, srv, tool, secrets, bmcs_file, op, name)
    r = res.get(name)
    assert r is not None, (rc, res, err)
    assert r["ok"] is ok, (r, err)
    assert (rc == 0) is ok, (rc, r, err)
    return r, summary


# -- IPMI: ipmi_sim as the BMC of a QEMU VM ----------------------------------

def test_ipmi_drives_a_qemu_vm(lab, net, tmp_path, power_tool, secrets):
    """status, on, cycle, off through RMCP+ (cipher suite 3) to ipmi_sim,
    whose startcmd starts the VM and whose VM serial port QEMU's
    ipmi-bmc-extern connects to; QMP confirms each state."""
    require_tool("ipmi_sim", "qemu-system-x86_64", "ss")
    srv, bns = net
    sim = B.IpmiSim(lab, bns, BMC_IP, tmp_path / "sim", USER, PASSWORD, mode="vm").start()
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [ipmi_bmc()])
    go = lambda op: one(lab, srv, power_tool, secrets, bmcs, op)[0]

    assert go("status")["state"] == "off"
    assert sim.vm_pids() == []

    t0 = time.monotonic()
    go("on")
    B.wait_for(lambda: B.vm_status(sim.qmp_path) == "running", 30, "the VM running")
    print(f"ipmi on -> VM running: {time.monotonic() - t0:.2f} s")
    assert go("status")["state"] == "on"
    first = sim.vm_pids()
    assert len(first) == 1

    # cycle: ipmi_sim powers off (the VM process ends) and on again 1 s later
    go("cycle")
    B.wait_for(lambda: (p := sim.vm_pids()) and p != first and
               B.vm_status(sim.qmp_path) == "running", 30, "a new VM process")
    assert go("status")["state"] == "on"

    t0 = time.monotonic()
    go("off")
    B.wait_for(lambda: sim.vm_pids() == [], 15, "the VM process to end")
    print(f"ipmi off -> VM gone: {time.monotonic() - t0:.2f} s")
    assert B.vm_status(sim.qmp_path) is None
    assert go("status")["state"] == "off"

    # ipmi_sim's startcmd mode has no boot-device control: the refusal
    # (completion code 0xC1/0xCC) must come back as a clear error
    r, _ = one(lab, srv, power_tool, secrets, bmcs, "pxe_once", ok=False)
    assert "node1" in r["error"] and "Set System Boot Options" in r["error"], r


def test_ipmi_boot_override_and_power_script(lab, net, tmp_path, power_tool, secrets):
    """pxe_once and disk_once (EFI flag) reach the BMC as boot parameter 5:
    ipmi_sim hands the device to its chassis_control program."""
    require_tool("ipmi_sim", "ss")
    srv, bns = net
    sim = B.IpmiSim(lab, bns, BMC_IP, tmp_path / "sim", USER, PASSWORD,
                    mode="script").start()
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [ipmi_bmc(efi=True)])
    go = lambda op: one(lab, srv, power_tool, secrets, bmcs, op)[0]
    go("pxe_once")
    go("on")
    assert go("status")["state"] == "on"
    go("disk_once")
    go("soft")
    go("off")
    assert go("status")["state"] == "off"
    calls = sim.calls.read_text().splitlines()
    # ipmi_sim's names for the devices: 1 (PXE) "pxe", 2 (disk) "default"
    assert calls == ["boot pxe", "power 1", "boot default", "shutdown 1", "power 0"], calls


def test_ipmi_sessions_in_parallel(lab, net, tmp_path, power_tool, secrets):
    """Eight RMCP+ sessions at once to one BMC from eight workers: libfreeipmi
    contexts on separate threads do not interfere."""
    require_tool("ipmi_sim", "ss")
    srv, bns = net
    B.IpmiSim(lab, bns, BMC_IP, tmp_path / "sim", USER, PASSWORD, mode="script").start()
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [ipmi_bmc(f"n{i}") for i in range(8)])
    rc, res, summary, err = B.run_power(lab, srv, power_tool, secrets, bmcs, "status")
    print(f"8 IPMI sessions at once: {summary['wall_ms']} ms")
    assert rc == 0, (res, err)
    assert len(res) == 8 and all(r["state"] == "off" for r in res.values()), res


def test_ipmi_wrong_password_and_missing_suite(lab, net, tmp_path, power_tool, secrets):
    require_tool("ipmi_sim", "ss")
    srv, bns = net
    B.IpmiSim(lab, bns, BMC_IP, tmp_path / "sim", USER, PASSWORD, mode="script").start()
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [
        ipmi_bmc("badpw", credential="wrong"),
        ipmi_bmc("suite17", cipher_suite=17),
        ipmi_bmc("nocred", credential="absent")])
    rc, res, _, err = B.run_power(lab, srv, power_tool, secrets, bmcs, "status")
    assert rc == 1
    assert res["badpw"]["error"] == \
        "bmc badpw: authentication refused (wrong user or password)", res
    # ipmi_sim (OpenIPMI 2.0.33) has no HMAC-SHA256: suite 17 must fail clearly
    assert "bmc suite17:" in res["suite17"]["error"] and \
        "cipher suite 17" in res["suite17"]["error"], res
    assert res["nocred"]["error"] == \
        'bmc nocred: credential "absent" is not in the secrets file', res
    out = json.dumps(res) + err
    assert PASSWORD not in out and "not-the-password" not in out


def test_ipmi_silent_bmc_times_out_and_loop_stays_responsive(lab, net, tmp_path,
                                                              power_tool, secrets):
    """A BMC that swallows every datagram: the call fails with -ETIMEDOUT
    within timeout x attempts (+ margin) while the loop's 20 ms timer keeps
    firing (largest gap well under the timeout)."""
    srv, bns = net
    sink = B.UdpSink(lab, bns, BMC_IP)
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [
        ipmi_bmc(timeout_ms=1500, retries=1)])
    t0 = time.monotonic()
    r, summary = one(lab, srv, power_tool, secrets, bmcs, "status", ok=False)
    wall = time.monotonic() - t0
    print(f"silent IPMI BMC: failed after {r['elapsed_ms']} ms, {r['attempts']} attempts, "
          f"loop max gap {summary['max_tick_gap_ms']} ms, {summary['ticks']} ticks")
    assert r["errno"] == "Connection timed out", r
    assert r["error"].startswith("bmc node1: no answer to session setup within 1500 ms"), r
    assert r["attempts"] == 2
    assert 2800 <= r["elapsed_ms"] <= 6000, r
    assert wall < 10
    assert summary["max_tick_gap_ms"] < 500, summary
    assert summary["ticks"] >= 50, summary
    assert sink.received() >= 4      # freeipmi retransmitted within each attempt
    sink.close()


# -- Redfish ------------------------------------------------------------------

def test_redfish_drives_a_qemu_vm(lab, net, tmp_path, power_tool, secrets):
    """Session auth: status, pxe_once (UEFI), on (the VM boots once from the
    network: -boot once=n), cycle, off; QMP and the process confirm each."""
    require_tool("qemu-system-x86_64")
    srv, bns = net
    emu = B.RedfishEmu(lab, bns, BMC_IP, 8000, tmp_path / "emu", USER, PASSWORD,
                       vm=True).start()
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [redfish_bmc(efi=True)])
    go = lambda op: one(lab, srv, power_tool, secrets, bmcs, op)[0]

    assert go("status")["state"] == "off"
    go("pxe_once")
    t0 = time.monotonic()
    go("on")
    B.wait_for(lambda: B.vm_status(emu.qmp_path) == "running", 30, "the VM running")
    print(f"redfish on -> VM running: {time.monotonic() - t0:.2f} s")
    argv = emu.vm_argv()
    assert argv[argv.index("-boot") + 1] == "once=n", argv
    assert go("status")["state"] == "on"
    first = emu.vm_pids()

    go("cycle")
    B.wait_for(lambda: (p := emu.vm_pids()) and p != first and
               B.vm_status(emu.qmp_path) == "running", 30, "a new VM process")
    assert "-boot" not in emu.vm_argv()          # the override was spent
    go("off")
    B.wait_for(lambda: emu.vm_pids() == [], 15, "the VM process to end")
    assert go("status")["state"] == "off"

    reqs = emu.requests()
    patch = [r for r in reqs if r["method"] == "PATCH"]
    assert patch[0]["body"] == {"Boot": {"BootSourceOverrideEnabled": "Once",
                                         "BootSourceOverrideTarget": "Pxe",
                                         "BootSourceOverrideMode": "UEFI"}}, patch
    resets = [r["body"]["ResetType"] for r in reqs if r["path"].endswith(".Reset")]
    assert resets == ["On", "PowerCycle", "ForceOff"], resets
    # every operation logged in and out again
    logins = [r for r in reqs if r["auth"] == "login"]
    logouts = [r for r in reqs if r["method"] == "DELETE"]
    assert len(logins) == len(logouts) == 7 and all(r["status"] == 204 for r in logouts)
    assert all(r["auth"] in ("session", "login", None) for r in reqs)


def test_redfish_basic_auth_soft_and_disk(lab, net, tmp_path, power_tool, secrets):
    srv, bns = net
    emu = B.RedfishEmu(lab, bns, BMC_IP, 8000, tmp_path / "emu", USER, PASSWORD).start()
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [
        redfish_bmc(auth="basic", system="/redfish/v1/Systems/1")])
    go = lambda op: one(lab, srv, power_tool, secrets, bmcs, op)[0]
    go("on")
    go("disk_once")
    go("soft")
    assert go("status")["state"] == "off"
    reqs = emu.requests()
    assert {r["auth"] for r in reqs} <= {"basic", None}
    assert not any(r["path"] == "/redfish/v1/Systems" for r in reqs)   # not discovered
    patch = [r["body"] for r in reqs if r["method"] == "PATCH"]
    assert patch == [{"Boot": {"BootSourceOverrideEnabled": "Once",
                               "BootSourceOverrideTarget": "Hdd",
                               "BootSourceOverrideMode": "Legacy"}}]
    assert [r["body"]["ResetType"] for r in reqs if r["path"].endswith(".Reset")] == \
        ["On", "GracefulShutdown"]


def test_redfish_emulator_speaks_to_sushy(lab, net, tmp_path):
    """The emulator is real Redfish to a real client: python3-sushy logs in
    with a session, finds the system, reads and resets it and sets the
    boot override."""
    srv, bns = net
    emu = B.RedfishEmu(lab, bns, BMC_IP, 8000, tmp_path / "emu", USER, PASSWORD).start()
    script = f"""
import json, sushy
from sushy import auth
root = sushy.Sushy("http://{BMC_IP}:8000/redfish/v1", auth=auth.SessionAuth(
    username={USER!r}, password={PASSWORD!r}))
path = root.get_system_collection().members_identities[0]
s = root.get_system(path)
before = str(s.power_state)
s.reset_system(sushy.RESET_ON)
s.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_PXE,
                          enabled=sushy.BOOT_SOURCE_ENABLED_ONCE,
                          mode=sushy.BOOT_SOURCE_MODE_UEFI)
s.refresh()
print(json.dumps({{"path": path, "before": before, "after": str(s.power_state),
                  "target": str(s.boot.target), "enabled": str(s.boot.enabled),
                  "mode": str(s.boot.mode)}}))
"""
    p = lab.run(srv, [B.PY, "-c", script], timeout=60)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.splitlines()[-1])
    assert out["path"] == "/redfish/v1/Systems/1"
    assert out["before"].lower().endswith("off") and out["after"].lower().endswith("on"), out
    assert out["target"].lower().endswith("pxe") and out["enabled"].lower().endswith("once")
    assert out["mode"].lower().endswith("uefi"), out
    assert any(r["auth"] == "login" and r["status"] == 201 for r in emu.requests())


def test_redfish_tls_ca_file_and_explicit_insecure(lab, net, tmp_path, power_tool, secrets):
    require_tool("openssl")
    srv, bns = net
    ca, cert, key = B.make_cert(tmp_path, BMC_IP)
    B.RedfishEmu(lab, bns, BMC_IP, 8443, tmp_path / "emu", USER, PASSWORD,
                 tls=(cert, key)).start()
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [
        redfish_bmc("ca", 8443, scheme="https", ca_file=str(ca)),
        redfish_bmc("unverified", 8443, scheme="https"),
        redfish_bmc("insecure", 8443, scheme="https", insecure=True)])
    rc, res, _, err = B.run_power(lab, srv, power_tool, secrets, bmcs, "status")
    print(f"TLS without the CA: {res['unverified']['error']}")
    assert res["ca"]["ok"] and res["ca"]["state"] == "off", res
    assert res["insecure"]["ok"], res
    assert not res["unverified"]["ok"], res
    assert res["unverified"]["error"].startswith("bmc unverified: GET /redfish/v1/:"), res
    assert res["unverified"]["errno"] == "Key was rejected by service", res
    assert rc == 1


def test_redfish_wrong_password_is_named_and_not_leaked(lab, net, tmp_path, power_tool,
                                                        secrets):
    srv, bns = net
    B.RedfishEmu(lab, bns, BMC_IP, 8000, tmp_path / "emu", USER, PASSWORD).start()
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [
        redfish_bmc("sess", credential="wrong"),
        redfish_bmc("basic", credential="wrong", auth="basic")])
    rc, res, _, err = B.run_power(lab, srv, power_tool, secrets, bmcs, "on")
    assert rc == 1
    for n in ("sess", "basic"):
        assert res[n]["error"].startswith(
            f"bmc {n}: authentication refused (wrong user or password): HTTP 401"), res
        assert res[n]["errno"] == "Permission denied"
    out = json.dumps(res) + err
    assert "not-the-password" not in out and PASSWORD not in out


def test_redfish_hung_bmc_times_out_and_loop_stays_responsive(lab, net, tmp_path,
                                                              power_tool, secrets):
    """A BMC that accepts the connection and never answers: -ETIMEDOUT within
    the deadline, the loop's timer keeps firing, and a healthy BMC polled
    at the same time is not held up by it."""
    srv, bns = net
    sink = B.TcpSink(lab, bns, BMC_IP, 8999)
    B.RedfishEmu(lab, bns, BMC_IP, 8000, tmp_path / "emu", USER, PASSWORD).start()
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [
        redfish_bmc("hung", 8999, timeout_ms=1500, retries=1),
        redfish_bmc("healthy", 8000)])
    rc, res, summary, _ = B.run_power(lab, srv, power_tool, secrets, bmcs, "status")
    h = res["hung"]
    print(f"hung Redfish BMC: failed after {h['elapsed_ms']} ms, {h['attempts']} attempts; "
          f"healthy one answered in {res['healthy']['elapsed_ms']} ms; "
          f"loop max gap {summary['max_tick_gap_ms']} ms")
    assert rc == 1 and not h["ok"]
    assert h["errno"] == "Connection timed out", h
    assert h["error"].startswith("bmc hung: no answer to GET /redfish/v1/ within 1500 ms"), h
    assert 2800 <= h["elapsed_ms"] <= 6000, h
    assert res["healthy"]["ok"] and res["healthy"]["elapsed_ms"] < 2500, res
    assert summary["max_tick_gap_ms"] < 500, summary
    sink.close()


def test_fifty_redfish_bmcs_polled_at_once(lab, net, tmp_path, power_tool, secrets):
    """50 simulated BMCs (one emulator, ports 8000-8049): status on all at
    once with the default 32 workers, then power on with 8 workers (the
    bound queues the rest); each round completes within 60 s on a loaded
    two-core machine."""
    srv, bns = net
    emu = B.RedfishEmu(lab, bns, BMC_IP, 8000, tmp_path / "emu", USER, PASSWORD,
                       count=50).start()
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [
        redfish_bmc(f"n{i:02d}", 8000 + i) for i in range(50)])
    for op, workers in (("status", None), ("on", 8), ("status", None)):
        t0 = time.monotonic()
        rc, res, summary, err = B.run_power(lab, srv, power_tool, secrets, bmcs, op,
                                            workers=workers)
        wall = time.monotonic() - t0
        print(f"50 Redfish BMCs, {op}, workers {workers or 32}: {summary['wall_ms']} ms "
              f"(tool {wall:.2f} s), slowest {max(r['elapsed_ms'] for r in res.values())} "
              f"ms, loop max gap {summary['max_tick_gap_ms']} ms")
        assert rc == 0, (res, err)
        assert len(res) == 50 and summary["count"] == 50 and summary["failed"] == 0
        assert summary["wall_ms"] < 60000
        assert summary["max_tick_gap_ms"] < 1000, summary
    assert all(r["state"] == "on" for r in res.values())
    assert sum(1 for r in emu.requests() if r["path"].endswith(".Reset")) == 50


def test_secrets_file_readable_by_others_is_refused(lab, net, tmp_path, power_tool):
    srv, _ = net
    s = B.write_secrets(tmp_path / "secrets.json", {"lab": (USER, PASSWORD)}, mode=0o640)
    bmcs = B.write_bmcs(tmp_path / "bmcs.json", [redfish_bmc()])
    rc, res, _, err = B.run_power(lab, srv, power_tool, s, bmcs, "status")
    assert rc == 1 and res == {}
    assert "mode 0640 lets others read it; refused" in err, err
    assert PASSWORD not in err
