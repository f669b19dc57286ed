#!/usr/bin/python3
"""Seeds for fuzz_store_rows: rows as a table byte and tagged column values
(NULL, integer, text, blob) in schema order.

Run from the repository root:  python3 fuzz/seeds/store_rows_seeds.py fuzz/corpus/store_rows
(rewrites the named seeds; inputs merged by scripts/fuzz.sh are kept)."""
import os, sys, struct
out = sys.argv[1]; os.makedirs(out, exist_ok=True)
N = lambda: b"\x00"
I = lambda v: b"\x01" + struct.pack(">q", v)
T = lambda s: b"\x02" + bytes([len(s)]) + (s if isinstance(s, bytes) else s.encode())
B = lambda s: b"\x03" + bytes([len(s)]) + s
def l4(addr=0xc612000a, hw=bytes.fromhex("525400000010"), cid=None, host="node10", state=1, htype=1, subnet=0xc6120000):
    return b"\x00" + I(addr) + I(subnet) + I(htype) + (B(hw) if isinstance(hw, bytes) else hw) + (N() if cid is None else B(cid)) + T(host) + I(1700000000) + I(1700003600) + I(state)
ADDR6 = bytes.fromhex("fd00b007000000000000000000000010"); NET6 = bytes.fromhex("fd00b007000000000000000000000000")
def l6(addr=ADDR6, duid=bytes.fromhex("00030001525400000010"), mac=bytes.fromhex("525400000010"), host="node10", state=1, plen=64):
    return b"\x01" + B(addr) + B(NET6) + I(plen) + B(duid) + I(1) + (N() if mac is None else B(mac)) + T(host) + I(1700000000) + I(1700001800) + I(1700003600) + I(state)
def ev(mac="52:54:00:00:00:10", proto="http", kind="script", detail='{"path":"/boot.ipxe","status":200}'):
    return b"\x02" + I(1700000000000000) + T(mac) + T("") + T("") + T(proto) + T(kind) + T(detail)
def inv(kind, name, body):
    return b"\x03" + T(kind) + T(name) + T(body) + I(1700000000000000)
seeds = {
 "lease4.bin": l4(),
 "lease4-client-id.bin": l4(cid=bytes.fromhex("01525400000011"), host="", hw=bytes.fromhex("525400000011"), addr=0xc612000b),
 "lease4-hw16.bin": l4(hw=bytes(range(16)), htype=6),
 "lease4-hw20-text.bin": l4(hw=T("0123456789abcdef0123")),
 "lease4-host-long.bin": l4(host="h" * 200),
 "lease4-host-not-utf8.bin": l4(host=b"n\xff\xfe"),
 "lease6-host-not-utf8.bin": l6(host=b"n\xc3"),
 "event-not-utf8.bin": ev(kind=b"k\xff"),
 "lease4-addr-high.bin": l4(addr=(1 << 32) + 10) + l4(addr=10),
 "lease4-declined.bin": l4(state=4, host="x"),
 "lease6.bin": l6(),
 "lease6-no-mac.bin": l6(mac=None, host=""),
 "lease6-duid-130.bin": l6(duid=bytes(130), plen=128),
 "event.bin": ev() + ev(proto="dhcp4", kind="discover", detail='{"xid":"1b0c0de5"}'),
 "event-bad-detail.bin": ev(detail="{not json"),
 "event-long-mac.bin": ev(mac="m" * 100),
 "inventory.bin": inv("profiles", "rescue", '{"name":"rescue","kernel":"vmlinuz"}') + inv("groups", "r9", '{"name":"r9","profile":"rescue","selector":{"labels":{"rack":"r9"}}}') + inv("machines", "52:54:00:00:00:42", '{"mac":"52:54:00:00:00:42","hostname":"n42","labels":{"rack":"r9"}}'),
 "inventory-refused.bin": inv("groups", "g", '{"name":"g","profile":"nope"}') + inv("profiles", "linux", '{"name":"linux","kernel":"vmlinuz"}'),
 "inventory-name-differs.bin": inv("profiles", "a", '{"name":"b","kernel":"vmlinuz"}'),
 "mixed.bin": l4() + l6() + ev() + inv("machines", "52:54:00:00:00:43", '{"mac":"52:54:00:00:00:43"}'),
}
for n, b in seeds.items():
    open(os.path.join(out, n), "wb").write(b)
