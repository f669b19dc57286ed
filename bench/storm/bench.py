#!/usr/bin/python3
"""Boot storm: ironboot-storm against ironbootd, Kea + tftpd-hpa + nginx, and
dnsmasq (with its TFTP) + nginx, in one run (issue #15).

Each server stack runs in its own fresh namespace pair (tests/lib/stormlab.py):

    srv: srv0 198.18.0.1/15, fd00:b007::1/64      the stack, pinned to CPU 0
         routes 198.19.0.0/16 via 198.18.0.2, fd00:b007:1::/64 via fd00:b007::2
      <->
    cli: cli0 198.18.0.2/15, fd00:b007::2/64      ironboot-storm (or perfdhcp), CPU 1
         AnyIP: 198.19.0.0/16 and fd00:b007:1::/64 local (ip route add local ... dev lo)

The simulator relays DHCP (giaddr 198.18.0.2; RELAY-FORW, link-address
fd00:b007:1::1), so leases come from the relayed pools, and fetches TFTP and
HTTP from each machine's leased address.

Parts:
  (a) --until dhcp at fixed rates, DHCPv4 (all three) and DHCPv6 (ironboot,
      Kea; dnsmasq is not run over DHCPv6 relays here): leases/s and server
      CPU per lease (utime+stime of the server's processes, /proc);
  (b) full chain, 1000 machines powered on within 10 s (--storm-machines,
      --storm-within), DHCPv4: time to the last kernel, p99, failures;
  (b6) the same over IPv6 (--parts b6, not by default), ironboot and Kea;
  (c) the simulator's CPU per DHCP exchange against perfdhcp's at one rate,
      both against ironbootd, both pinned to CPU 1.

Everything is bounded (--deadline per run, timeout around the whole in
run.sh); namespaces are deleted and processes killed by PID on exit and on
SIGTERM (netlab).  Run via bench/storm/run.sh (root).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "lib"))
sys.path.insert(0, str(REPO / "bench" / "lib"))
import netlab  # noqa: E402
import nginx  # noqa: E402
import stormlab  # noqa: E402
from stormlab import SRV4, SRV6  # noqa: E402  (also probe.py's and cross.py's)

POOL4 = ("198.19.0.1", "198.19.255.254")
POOL6 = ("fd00:b007:1::1:0", "fd00:b007:1::ffff:ffff")
HTTP_PORT = stormlab.HTTP_PORT
SERVER_CPU, CLIENT_CPU = "0", "1"

SCRIPT = """#!ipxe
kernel http://{host}:{port}/assets/vmlinuz console=ttyS0 initrd=initrd.img
initrd --name initrd.img http://{host}:{port}/assets/initrd.img
boot
"""

DNSMASQ = """\
port=0
interface=srv0
bind-interfaces
dhcp-range=198.19.0.1,198.19.255.254,255.254.0.0,2h
dhcp-leasefile={work}/dnsmasq.leases
dhcp-authoritative
dhcp-lease-max=1000000
no-ping
quiet-dhcp
dhcp-match=set:ipxe,175
dhcp-boot=tag:!ipxe,ipxe.efi,,198.18.0.1
dhcp-boot=tag:ipxe,http://198.18.0.1:{port}/boot.ipxe
enable-tftp
tftp-root={work}/tftp
tftp-max=4000
pid-file={work}/dnsmasq.pid
log-facility={work}/dnsmasq.log
keep-in-foreground
user=root
"""


def kea4_config(work: Path) -> dict:
    return {"Dhcp4": {
        "interfaces-config": {"interfaces": ["srv0"], "dhcp-socket-type": "udp"},
        "lease-database": {"type": "memfile", "persist": True, "lfc-interval": 0,
                           "name": str(work / "kea-leases4.csv")},
        "valid-lifetime": 7200,
        "client-classes": [
            {"name": "ipxe", "test": "option[77].hex == 'iPXE'",
             "boot-file-name": f"http://{SRV4}:{HTTP_PORT}/boot.ipxe"},
            {"name": "efi", "test": "option[93].hex == 0x0007 and not (option[77].hex == 'iPXE')",
             "next-server": SRV4, "boot-file-name": "ipxe.efi"},
        ],
        "subnet4": [{"id": 1, "subnet": "198.18.0.0/15",
                     "pools": [{"pool": f"{POOL4[0]} - {POOL4[1]}"}],
                     "option-data": [{"name": "routers", "data": SRV4}]}],
        "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                     "output_options": [{"output": str(work / "kea4.log")}]}],
    }}


def kea6_config(work: Path) -> dict:
    return {"Dhcp6": {
        # unicast from the relay reaches Kea only on an address it names
        "interfaces-config": {"interfaces": [f"srv0/{SRV6}"]},
        "data-directory": str(work),
        "server-id": {"type": "LLT", "persist": False},
        "lease-database": {"type": "memfile", "persist": True, "lfc-interval": 0,
                           "name": str(work / "kea-leases6.csv")},
        "preferred-lifetime": 3600, "valid-lifetime": 7200,
        # RFC 5970: bootfile-url 59 by user class (iPXE) and arch 61
        "client-classes": [
            {"name": "ipxe6", "test": "substring(option[15].hex,2,4) == 'iPXE'",
             "option-data": [{"name": "bootfile-url",
                              "data": f"http://[{SRV6}]:{HTTP_PORT}/boot6.ipxe"}]},
            {"name": "efi6", "test": "option[61].hex == 0x0007 and not member('ipxe6')",
             "option-data": [{"name": "bootfile-url", "data": f"tftp://[{SRV6}]/ipxe.efi"}]},
        ],
        "subnet6": [{"id": 1, "subnet": "fd00:b007:1::/64",
                     "pools": [{"pool": f"{POOL6[0]} - {POOL6[1]}"}]}],
        "loggers": [{"name": "kea-dhcp6", "severity": "WARN",
                     "output_options": [{"output": str(work / "kea6.log")}]}],
    }}


def udp_errors(lab: netlab.Lab, ns: str) -> dict:
    """The namespace's UDP error counters (IPv4 + IPv6, /proc/net/snmp and
    snmp6, which are per network namespace): datagrams a socket's receive
    buffer had no room for (rcvbuf), a send buffer refused (sndbuf), and
    all receive errors (in)."""
    out = lab.run(ns, ["cat", "/proc/net/snmp", "/proc/net/snmp6"]).stdout
    lines = out.splitlines()
    c = {"rcvbuf": 0, "sndbuf": 0, "in": 0}
    for i, ln in enumerate(lines[:-1]):
        if ln.startswith("Udp: ") and lines[i + 1].startswith("Udp: ") and not ln[5].isdigit():
            kv = dict(zip(ln.split()[1:], (int(x) for x in lines[i + 1].split()[1:])))
            c["rcvbuf"] += kv.get("RcvbufErrors", 0)
            c["sndbuf"] += kv.get("SndbufErrors", 0)
            c["in"] += kv.get("InErrors", 0)
    for ln in lines:
        f = ln.split()
        if len(f) == 2 and f[0] in ("Udp6RcvbufErrors", "Udp6SndbufErrors", "Udp6InErrors"):
            c[{"Udp6RcvbufErrors": "rcvbuf", "Udp6SndbufErrors": "sndbuf", "Udp6InErrors": "in"}[f[0]]] += int(f[1])
    return c


def udp_errors_delta(lab: netlab.Lab, ns: str, before: dict) -> dict:
    now = udp_errors(lab, ns)
    return {k: now[k] - before[k] for k in now}


def cpu_ticks(pid: int) -> int:
    """utime + stime + reaped children's of one process (clock ticks)."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(x) for x in f[11:15])


class Stack:
    """One server stack in namespace srv; its processes pinned to CPU 0."""

    def __init__(self, kind: str, lab: netlab.Lab, srv: str, work: Path, args):
        self.kind, self.lab, self.srv, self.work, self.args = kind, lab, srv, work, args
        self.procs: list[subprocess.Popen] = []
        self.daemon = None

    def _popen(self, argv, name, env=None):
        out = open(self.work / f"{name}.out", "wb")
        rt = ["chrt", "-f", "1"] if self.args.rt else []
        p = self.lab.popen(self.srv, ["taskset", "-c", SERVER_CPU, *rt, *argv], env=env,
                           stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        self.procs.append(p)
        return p

    def _files(self, with_script: bool) -> None:
        (self.work / "tftp").mkdir(exist_ok=True)
        assets = self.work / "www" / "assets"
        assets.mkdir(parents=True, exist_ok=True)
        (self.work / "tftp" / "ipxe.efi").write_bytes(Path("/usr/lib/ipxe/ipxe.efi").read_bytes())
        for name, mb in (("vmlinuz", self.args.kernel_mb), ("initrd.img", self.args.initrd_mb)):
            (assets / name).write_bytes(os.urandom(int(mb * 1024 * 1024)))
        if with_script:
            (self.work / "www" / "boot.ipxe").write_text(SCRIPT.format(host=SRV4, port=HTTP_PORT))
            (self.work / "www" / "boot6.ipxe").write_text(SCRIPT.format(host=f"[{SRV6}]", port=HTTP_PORT))
        os.chmod(self.work, 0o755)
        for d in (self.work / "www", assets):
            os.chmod(d, 0o755)

    def _nginx(self):
        conf = nginx.write_conf(self.work, [f"{SRV4}:{HTTP_PORT} backlog=4096",
                                            f"[{SRV6}]:{HTTP_PORT} backlog=4096"],
                                self.work / "www", connections=4096)
        self._popen([self.args.nginx, "-c", str(conf), "-p", str(self.work)], "nginx")

    def ironboot_config(self, family: int) -> dict:
        """ironbootd's config: stormlab's, serving the whole chain from the
        bench's large pools."""
        cfg = stormlab.config(self.work / "ironboot-state", pool4=POOL4, pool6=POOL6,
                              lease_time=7200)
        cfg["journal"] = {"max_events": 2_000_000}
        return stormlab.full_chain(cfg, family, tftp_root=self.work / "tftp",
                                   assets=self.work / "www" / "assets", max_transfers=4000)

    def kea_config(self, family: int) -> dict:
        """kea-dhcp4's or kea-dhcp6's config (memfile)."""
        return kea4_config(self.work) if family == 4 else kea6_config(self.work)

    def start(self, family: int) -> None:
        self._files(self.kind != "ironboot")
        if self.kind == "ironboot":
            cfg = stormlab.write_config(self.ironboot_config(family),
                                        self.work / "ironboot.yaml")
            self.daemon = netlab.Daemon(self.lab, self.srv, cfg, build=self.args.build,
                                        log_path=self.work / "ironbootd.stderr")
            self.daemon.start(timeout=30)
            self.lab.run(self.srv, ["taskset", "-a", "-cp", SERVER_CPU, str(self.daemon.pid)])
            if self.args.rt:        # every thread; those made later inherit it
                for t in os.listdir(f"/proc/{self.daemon.pid}/task"):
                    self.lab.run(self.srv, ["chrt", "-f", "-p", "1", t])
        elif self.kind == "kea":
            env = dict(os.environ, KEA_LOCKFILE_DIR=str(self.work), KEA_PIDFILE_DIR=str(self.work))
            fam = "4" if family == 4 else "6"
            path = self.work / f"kea{fam}.json"
            path.write_text(json.dumps(self.kea_config(family)))
            self._popen([f"kea-dhcp{fam}", "-c", str(path)], f"kea{fam}", env=env)
            tftp_addr = f"{SRV4}:69" if family == 4 else f"[{SRV6}]:69"
            self._popen(["in.tftpd", "-L", "-s", str(self.work / "tftp"), "-a", tftp_addr], "tftpd")
            self._nginx()
        else:
            (self.work / "dnsmasq.conf").write_text(DNSMASQ.format(work=self.work, port=HTTP_PORT))
            self._popen(["dnsmasq", "-C", str(self.work / "dnsmasq.conf")], "dnsmasq")
            self._nginx()
        self._wait_ports(family)

    def _wait_ports(self, family: int) -> None:
        port = "67" if family == 4 else "547"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{self.kind}: {p.args} exited {p.returncode}")
            out = self.lab.run(self.srv, ["ss", "-Hlnu", f"sport = :{port}"]).stdout
            http = self.lab.run(self.srv, ["ss", "-Hlnt", f"sport = :{HTTP_PORT}"]).stdout
            if out.strip() and http.strip():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.kind}: not listening on {port}/{HTTP_PORT}")

    def pids(self) -> list[int]:
        r = subprocess.run(["ip", "netns", "pids", self.lab.ns(self.srv)],
                           capture_output=True, text=True, timeout=10)
        return [int(x) for x in r.stdout.split()]

    def cpu(self) -> float:
        """CPU seconds of every process in the server namespace."""
        return sum(cpu_ticks(p) for p in self.pids()) / os.sysconf("SC_CLK_TCK")

    def describe(self) -> str:
        return {"ironboot": "ironbootd (SQLite, group commit; TFTP and HTTP in-process)",
                "kea": "Kea kea-dhcp4/6 (memfile persist, lfc 0, single-threaded) + tftpd-hpa + nginx (1 worker)",
                "dnsmasq": "dnsmasq (DHCP + TFTP, no-ping) + nginx (1 worker)"}[self.kind]

    def stop(self) -> None:
        if self.daemon and self.daemon.alive():
            self.daemon.stop()
        for p in self.procs:
            self.lab.kill(p)


def make_lab(lab: netlab.Lab) -> tuple[str, str]:
    """stormlab's namespaces, with listen backlogs for a storm's connections."""
    srv, cli = stormlab.make(lab)
    for ns in (srv, cli):
        lab.sysctl(ns, "net.core.somaxconn", "4096")
        lab.sysctl(ns, "net.ipv4.tcp_max_syn_backlog", "4096")
    return srv, cli


def storm(lab, cli, args, family: int, extra: list[str], deadline: float,
          fifo: bool = True) -> tuple[dict, str]:
    fam = stormlab.storm_args(family)
    # SCHED_FIFO: on a shared, loaded host one client process waits on the
    # run queue for most of the run (40 s of 44 s at 100 machines, load 47),
    # and lock-step TFTP (tftpd-hpa grants no windowsize) pays that wait once
    # per block: the client, not the server, set the time.  runq_wait_s in
    # the report shows what is left of it.  fifo=False (probe.py) shows it.
    sched = ["chrt", "-f", "1"] if fifo else []
    argv = ["taskset", "-c", CLIENT_CPU, *sched, str(args.storm_bin), *fam, "--json",
            "--deadline", str(deadline), *extra]
    p = lab.run(cli, argv, check=False, timeout=deadline + 30)
    if p.returncode not in (0, 3):
        raise RuntimeError(f"ironboot-storm exited {p.returncode}: {p.stderr[-500:]}")
    rep = json.loads(p.stdout)
    rep["cmd"] = " ".join([*sched, "ironboot-storm", *argv[4 + len(sched):]])
    return rep, p.stderr


WARMUP = 200
POOL4_SIZE = 65534     # 198.19.0.1 - 198.19.255.254: the DHCPv4 pool holds this many leases


def step_a(args, kind: str, family: int, work: Path, i: int, rate: int) -> dict:
    """One rate of (a) on a fresh stack (empty store): a 200-machine
    warm-up, then rate x period new machines."""
    n = int(rate * args.period)
    with netlab.Lab() as lab:
        srv, cli = make_lab(lab)
        st = Stack(kind, lab, srv, work, args)
        st.start(family)
        try:
            storm(lab, cli, args, family, ["--until", "dhcp", "--rate", str(WARMUP),
                                           "--machines", str(WARMUP), "--mac-base", "52:54:0f:00:00:00"], 30)
            c0 = st.cpu()
            e_srv, e_cli = udp_errors(lab, srv), udp_errors(lab, cli)
            rep, _ = storm(lab, cli, args, family,
                           ["--until", "dhcp", "--rate", str(rate), "--machines", str(n),
                            "--mac-base", f"52:54:{i + 1:02x}:00:00:00"], args.period + 60)
            cpu = st.cpu() - c0
            e_srv, e_cli = udp_errors_delta(lab, srv, e_srv), udp_errors_delta(lab, cli, e_cli)
        finally:
            st.stop()
    d = rep["stages"]["dhcp"]
    span = max(rep["last_done_s"], args.period)
    row = {"server": kind, "family": family, "rate": rate, "machines": n,
           "ok": d["ok"], "failed": d["failed"], "failures": d["failures"],
           "retransmits": d["retransmits"], "p50_ms": d["p50_ms"], "p99_ms": d["p99_ms"],
           "leases_per_s": d["ok"] / span,
           "server_cpu_us_per_lease": 1e6 * cpu / max(d["ok"], 1),
           "sim_cpu_us_per_exchange": rep["cpu_us_per_dhcp_exchange"],
           "server_udp_errors": e_srv, "client_udp_errors": e_cli,
           "cmd": rep["cmd"]}
    print(f"  (a) {kind:8s} v{family} rate {rate:6d}: {row['leases_per_s']:8.0f} leases/s, "
          f"ok {d['ok']} failed {d['failed']} {d['failures'] or ''} retrans {d['retransmits']}, p99 {d['p99_ms']:.1f} ms, "
          f"server {row['server_cpu_us_per_lease']:.1f} us/lease, "
          f"sim {row['sim_cpu_us_per_exchange']:.2f} us/exchange; "
          f"UDP receive-buffer drops: server {e_srv['rcvbuf']}, simulator {e_cli['rcvbuf']}",
          file=sys.stderr, flush=True)
    return row


def part_a(args, kind: str, family: int, work: Path) -> list[dict]:
    """The rates in order, each on a fresh stack, up to the first that fails.
    (One stack for every step ran the DHCPv4 pool dry: 6,000 + 12,000/s for
    4 s each is 72,200 machines for 65,534 addresses, and every server
    then failed exactly the 6,666 the pool lacked.)"""
    rows = []
    for i, rate in enumerate(args.rates):
        d = work / f"rate-{rate}"
        d.mkdir(parents=True)
        row = step_a(args, kind, family, d, i, rate)
        rows.append(row)
        if row["failed"] or row["retransmits"] > 0.01 * row["machines"]:
            break       # past this server's rate
    return rows


def part_b(args, kind: str, work: Path, family: int = 4) -> dict:
    with netlab.Lab() as lab:
        srv, cli = make_lab(lab)
        st = Stack(kind, lab, srv, work, args)
        st.start(family)
        try:
            c0 = st.cpu()
            rep, err = storm(lab, cli, args, family,
                             ["--machines", str(args.storm_machines), "--within", str(args.storm_within),
                              "--hist", str(work / "hist.tsv")], args.storm_deadline)
            rep["server_cpu_s"] = st.cpu() - c0
        finally:
            st.stop()
    rep["server"] = kind
    if args.out:        # the work dir goes with run.sh; the histograms stay
        Path(args.out).mkdir(parents=True, exist_ok=True)
        dst = Path(args.out) / f"storm-hist-{kind}{'' if family == 4 else '-v6'}.tsv"
        dst.write_bytes((work / "hist.tsv").read_bytes())
        rep["hist"] = str(dst)
    rep["family"] = family
    print(f"  (b) {kind:8s} v{family}: done {rep['done']}/{rep['machines']}, last kernel at {rep['last_done_s']:.2f} s, "
          f"time-to-kernel p50 {rep['ttk_p50_s']:.2f} s p99 {rep['ttk_p99_s']:.2f} s, "
          f"server CPU {rep['server_cpu_s']:.1f} s, simulator CPU {rep['cpu_s']:.2f} s, run-queue wait {rep.get('runq_wait_s', 0):.2f} s",
          file=sys.stderr, flush=True)
    return rep


def part_c(args, work: Path) -> dict:
    """perfdhcp and ironboot-storm at the same rate against ironbootd, both on CPU 1."""
    rate, period = args.cmp_rate, args.period
    res = {}
    with netlab.Lab() as lab:
        srv, cli = make_lab(lab)
        st = Stack("ironboot", lab, srv, work, args)
        st.start(4)
        try:
            argv = ["taskset", "-c", CLIENT_CPU, "perfdhcp", "-4", "-l", "cli0", "-r", str(rate),
                    "-R", str(rate * period * 2), "-p", str(period), "-W", "1000000", SRV4]
            # ip netns exec and taskset exec perfdhcp: the child is perfdhcp,
            # and wait4() gives its CPU
            p = lab.popen(cli, argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            out = p.stdout.read()
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            recv = [int(x) for x in re.findall(r"received packets: (\d+)", out)]
            res["perfdhcp"] = {"cmd": " ".join(argv[3:]), "exchanges": sum(recv),
                               "cpu_s": ru.ru_utime + ru.ru_stime, "rc": p.returncode,
                               "tail": out[-1200:]}
            res["perfdhcp"]["cpu_us_per_exchange"] = 1e6 * res["perfdhcp"]["cpu_s"] / max(sum(recv), 1)
            rep, _ = storm(lab, cli, args, 4, ["--until", "dhcp", "--rate", str(rate),
                                               "--machines", str(rate * period),
                                               "--mac-base", "52:54:0e:00:00:00"], period + 60)
            res["storm"] = {k: rep[k] for k in ("cpu_s", "dhcp_exchanges", "cpu_us_per_dhcp_exchange", "cmd")}
            res["ratio"] = res["perfdhcp"]["cpu_us_per_exchange"] / max(rep["cpu_us_per_dhcp_exchange"], 1e-9)
            print(f"  (c) rate {rate}: perfdhcp {res['perfdhcp']['cpu_us_per_exchange']:.2f} us/exchange "
                  f"({res['perfdhcp']['exchanges']} exchanges), ironboot-storm "
                  f"{rep['cpu_us_per_dhcp_exchange']:.2f} us/exchange ({rep['dhcp_exchanges']}): "
                  f"{res['ratio']:.1f}x", file=sys.stderr, flush=True)
        finally:
            st.stop()
    return res


def lab_args(ap: argparse.ArgumentParser, file_mb: float) -> None:
    """The options run.sh passes (--build, --nginx, --work), the sizes of
    the kernel and initrd the stacks serve, and --json (bench.py, probe.py,
    cross.py)."""
    ap.add_argument("--build", default=os.environ.get("IB_BUILD", str(REPO / "build")))
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--kernel-mb", type=float, default=file_mb)
    ap.add_argument("--initrd-mb", type=float, default=file_mb)
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--rt", action="store_true",
                    help="run the servers under SCHED_FIFO 1 too (a shared, loaded host: "
                         "the server then gets its CPU as the simulator does)")


def emit(args, res: dict) -> None:
    """Prints the results as JSON, and writes them to --json if given."""
    text = json.dumps(res, indent=1)
    if args.json:
        Path(args.json).write_text(text)
    print(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    lab_args(ap, 4)
    ap.add_argument("--servers", default="ironboot,kea,dnsmasq")
    ap.add_argument("--parts", default="a,b,c")
    ap.add_argument("--rates", default="2000,4000,8000")
    ap.add_argument("--period", type=int, default=4)
    ap.add_argument("--cmp-rate", type=int, default=4000)
    ap.add_argument("--storm-machines", type=int, default=1000)
    ap.add_argument("--storm-within", type=float, default=10)
    ap.add_argument("--storm-deadline", type=float, default=240)
    ap.add_argument("--out", help="directory for (b)'s histograms (storm-hist-SERVER.tsv)")
    args = ap.parse_args()
    args.rates = [int(x) for x in args.rates.split(",")]
    if "a" in args.parts.split(",") and max(args.rates) * args.period + WARMUP > POOL4_SIZE:
        ap.error(f"--rates x --period: {max(args.rates) * args.period} machines and the "
                 f"{WARMUP}-machine warm-up need more than the DHCPv4 pool's {POOL4_SIZE} addresses")
    args.storm_bin = netlab.find_binary(Path(args.build), "ironboot-storm")
    work = Path(args.work)
    servers = args.servers.split(",")
    parts = args.parts.split(",")
    out = {"load_before": os.getloadavg(), "args": {k: str(v) for k, v in vars(args).items()},
           "a": [], "b": [], "c": None, "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    if "a" in parts:
        for fam in (4, 6):
            for kind in servers:
                if kind == "dnsmasq" and fam == 6:
                    continue
                d = work / f"a-{kind}-{fam}"
                d.mkdir(parents=True)
                out["a"] += part_a(args, kind, fam, d)
    if "b" in parts:
        for kind in servers:
            d = work / f"b-{kind}"
            d.mkdir(parents=True)
            out["b"].append(part_b(args, kind, d))
    if "b6" in parts:       # the full chain over IPv6 (dnsmasq: not over DHCPv6 relays here)
        for kind in servers:
            if kind == "dnsmasq":
                continue
            d = work / f"b6-{kind}"
            d.mkdir(parents=True)
            out["b"].append(part_b(args, kind, d, 6))
    if "c" in parts:
        d = work / "c"
        d.mkdir(parents=True)
        out["c"] = part_c(args, d)
    out["load_after"] = os.getloadavg()
    emit(args, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
