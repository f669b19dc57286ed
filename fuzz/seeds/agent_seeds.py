#!/usr/bin/python3
"""Seeds for fuzz_agent_api (the daemon's agent endpoints): requests of a
selector byte then a body, NUL between requests (fuzz/fuzz_agent_api.c).
Selector: bits 0-1 endpoint (0 report, 1 progress, 2 instruction), bit 2
machine B, bits 3-4 token (0 own, 1 the other machine's, 2 none); bit 6
set so it is never NUL.  Takes the corpus root.

Run from the repository root:  python3 fuzz/seeds/agent_seeds.py fuzz/corpus
(fuzz_agent_proto's seeds are plain files in fuzz/corpus/agent_proto)."""
import json, os, sys
root = os.path.join(sys.argv[1], "agent_api")
os.makedirs(root, exist_ok=True)
A, B, INV = "52:54:00:00:cc:01", "52:54:00:00:cc:02", "52:54:00:00:00:10"
REPORT, PROGRESS, INSTR = 0, 1, 2
OWN, OTHER, NONE = 0, 1 << 3, 2 << 3
MB = 1 << 2
def sel(ep, m=0, tok=OWN):
    return bytes([0x40 | ep | m | tok])
def report(mac, nics):
    return json.dumps({"agent_version": "0.1.0", "mac": mac, "mode": "discover",
                       "system": {"vendor": "QEMU", "uuid": None},
                       "disks": [{"name": "vda", "size_bytes": 1 << 26}],
                       "nics": [{"name": f"eth{i}", "mac": n} for i, n in enumerate(nics)],
                       "bmc": None}).encode()
def progress(mac, step, status, **kw):
    return json.dumps(dict(mac=mac, step=step, status=status, bytes=0, rate_bps=0,
                           duration_ms=12, **kw)).encode()
def reqs(*parts):
    return b"\0".join(parts)
seeds = {
 "report-a.bin": reqs(sel(REPORT) + report(A, [A, "52:54:00:00:cc:71"]),
                      sel(INSTR) + A.encode()),
 "steal-b-and-inventory.bin": reqs(sel(REPORT, MB) + report(B, [B]),
                                   sel(REPORT) + report(A, [A, B.upper(), INV, "52-54-00-00-cc-72"])),
 "other-token.bin": reqs(sel(REPORT, MB) + report(B, [B]),
                         sel(REPORT, 0, OTHER) + report(A, [A]),
                         sel(PROGRESS, 0, OTHER) + progress(B, "wipe", "ok")),
 "no-token.bin": reqs(sel(REPORT, 0, NONE) + report(A, [A]), sel(INSTR, 0, NONE) + A.encode()),
 "progress-steps.bin": reqs(sel(REPORT) + report(A, [A]),
                            sel(PROGRESS) + progress(A, "wipe:vda", "ok", total=1 << 26,
                                                     detail="zeroed", instruction="wipe-3"),
                            sel(PROGRESS) + progress(A, "install:vda", "failed",
                                                     error="sha256 mismatch\x1b[2J"),
                            sel(PROGRESS) + progress(A, "poweroff", "running")),
 "bad-bodies.bin": reqs(sel(REPORT) + b'{"mac": "52:54:00:00:cc:01", "mac": "x"}',
                        sel(PROGRESS) + b'[1,2]', sel(REPORT) + b'{"mac": 5}',
                        sel(INSTR) + b"zz:54:00:00:cc:01"),
 "nics-odd.bin": reqs(sel(REPORT) + json.dumps({"mac": A, "nics": [{"mac": None}, 5, {"mac": "ff:ff:ff:ff:ff:ff"}, {"mac": A.replace(":", "")}]}).encode()),
}
for name, data in seeds.items():
    with open(os.path.join(root, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {root}")
