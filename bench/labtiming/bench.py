#!/usr/bin/python3
"""Lab timing: how long a real firmware in QEMU takes, from power-on, to
fetch its boot script and to run Linux, from ironbootd and from dnsmasq.

Each boot gets fresh namespaces (tests/lib/netlab.py), the e2e lab's
(tests/e2e/test_boot_linux.py, whose QEMU settings are imported):

    ns srv:  srv0 198.18.0.1/24 (IPv6 rows: fd00:b007::1/64)   the server(s)
               |  veth
    ns vm:   vm0 --- br0 --- tap0 <== qemu-system-x86_64 (TCG) -netdev tap

Scenarios (the firmware; machine as in the e2e tests):
  bios       SeaBIOS + iPXE NIC ROM (pxe-virtio.rom): DHCPv4 as iPXE -> script
  uefi-pxe   OVMF PXE -> TFTP ipxe.efi -> DHCPv4 as iPXE -> script
  uefi-http  OVMF HTTP boot (PXE and IPv6 off in OVMF) -> ipxe.efi over HTTP
             -> DHCPv4 as iPXE -> script
  ipv6       IPv6 only: SeaBIOS + iPXE NIC ROM -> RA -> DHCPv6 as iPXE ->
             script over HTTP/IPv6
  ipv6-uefi  IPv6 only: OVMF PXEv6 -> TFTP ipxe.efi -> RA -> DHCPv6 -> script
             (not in the default set: ~1 minute per boot under TCG)

Servers:
  ironboot          ironbootd from --build with examples/lab.yaml (IPv6 rows:
                    lab-ipv6.yaml), only state_dir and http.assets moved into
                    the scratch directory; QEMU starts once the router
                    advertisements have settled (auto mode listens 4 s
                    after the daemon starts: a lab's daemon is up before
                    its machines boot), and 3 s after the first RA (which
                    would delay the answer to a solicitation)
  ironboot-at-start the same, QEMU started as soon as the daemon is ready,
                    inside those 4 s (BIOS only)
  ironboot-before   the same from --before-build with examples/lab.yaml as
                    of --before-rev (BIOS only: the shipped file, before/after)
  dnsmasq           dnsmasq (Debian dnsmasq-base) with its own config: DHCP
                    (IPv6 rows: DHCPv6 and RA), TFTP from /usr/lib/ipxe, the
                    same boot files, iPXE tagged by user class; its defaults
                    otherwise, i.e. no router advertisements on IPv4 links.
                    Scripts and assets from a Python http.server in srv,
                    the same script ironbootd renders for the machine
  dnsmasq-ra        dnsmasq plus enable-ra, ra-param=srv0,30,0 and an
                    RA-only range (srv0 also gets fd00:b007::1/64: dnsmasq
                    advertises only prefixes it has) (BIOS only): what
                    dnsmasq must be told to spare iPXE its IPv6 wait

Measured per boot, from QEMU start (wall clock): "script" = the server
answered GET /boot.ipxe (ironboot: its journal; dnsmasq: the http.server
log), "kernel" = GET /assets/vmlinuz answered, "linux" = the initramfs'
IRONBOOT-MARKER line on the serial console (the kernel and its initramfs
are running), and the seconds iPXE spent on its "Configuring (net0 ...)"
line (one dot per second while DHCPv4 or IPv6 (an RA, then DHCPv6 if it
says M or O) is not done: ~15 with no RA; whole seconds, rounded down).  Each boot is bounded
(--boot-timeout); a boot that does not finish is reported, not retried.

Run via bench/labtiming/run.sh (root).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(REPO / "tests" / "lib"))
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import netlab  # noqa: E402
import test_boot_linux as e2e  # noqa: E402  (QEMU, OVMF and ROM settings)

import yaml  # noqa: E402

SRV4, SRV6 = "198.18.0.1", "fd00:b007::1"
PORT = 8080
MAC10, MAC11 = "52:54:00:00:00:10", "52:54:00:00:00:11"
MARKER = "IRONBOOT-MARKER: booted-"
IB_RA_MIN_DELAY = 3.0                   # src/dhcp6/ra_codec.h: IB_RA_MIN_DELAY_MS
SCENARIOS = ("bios", "uefi-pxe", "uefi-http", "ipv6", "ipv6-uefi")
DEFAULT_SCENARIOS = ("bios", "uefi-pxe", "uefi-http", "ipv6")


def log(msg: str) -> None:
    print(f"[labtiming {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# the machines
# ---------------------------------------------------------------------------

def qemu_args(scenario: str, tmp: Path) -> tuple[str, list[str]]:
    """(MAC, QEMU arguments) of a scenario, as the e2e tests boot them."""
    bl = types.SimpleNamespace(tmp=tmp)
    if scenario in ("bios", "ipv6"):
        sercon = tmp / "sercon-port"
        sercon.write_bytes((0x3f8).to_bytes(2, "little"))
        return MAC10, ["-machine", "pc",
                       "-fw_cfg", f"name=etc/sercon-port,file={sercon}",
                       "-device", f"virtio-net-pci,netdev=n0,mac={MAC10},disable-legacy=on,"
                                  f"romfile={e2e.BIOS_ROM},bootindex=1",
                       "-boot", "n"]
    if scenario == "uefi-pxe":
        return MAC11, e2e._ovmf(bl, MAC11, [])
    if scenario == "uefi-http":
        return MAC10, e2e._ovmf(bl, MAC10, [
            "-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n",
            "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n",
            "-fw_cfg", "name=opt/org.tianocore/IPv6Support,string=n"])
    if scenario == "ipv6-uefi":
        return MAC11, e2e._ovmf(bl, MAC11, [
            "-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n"])
    raise ValueError(scenario)


def is_v6(scenario: str) -> bool:
    return scenario.startswith("ipv6")


# ---------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------

class Server:
    """One server in ns srv; times of the script and kernel fetches."""
    name = "?"

    def __init__(self, lab: netlab.Lab, srv: str, work: Path, scenario: str):
        self.lab, self.srv, self.work, self.scenario = lab, srv, work, scenario
        self.v6 = is_v6(scenario)

    def start(self) -> None:
        raise NotImplementedError

    def fetches(self, mac: str) -> dict[str, float]:
        """{"script": t, "kernel": t}: wall-clock seconds of the first fetch."""
        raise NotImplementedError

    def stop(self) -> None:
        pass

    def version(self) -> str:
        return self.name


class Ironboot(Server):
    name = "ironboot"

    def __init__(self, *a, build: Path, lab_yaml: str, label: str | None = None,
                 no_settle: bool = False):
        super().__init__(*a)
        self.build, self.lab_yaml, self.no_settle = build, lab_yaml, no_settle
        if label:
            self.name = label
        self.d: netlab.Daemon | None = None

    def config(self) -> Path:
        """The example (lab_yaml: its text), state and assets in work/."""
        cfg = yaml.safe_load(self.lab_yaml)
        cfg["server"]["state_dir"] = str(self.work / "state")
        assets = self.work / "assets"
        assets.mkdir(exist_ok=True)
        for f in ("vmlinuz", "initrd.img"):
            (assets / f).symlink_to(e2e.ASSETS_CACHE / f)
        (assets / "ipxe.efi").symlink_to(e2e.IPXE_EFI)
        cfg["http"]["assets"] = str(assets)
        cfg["http"]["templates"] = str(REPO / "examples" / "templates")
        path = self.work / "ironboot.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        return path

    def start(self) -> None:
        path = self.config()
        self.d = netlab.Daemon(self.lab, self.srv, path, build=self.build,
                               log_path=self.work / "ironbootd.log")
        self.d.start(timeout=20)
        # a lab's daemon has been up for a while when machines boot: let
        # auto mode finish listening (4 s) first; its cost at start is the
        # "listening" row of docs/BENCHMARKS.md
        ra = (yaml.safe_load(path.read_text()).get("dhcp6") or {}).get(
            "router_advertisements") or {}
        if ra.get("enabled", "auto") is not False and not self.no_settle:
            self.d.wait_log(r"ra: srv0: [^;]*; advertising every", timeout=20, regex=True)
            # and not right after that first RA: RFC 4861 6.2.6 delays an
            # answer to a solicitation until 3 s after the last RA, which a
            # machine booting at any other time does not meet
            time.sleep(IB_RA_MIN_DELAY)

    def fetches(self, mac: str) -> dict[str, float]:
        got: dict[str, float] = {}
        evs = self.d.cli_json("events", "--mac", mac)
        evs += self.d.cli_json("events", "--proto", "http", "--limit", "100000")
        for e in sorted(evs, key=lambda e: e["ts_us"]):
            d = e.get("detail") or {}
            path = str(d.get("path", "")).split("?", 1)[0]
            key = {"/boot.ipxe": "script", "/assets/vmlinuz": "kernel"}.get(path)
            if e.get("proto") == "http" and key and d.get("status") == 200 \
                    and d.get("method", "GET") == "GET":
                got.setdefault(key, e["ts_us"] / 1e6)
        return got

    def stop(self) -> None:
        if self.d is not None and self.d.alive():
            self.d.stop()

    def version(self) -> str:
        return f"{self.name} ({self.build})"


class Assets(http.server.SimpleHTTPRequestHandler):
    """The HTTP side of the dnsmasq rows: /boot.ipxe (the script ironbootd
    renders for the machine) and /assets/ from the e2e asset cache."""
    script = ""
    root = ""
    times: list[tuple[str, float]] = []

    def __init__(self, *a, **kw):
        super().__init__(*a, directory=self.root, **kw)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        self.times.append((path, time.time()))
        if path == "/boot.ipxe":
            body = self.script.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *a):
        pass


class Dualstack(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class Dnsmasq(Server):
    name = "dnsmasq"

    def __init__(self, *a, ra: bool = False):
        super().__init__(*a)
        self.ra = ra
        if ra:
            self.name = "dnsmasq-ra"
        self.proc: subprocess.Popen | None = None
        self.httpd: http.server.ThreadingHTTPServer | None = None

    def conf(self) -> str:
        base = f"http://[{SRV6}]:{PORT}" if self.v6 else f"http://{SRV4}:{PORT}"
        lines = ["port=0", "interface=srv0", "bind-interfaces", "log-dhcp",
                 f"log-facility={self.work / 'dnsmasq.log'}",
                 f"pid-file={self.work / 'dnsmasq.pid'}",
                 f"dhcp-leasefile={self.work / 'dnsmasq.leases'}",
                 "enable-tftp", "tftp-root=/usr/lib/ipxe",
                 "dhcp-userclass=set:ipxe,iPXE"]
        if self.v6:
            lines += ["enable-ra", "ra-param=srv0,30,0",
                      "dhcp-range=fd00:b007::1000,fd00:b007::1fff,64,1h",
                      f"dhcp-option=tag:ipxe,option6:bootfile-url,{base}/boot.ipxe",
                      f"dhcp-option=tag:!ipxe,option6:bootfile-url,tftp://[{SRV6}]/ipxe.efi"]
            return "\n".join(lines) + "\n"
        lines += ["dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,1h",
                  f"dhcp-host={MAC10},198.18.0.10,node10",
                  f"dhcp-host={MAC11},198.18.0.11,node11",
                  f"dhcp-option=option:router,{SRV4}",
                  "dhcp-match=set:efi64,option:client-arch,7",
                  "dhcp-match=set:efi64,option:client-arch,9",
                  "dhcp-match=set:efihttp,option:client-arch,16",
                  # UEFI HTTP boot takes only an offer that says HTTPClient
                  "dhcp-option-force=tag:efihttp,60,HTTPClient",
                  f"dhcp-boot=tag:ipxe,{base}/boot.ipxe",
                  f"dhcp-boot=tag:!ipxe,tag:efihttp,{base}/assets/ipxe.efi",
                  "dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi",
                  "dhcp-boot=tag:!ipxe,tag:!efi64,tag:!efihttp,undionly.kpxe"]
        if self.ra:
            # dnsmasq advertises the prefixes of its ranges, so srv0 gets
            # fd00:b007::1/64 in this row; RA only, no DHCPv6
            lines += ["enable-ra", "ra-param=srv0,30,0",
                      "dhcp-range=::,constructor:srv0,ra-only,64"]
        return "\n".join(lines) + "\n"

    def script(self) -> str:
        base = f"http://[{SRV6}]:{PORT}" if self.v6 else f"http://{SRV4}:{PORT}"
        return ("#!ipxe\n"
                f"kernel {base}/assets/vmlinuz console=ttyS0 ib.marker=booted-dnsmasq quiet "
                "initrd=initrd.img\n"
                f"initrd --name initrd.img {base}/assets/initrd.img\n"
                "boot\n")

    def start(self) -> None:
        assets = self.work / "www" / "assets"
        assets.mkdir(parents=True)
        for f in ("vmlinuz", "initrd.img"):
            (assets / f).symlink_to(e2e.ASSETS_CACHE / f)
        (assets / "ipxe.efi").symlink_to(e2e.IPXE_EFI)
        handler = type("H", (Assets,), {"script": self.script(), "root": str(assets.parent),
                                        "times": []})
        self.handler = handler
        with self.lab.inside(self.srv):      # the socket lives in srv
            self.httpd = Dualstack(("::", PORT), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        conf = self.work / "dnsmasq.conf"
        conf.write_text(self.conf())
        errf = open(self.work / "dnsmasq.stderr", "wb")
        self.proc = self.lab.popen(self.srv, ["/usr/sbin/dnsmasq", "--no-daemon",
                                              f"--conf-file={conf}"],
                                   stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)
        errf.close()
        deadline = time.monotonic() + 10
        while b"started" not in _read(self.work / "dnsmasq.log"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dnsmasq did not start: "
                                   f"{_read(self.work / 'dnsmasq.stderr')[-600:]!r} "
                                   f"{_read(self.work / 'dnsmasq.log')[-600:]!r}")
            time.sleep(0.1)

    def fetches(self, mac: str) -> dict[str, float]:
        got: dict[str, float] = {}
        for path, t in self.handler.times:
            key = {"/boot.ipxe": "script", "/assets/vmlinuz": "kernel"}.get(path)
            if key:
                got.setdefault(key, t)
        return got

    def stop(self) -> None:
        if self.proc is not None:
            self.lab.kill(self.proc)
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    def version(self) -> str:
        p = subprocess.run(["/usr/sbin/dnsmasq", "--version"], capture_output=True, text=True)
        words = (p.stdout.splitlines() or [""])[0].split()
        return f"dnsmasq {words[2]}" if len(words) > 2 else "dnsmasq"


def _read(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except FileNotFoundError:
        return b""


# ---------------------------------------------------------------------------
# one boot
# ---------------------------------------------------------------------------

def boot(scenario: str, server_name: str, args, work: Path) -> dict:
    """Boots one machine against one server in fresh namespaces; a row that
    says what broke rather than an exception."""
    row = {"scenario": scenario, "server": server_name}
    try:
        _boot(scenario, server_name, args, work, row)
    except Exception as e:                  # e.g. the lab's daemon check at exit
        row.setdefault("error", f"{type(e).__name__}: {e}"[:500])
    return row


def _boot(scenario: str, server_name: str, args, work: Path, row: dict) -> None:
    with netlab.Lab(prefix="ib") as lab:
        srv, vm = lab.netns("srv"), lab.netns("vm")
        lab.veth(srv, "srv0", vm, "vm0")
        lab.addr(srv, "srv0", f"{SRV6}/64" if is_v6(scenario) else f"{SRV4}/24")
        if server_name == "dnsmasq-ra":
            lab.addr(srv, "srv0", f"{SRV6}/64")
        lab.tap(vm, "tap0")
        lab.bridge(vm, "br0", ports=["vm0", "tap0"])
        if server_name in ("ironboot", "ironboot-at-start"):
            s: Server = Ironboot(lab, srv, work, scenario, build=args.build,
                                 lab_yaml=(REPO / "examples" / (
                                     "lab-ipv6.yaml" if is_v6(scenario) else "lab.yaml")
                                 ).read_text(), label=server_name,
                                 no_settle=server_name == "ironboot-at-start")
        elif server_name == "ironboot-before":
            text = subprocess.run(["git", "-C", str(REPO), "show",
                                   f"{args.before_rev}:examples/lab.yaml"],
                                  capture_output=True, text=True, check=True).stdout
            s = Ironboot(lab, srv, work, scenario, build=args.before_build, lab_yaml=text,
                         label="ironboot-before")
        else:
            s = Dnsmasq(lab, srv, work, scenario, ra=server_name == "dnsmasq-ra")
        row["version"] = s.version()
        qemu = None
        try:
            s.start()
            mac, qargs = qemu_args(scenario, work)
            files = {k: work / f"qemu.{k}" for k in ("serial", "debugcon", "stderr")}
            argv = [e2e.QEMU, "-accel", e2e.ACCEL, "-nodefaults", "-display", "none",
                    "-smp", "1", "-m", "512", "-no-reboot", "-uuid", e2e.VM_UUID,
                    "-serial", f"file:{files['serial']}",
                    "-chardev", f"file,id=dbg,path={files['debugcon']}",
                    "-device", "isa-debugcon,iobase=0x402,chardev=dbg",
                    "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no", *qargs]
            errf = open(files["stderr"], "wb")
            qemu = lab.popen(vm, argv, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)
            errf.close()
            t0 = time.time()
            deadline = time.monotonic() + args.boot_timeout
            while True:
                if MARKER in _read(files["serial"]).decode(errors="replace"):
                    row["linux"] = round(time.time() - t0, 1)
                    break
                if qemu.poll() is not None:
                    row["error"] = f"QEMU exited ({qemu.returncode}) without the marker"
                    break
                if time.monotonic() > deadline:
                    row["error"] = f"no marker within {args.boot_timeout:.0f} s"
                    break
                time.sleep(0.1)
            for k, t in s.fetches(mac).items():
                row[k] = round(t - t0, 1)
            row["configuring"] = configuring(_read(files["serial"]).decode(errors="replace"))
            if "error" in row:
                tail = _read(files["serial"]).decode(errors="replace").splitlines()[-8:]
                row["serial_tail"] = tail
        except Exception as e:                  # a row says what broke; the run goes on
            row["error"] = f"{type(e).__name__}: {e}"[:500]
        finally:
            if qemu is not None:
                lab.kill(qemu, grace=2.0)
            s.stop()


def configuring(serial: str) -> int | None:
    """Seconds iPXE spent on its last "Configuring (net0 ...)... ok" line:
    after its "...", monojob_wait() prints one dot per second while a
    configurator (DHCPv4; IPv6: an RA, then DHCPv6 if it says M or O) is
    not done."""
    got = re.findall(r"Configuring \(net0 [^)]*\)\.\.\.(\.*) ok", serial)
    return len(got[-1]) if got else None


def table(rows: list[dict]) -> str:
    def f(r, k):
        return f"{r[k]:.1f}" if k in r else "-"
    out = ["| firmware | server | script (s) | kernel (s) | Linux (s) | iPXE \"Configuring\" (s) |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        note = f" ({r['error']})" if "error" in r else ""
        dots = "-" if r.get("configuring") is None else str(r["configuring"])
        out.append(f"| {r['scenario']} | {r['server']} | {f(r, 'script')} | "
                   f"{f(r, 'kernel')} | {f(r, 'linux')}{note} | {dots} |")
    return "\n".join(out)


def ratios(rows: list[dict]) -> str:
    out = []
    by = {(r["scenario"], r["server"]): r for r in rows}
    pairs = [(sc, "dnsmasq") for sc in dict.fromkeys(r["scenario"] for r in rows)]
    pairs += [("bios", "ironboot-before"), ("bios", "dnsmasq-ra")]
    for sc, other in pairs:
        a, b = by.get((sc, "ironboot")), by.get((sc, other))
        if a and b and all(k in r for r in (a, b) for k in ("script", "linux")):
            out.append(f"{sc}: {other} / ironboot, time to script {b['script'] / a['script']:.2f}"
                       f", time to Linux {b['linux'] / a['linux']:.2f}")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=netlab.build_dir())
    ap.add_argument("--before-build", type=Path, default=None,
                    help="an older build dir: adds the 'ironboot-before' BIOS row")
    ap.add_argument("--before-rev", default="HEAD",
                    help="git revision whose examples/lab.yaml the older build runs")
    ap.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS))
    ap.add_argument("--servers", default="ironboot,dnsmasq")
    ap.add_argument("--boot-timeout", type=float, default=150.0)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    args.build = args.build.resolve()
    scenarios = [s for s in args.scenarios.split(",") if s]
    servers = [s for s in args.servers.split(",") if s]
    for s in scenarios:
        if s not in SCENARIOS:
            ap.error(f"unknown scenario {s} (one of {', '.join(SCENARIOS)})")
    plan = [(sc, sv) for sc in scenarios for sv in servers]
    if "bios" in scenarios and args.before_build:
        plan.insert(0, ("bios", "ironboot-before"))
    if "bios" in scenarios and "ironboot" in servers:
        plan.append(("bios", "ironboot-at-start"))
    if "bios" in scenarios and "dnsmasq" in servers:
        plan.append(("bios", "dnsmasq-ra"))
    netlab.cleanup_stale()
    load0 = os.getloadavg()[0]
    start = time.monotonic()
    rows = []
    for i, (sc, sv) in enumerate(plan):
        work = args.work / f"{i:02d}-{sc}-{sv}"
        work.mkdir(parents=True)
        log(f"{sc} / {sv} ...")
        r = boot(sc, sv, args, work)
        log(f"{sc} / {sv}: " + ", ".join(f"{k} {r[k]}" for k in ("script", "kernel", "linux",
                                                                 "error") if k in r))
        rows.append(r)
    took = time.monotonic() - start
    print(table(rows))
    print()
    print(ratios(rows))
    print(f"\n{len(rows)} boots in {took:.0f} s; 1-minute load average {load0:.1f} "
          f"before, {os.getloadavg()[0]:.1f} after; QEMU accel {e2e.ACCEL}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "seconds": took}, indent=2))
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
