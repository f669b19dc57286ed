"""BMCs for the power tests (tests/integration/test_power.py), each inside a
namespace of a netlab.Lab:

    IpmiSim     OpenIPMI's ipmi_sim on UDP 623, either the BMC of a QEMU VM
                (lan.conf's startcmd starts the VM, which is wired back to
                the simulator by QEMU's ipmi-bmc-extern over a chardev
                socket) or with a chassis_control script that records
                what it is asked (power and boot device)
    RedfishEmu  tests/lib/redfish_emu.py (simulated machines, or a QEMU VM)
    TcpSink / UdpSink   a BMC that answers nothing

and run_power(), which runs build/ironboot-power in a namespace and returns
its JSON lines.  Secrets files are written mode 0600 (write_secrets).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EMU = HERE / "redfish_emu.py"
PY = "/usr/bin/python3"

# The VM behind a BMC: no disk and no NIC, so SeaBIOS finds nothing to boot
# and waits; enough to be a machine that is on or off.  Short and small for
# a two-core CI machine.
VM_ARGV = ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "64",
           "-nodefaults", "-no-user-config", "-display", "none", "-nic", "none"]


def write_secrets(path: Path, entries: dict[str, tuple[str, str]],
                  mode: int = 0o600) -> Path:
    """A secrets file: {name: {"user": u, "password": p}}, with mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({k: {"user": u, "password": p} for k, (u, p) in entries.items()}, f)
    os.chmod(path, mode)
    return path


def write_bmcs(path: Path, bmcs: list[dict]) -> Path:
    path.write_text(json.dumps(bmcs))
    return path


def run_power(lab, ns: str, tool: Path, secrets: Path, bmcs: Path, op: str,
              *names: str, workers: int | None = None, timeout: float = 120):
    """Runs ironboot-power in ns: (exit status, {bmc: result}, summary, stderr)."""
    argv = [str(tool), "--secrets", str(secrets), "--bmcs", str(bmcs)]
    if workers:
        argv += ["--workers", str(workers)]
    p = lab.run(ns, argv + [op, *names], timeout=timeout)
    results, summary = {}, None
    for line in p.stdout.splitlines():
        rec = json.loads(line)
        if "summary" in rec:
            summary = rec["summary"]
        else:
            results[rec["bmc"]] = rec
    return p.returncode, results, summary, p.stderr


def qmp(sock_path: str | Path, cmd: str, timeout: float = 5.0) -> dict | None:
    """One QMP command on a VM's socket; None if the VM is not there."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(sock_path))
        f = s.makefile("rwb")
        json.loads(f.readline())
        for c in ("qmp_capabilities", cmd):
            f.write(json.dumps({"execute": c}).encode() + b"\n")
            f.flush()
            while True:
                msg = json.loads(f.readline())
                if "return" in msg or "error" in msg:
                    break
        return msg
    except (OSError, ValueError):
        return None
    finally:
        s.close()


def vm_status(sock_path: str | Path) -> str | None:
    """QMP query-status of the VM ("running", "paused"...), None if no VM."""
    r = qmp(sock_path, "query-status")
    return r.get("return", {}).get("status") if r else None


def pids_of(pattern: str) -> list[int]:
    """PIDs whose command line contains pattern (a unique path of the test)."""
    p = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


def wait_for(pred, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def _listening(lab, ns: str, proto: str, port: int) -> bool:
    out = lab.run(ns, ["ss", "-H", "-ln", "-" + proto, f"sport = :{port}"]).stdout
    return bool(out.strip())


class IpmiSim:
    """ipmi_sim in ns, LAN channel on addr:623, one admin user.

    mode "vm": startcmd runs QEMU with ipmi-bmc-extern connected back to the
    simulator's VM serial port (127.0.0.1:9002 inside ns), QMP on
    dir/qmp.sock; power on/off/cycle start and stop the qemu process.
    mode "script": chassis_control runs dir/chassis.sh, which keeps the
    power state in dir/power and appends each set (power, boot) to dir/calls.
    mode "chassis": chassis_control is tests/lib/ipmi_chassis.py, which
    starts and stops a real VM (vm_argv, QMP on dir/qmp.sock) and takes
    the boot device: the one mode with both power and boot override.
    """

    def __init__(self, lab, ns: str, addr: str, workdir: Path, user: str,
                 password: str, mode: str = "vm", vm_argv: list[str] | None = None):
        self.lab, self.ns, self.addr, self.dir = lab, ns, addr, workdir
        self.mode = mode
        self.qmp_path = workdir / "qmp.sock"
        self.calls = workdir / "calls"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "state").mkdir(exist_ok=True)
        lines = [
            'name "ibsim"',
            "set_working_mc 0x20",
            "  startlan 1",
            f"    addr {addr} 623",
            "    priv_limit admin",
            "    allowed_auths_callback none md2 md5 straight",
            "    allowed_auths_user none md2 md5 straight",
            "    allowed_auths_operator none md2 md5 straight",
            "    allowed_auths_admin none md2 md5 straight",
            "    guid a123456789abcdefa123456789abcdef",
            "  endlan",
            f'  user 2 true "{user}" "{password}" admin 10 none md2 md5 straight',
        ]
        if mode == "vm":
            vm = VM_ARGV + [
                "-chardev", "socket,id=ipmi0,host=127.0.0.1,port=9002,reconnect=1",
                "-device", "ipmi-bmc-extern,id=bmc0,chardev=ipmi0",
                "-device", "isa-ipmi-kcs,bmc=bmc0",
                "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
            lines += ["  serial 15 127.0.0.1 9002 codec VM",
                      f'  startcmd "{" ".join(vm)}"',
                      "  startnow false",
                      "  poweroff_wait 2",
                      "  kill_wait 2"]
        elif mode == "chassis":
            # tests/lib/ipmi_chassis.py starts and stops the VM of vm_argv
            # (QMP on dir/qmp.sock) and takes the boot device too
            (workdir / "qemu.argv").write_text(json.dumps(vm_argv or VM_ARGV))
            script = workdir / "chassis.sh"
            script.write_text(f"#!/bin/sh\nexec {PY} {HERE / 'ipmi_chassis.py'} "
                              f"{workdir} \"$@\"\n")
            script.chmod(0o755)
            lines += [f'  chassis_control "{script}"']
        else:
            script = workdir / "chassis.sh"
            script.write_text(CHASSIS_SCRIPT.format(dir=workdir))
            script.chmod(0o755)
            (workdir / "power").write_text("0\n")
            lines += [f'  chassis_control "{script}"']
        (workdir / "lan.conf").write_text("\n".join(lines) + "\n")
        (workdir / "sim.emu").write_text(
            "mc_setbmc 0x20\n"
            "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n"
            "sel_enable 0x20 1000 0x0a\n"
            "mc_enable 0x20\n")
        self.proc = None

    def start(self) -> "IpmiSim":
        self.log = open(self.dir / "ipmi_sim.log", "wb")
        self.proc = self.lab.popen(self.ns, [
            "ipmi_sim", "-n", "-c", str(self.dir / "lan.conf"),
            "-f", str(self.dir / "sim.emu"), "-s", str(self.dir / "state")],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            cwd=self.dir)
        wait_for(lambda: self.proc.poll() is not None or
                 _listening(self.lab, self.ns, "u", 623), 10, "ipmi_sim on UDP 623")
        assert self.proc.poll() is None, (self.dir / "ipmi_sim.log").read_text()
        return self

    def vm_pids(self) -> list[int]:
        return pids_of(str(self.qmp_path))


# ipmi_sim's chassis_control protocol (OpenIPMI lanserv/ipmi_sim_chassiscontrol;
# OpenIPMI 2.0.33 passes no device argument, older ones do):
#   PROG [<mc>] get power|boot ...   -> "power:1" lines
#   PROG [<mc>] set power 1 boot pxe -> nothing on success
CHASSIS_SCRIPT = """#!/bin/sh
dir={dir}
case $1 in get|set|check) ;; *) shift ;; esac
op=$1; shift
case $op in
get)
    for p in "$@"; do
        case $p in
        power) echo "power:$(cat $dir/power)" ;;
        boot) echo "boot:default" ;;
        *) echo "Invalid parameter: $p"; exit 1 ;;
        esac
    done ;;
set)
    while [ $# -ge 2 ]; do
        echo "$1 $2" >> $dir/calls
        case $1 in
        power) echo "$2" > $dir/power ;;
        reset|boot|shutdown) ;;
        *) echo "Invalid parameter: $1"; exit 1 ;;
        esac
        shift 2
    done ;;
*) exit 1 ;;
esac
"""


class RedfishEmu:
    """tests/lib/redfish_emu.py in ns on addr:port (count BMCs from port on)."""

    def __init__(self, lab, ns: str, addr: str, port: int, workdir: Path,
                 user: str, password: str, count: int = 1, vm: bool = False,
                 tls: tuple[Path, Path] | None = None, nice: int = 0,
                 vm_argv: list[str] | None = None):
        self.lab, self.ns, self.addr, self.port = lab, ns, addr, port
        self.dir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "requests.jsonl"
        self.vm_dir = workdir / "vm"
        self.argv = [PY, str(EMU), "--listen", addr, "--port", str(port),
                     "--count", str(count), "--user", user, "--password", password,
                     "--log", str(self.log_path), "--ready-file", str(workdir / "ready"),
                     "--lie-file", str(workdir / "lie")]
        if vm:
            self.vm_dir.mkdir(exist_ok=True)
            # vm_argv: the VM's own QEMU command line (without -qmp), e.g.
            # the lifecycle flow's VM with its tap and disk
            self.argv += ["--qemu-args", json.dumps(vm_argv or VM_ARGV),
                          "--vm-dir", str(self.vm_dir)]
        if tls:
            self.argv += ["--tls", str(tls[0]), str(tls[1])]
        if nice:    # BMCs are other machines: on a small test host, not our CPU's
            self.argv = ["nice", "-n", str(nice)] + self.argv
        self.proc = None

    def start(self) -> "RedfishEmu":
        self.out = open(self.dir / "emu.log", "wb")
        self.proc = self.lab.popen(self.ns, self.argv, stdin=subprocess.DEVNULL,
                                   stdout=self.out, stderr=subprocess.STDOUT)
        wait_for(lambda: self.proc.poll() is not None or (self.dir / "ready").exists(),
                 20, "the Redfish emulator")
        assert self.proc.poll() is None, (self.dir / "emu.log").read_text()
        return self

    def lie(self, state: str | None) -> None:
        """Every system reports PowerState `state` ("On", "Off") from now on,
        whatever its machine is; None: the truth again."""
        f = self.dir / "lie"
        if state is None:
            f.unlink(missing_ok=True)
        else:
            f.write_text(state + "\n")

    def requests(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        return [json.loads(l) for l in self.log_path.read_text().splitlines()]

    @property
    def qmp_path(self) -> Path:
        return self.vm_dir / "qmp.sock"

    def vm_pids(self) -> list[int]:
        return pids_of(str(self.qmp_path))

    def vm_argv(self) -> list[str]:
        return json.loads((self.vm_dir / "qemu.argv").read_text())


class TcpSink:
    """A TCP port in ns that accepts connections (the kernel completes the
    handshake) and never answers: a hung Redfish BMC."""

    def __init__(self, lab, ns: str, addr: str, port: int):
        self.sock = lab.socket(ns, socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((addr, port))
        self.sock.listen(64)

    def close(self) -> None:
        self.sock.close()


class UdpSink:
    """A UDP port in ns that swallows datagrams: an IPMI BMC that answers
    nothing.  received() counts what arrived (the retransmissions)."""

    def __init__(self, lab, ns: str, addr: str, port: int = 623):
        self.sock = lab.socket(ns, socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.sock.setblocking(False)

    def received(self) -> int:
        n = 0
        while True:
            try:
                self.sock.recv(4096)
                n += 1
            except BlockingIOError:
                return n

    def close(self) -> None:
        self.sock.close()


def make_cert(workdir: Path, ip: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for ip: (ca.pem, cert.pem, key.pem)."""
    ca_key, ca = workdir / "ca.key", workdir / "ca.pem"
    key, csr, cert = workdir / "srv.key", workdir / "srv.csr", workdir / "srv.pem"
    ext = workdir / "ext.cnf"
    ext.write_text(f"subjectAltName=IP:{ip}\nbasicConstraints=CA:FALSE\n")

    def sh(*argv):
        subprocess.run(argv, check=True, capture_output=True, timeout=60)

    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
       "-subj", "/CN=ironboot test BMC CA")
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={ip}")
    sh("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
       "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext))
    return ca, cert, key


if __name__ == "__main__":
    sys.exit("a library for tests/integration/test_power.py")
