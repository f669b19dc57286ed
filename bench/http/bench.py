#!/usr/bin/python3
"""HTTP throughput: ironbootd vs nginx on the same 50 MB asset, and
ironbootd's /boot.ipxe renders per second, in ONE run.

Two throw-away namespaces (tests/lib/netlab.py) joined by a veth:
    srv: srv0 198.18.0.1/24   (ironbootd :8080, nginx :8081)
    cli: cli0 198.18.0.2/24   (wrk)
Everything is torn down (processes killed by PID, namespaces deleted) on
exit.  Called by bench/http/run.sh, which fetches nginx and wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "lib"))
sys.path.insert(0, str(REPO / "bench" / "lib"))

import netlab  # noqa: E402
import nginx  # noqa: E402

SRV, CLI = "198.18.0.1", "198.18.0.2"
IB_PORT, NGX_PORT = 8080, 8081

CONFIG = """\
server:
  state_dir: {work}/state
  log_level: notice
  syslog: false
dhcp4:
  enabled: false
boot:
  bios: undionly.kpxe
  efi_x64: ipxe.efi
tftp:
  enabled: false
journal:
  max_events: 1000000
  max_age_days: 30
http:
  enabled: true
  listen: [{srv}]
  port: {port}
  assets: {work}/assets
  templates: {work}/templates
  # one wrk address asks for every MAC's script: with the default (strict)
  # each would be refused 403 and counted as a render; this measures the
  # rendering (strict adds a lease lookup per request, not measured here)
  machine_auth: off
profiles:
  - name: linux
    kernel: vmlinuz
    initrd: [initrd.img]
    args: ["console=ttyS0", "ib.host={{{{hostname}}}}", "rack={{{{labels.rack}}}}"]
  - name: local-disk
    boot: local
groups:
  - name: rack2
    profile: local-disk
    selector: {{ labels: {{ rack: r2 }} }}
  - name: default
    profile: linux
machines:
{machines}"""

DONE_LUA = """
done = function(summary, latency, requests)
  io.write(string.format('WRKJSON {"bytes": %d, "requests": %d, "duration_us": %d, '
    .. '"status_errors": %d, "connect_errors": %d, "read_errors": %d, "timeouts": %d, '
    .. '"p99_us": %d}\\n', summary.bytes, summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.timeout, latency:percentile(99)))
end
"""


def machines(n: int, rng: random.Random) -> list[str]:
    macs = sorted({"52:54:%02x:%02x:%02x:%02x" % tuple(rng.randrange(256) for _ in range(4))
                   for _ in range(n)})
    return macs


def wrk(lab, cli, url: str, script: Path, args) -> dict:
    argv = ["wrk", f"-t{args.threads}", f"-c{args.conns}", f"-d{args.duration}s",
            "--timeout", "10s", "-s", str(script), url]
    p = lab.run(cli, argv, timeout=args.duration + 60)
    for line in p.stdout.splitlines():
        if line.startswith("WRKJSON "):
            r = json.loads(line[8:])
            r["seconds"] = r["duration_us"] / 1e6
            r["mb_s"] = r["bytes"] / 1e6 / r["seconds"]
            r["req_s"] = r["requests"] / r["seconds"]
            return r
    raise RuntimeError(f"wrk failed: {p.returncode}\n{p.stdout}\n{p.stderr}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--nginx", required=True, help="nginx binary")
    ap.add_argument("--nginx-workers", type=int, default=1)
    ap.add_argument("--size-mb", type=int, default=50)
    ap.add_argument("--machines", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2,
                    help="file rounds, alternating nginx and ironbootd; the best counts")
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args()

    work = Path(args.work)
    os.chmod(work, 0o755)          # nginx's workers run as nobody
    rng = random.Random(7)
    (work / "assets").mkdir(parents=True, exist_ok=True)
    (work / "templates").mkdir(exist_ok=True)
    big = work / "assets" / "big.bin"
    with open(big, "wb") as f:
        for _ in range(args.size_mb):
            f.write(os.urandom(1 << 20))
    macs = machines(args.machines, rng)
    inv = "".join(f'  - mac: "{m}"\n    hostname: node{i}\n    labels: {{ rack: r{i % 3} }}\n'
                  for i, m in enumerate(macs))
    cfg = work / "ironboot.yaml"
    cfg.write_text(CONFIG.format(work=work, srv=SRV, port=IB_PORT, machines=inv))
    ngx_conf = nginx.write_conf(work, [f"{SRV}:{NGX_PORT}"], work / "assets",
                                workers=args.nginx_workers)
    file_lua = work / "file.lua"
    file_lua.write_text(DONE_LUA)
    script_lua = work / "script.lua"
    script_lua.write_text(
        "local macs = {" + ",".join(f'"{m}"' for m in macs) + "}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #macs + 1\n"
        "  return wrk.format('GET', '/boot.ipxe?mac=' .. macs[i] .. "
        "'&uuid=&arch=x86_64&platform=efi&hostname=&serial=')\n"
        "end\n" + DONE_LUA)

    results: dict = {"size_mb": args.size_mb, "wrk": f"-t{args.threads} -c{args.conns} "
                     f"-d{args.duration}s", "nginx_workers": args.nginx_workers,
                     "cpus": os.cpu_count()}
    with netlab.Lab() as lab:
        srv, cli = lab.pair("srv", "cli", [f"{SRV}/24"], [f"{CLI}/24"])
        d = netlab.Daemon(lab, srv, cfg, log_path=work / "ironbootd.log").start(timeout=30)
        ngx = lab.popen(srv, [args.nginx, "-c", str(ngx_conf), "-p", str(work)],
                        stdout=open(work / "nginx.out", "wb"), stderr=open(work / "nginx.err", "wb"))
        time.sleep(1.0)
        if ngx.poll() is not None:
            raise RuntimeError("nginx exited: " + (work / "nginx.err").read_text())
        # warm the page cache for both
        lab.run(cli, ["curl", "-sS", "-o", "/dev/null", f"http://{SRV}:{NGX_PORT}/big.bin"])
        lab.run(cli, ["curl", "-sS", "-o", "/dev/null", f"http://{SRV}:{IB_PORT}/assets/big.bin"])
        rounds = []
        for i in range(args.rounds):
            rn = wrk(lab, cli, f"http://{SRV}:{NGX_PORT}/big.bin", file_lua, args)
            ri = wrk(lab, cli, f"http://{SRV}:{IB_PORT}/assets/big.bin", file_lua, args)
            print(f"  round {i + 1}: nginx {rn['mb_s']:.1f} MB/s, ironbootd {ri['mb_s']:.1f} MB/s",
                  flush=True)
            rounds.append((rn, ri))
        r_ngx = max((r[0] for r in rounds), key=lambda r: r["mb_s"])
        r_ib = max((r[1] for r in rounds), key=lambda r: r["mb_s"])
        r_scr = wrk(lab, cli, f"http://{SRV}:{IB_PORT}/boot.ipxe", script_lua, args)
        alive = d.alive()
        lab.kill(ngx)
        d.stop()
    results.update(nginx_file=r_ngx, ironboot_file=r_ib, ironboot_scripts=r_scr,
                   daemon_alive=alive)
    ratio = r_ib["mb_s"] / r_ngx["mb_s"] if r_ngx["mb_s"] else 0.0
    results["file_ratio"] = ratio
    results["loadavg_1m"] = os.getloadavg()[0]
    print(f"1-minute load average at the end: {results['loadavg_1m']:.1f}")
    print(f"best of {args.rounds} rounds; {args.size_mb} MB asset, wrk {results['wrk']}, {os.cpu_count()} CPUs, "
          f"nginx worker_processes {args.nginx_workers}:")
    for name, r in (("nginx", r_ngx), ("ironbootd", r_ib)):
        print(f"  {name:10s} {r['mb_s']:9.1f} MB/s  {r['req_s']:7.1f} files/s  "
              f"errors status={r['status_errors']} read={r['read_errors']} "
              f"timeout={r['timeouts']}")
    print(f"  ratio ironbootd/nginx: {ratio * 100:.1f}%")
    print(f"/boot.ipxe ({args.machines} inventory MACs rotated): {r_scr['req_s']:.0f} scripts/s, "
          f"p99 {r_scr['p99_us'] / 1000:.2f} ms, non-2xx {r_scr['status_errors']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    if r_scr["status_errors"]:
        print("error: /boot.ipxe answered non-2xx: scripts/s counts no renders", file=sys.stderr)
        return 1
    return 0 if alive else 1


if __name__ == "__main__":
    sys.exit(main())
