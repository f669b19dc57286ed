#!/usr/bin/python3
"""Seeds for fuzz_doctor: a flags byte, now (2 bytes, seconds after
2026-12-05 10:00Z), then events as fuzz_doctor.c reads them (proto, mac,
kind, ts, detail); the journals of tests/unit/test_doctor.c's cases, one
per machine rule, and a clean boot.

Run from the repository root:
  python3 fuzz/seeds/doctor_seeds.py fuzz/corpus/doctor fuzz/findings/doctor
(rewrites the named seeds; inputs merged by scripts/fuzz.sh are kept)."""
import os, struct, sys

PROTOS = ["dhcp4", "dhcp6", "tftp", "http", "machine", "agent"]
KINDS = ["discover", "request", "solicit", "release", "inform", "decline", "transfer",
         "transfer-failed", "script", "asset", "config", "api", "fail", "reset",
         "local-boot-ignored", "accept", "report", "x"]
KEYS = ["decision", "arch", "user_class", "boot", "file", "reason", "next_server", "from",
        "giaddr", "link", "path", "group", "profile", "error", "step", "by", "status",
        "blksize", "bytes", "tsize", "retransmits", "repeated", "last_us", "address", "to",
        "result"]
VALUES = ["offer", "ack", "nak", "ignore", "advertise", "reply", "iPXE", "pxe", "ipxe",
          "uefi-http", "ipxe.efi", "undionly.kpxe", "http://198.18.0.1:8080/boot.ipxe",
          "tftp://[fd00:b007::1]/ipxe.efi", "198.18.0.1", "198.18.5.1", "192.0.2.9",
          "fd00:b007::1", "/boot.ipxe", "/assets/vmlinuz", "/assets/initrd.img",
          "/assets/agent/vmlinuz", "/assets/agent/initrd.img", "/api/v1/agent/report",
          "default", "local", "linux", "local-disk", "file not found", "timed out",
          "no subnet for the relay", "agent", "api", "http", "wipe", ""]
LIFECYCLE, PROBE, HOST, RAW_TS = 1, 2, 4, 8

def val(v):
    """A field value: a table string, a raw string, a small int, a 64-bit int."""
    if v is None:
        return bytes([5 | 8])
    if isinstance(v, bool):
        return bytes([5])
    if isinstance(v, int):
        if -128 <= v <= 127:
            return bytes([3 | 8, v & 0xff])		# v * 1
        return bytes([4]) + struct.pack(">q", v)
    if v in VALUES:
        return bytes([0, VALUES.index(v)])
    b = v.encode()
    b += b" " * (len(b) & 1)			# raw strings have an even length
    return bytes([2, len(b) // 2]) + b

def ev(proto, kind, ago, fields=None, raw=None, mac=0):
    """An event ago seconds before now; fields {key: value} or raw detail bytes."""
    out = bytes([PROTOS.index(proto), mac, KINDS.index(kind)]) + struct.pack(">h", ago)
    if raw is not None:
        return out + bytes([0x80 | len(raw)]) + raw
    out += bytes([len(fields)])
    for k, v in fields.items():
        out += bytes([KEYS.index(k)]) + val(v)
    return out

def raw_ts(e, ts):
    """Event e with a raw 8-byte time (flag RAW_TS) instead of seconds ago."""
    return e[:3] + struct.pack(">q", ts) + e[5:]

def seed(flags, now, *events, tail=b""):
    return bytes([flags]) + struct.pack(">H", now) + b"".join(events) + tail

OFFER = {"decision": "offer", "arch": 7, "boot": "pxe", "file": "ipxe.efi"}
ACK_BIOS = {"decision": "ack", "arch": 0, "boot": "pxe", "file": "undionly.kpxe",
            "next_server": "198.18.0.1"}
IPXE = {"decision": "ack", "arch": 7, "user_class": "iPXE", "boot": "ipxe",
        "file": "http://198.18.0.1:8080/boot.ipxe"}
SCRIPT = {"path": "/boot.ipxe", "status": 200, "group": "default", "profile": "linux"}
seeds = {
 "clean-boot.bin": seed(HOST, 600,
     ev("dhcp4", "discover", 60, OFFER), ev("dhcp4", "request", 59, {**OFFER, "decision": "ack"}),
     ev("tftp", "transfer", 58, {"file": "ipxe.efi", "bytes": 100, "result": "ok"}),
     ev("dhcp4", "discover", 57, IPXE), ev("http", "script", 56, SCRIPT),
     ev("http", "asset", 55, {"path": "/assets/vmlinuz", "status": 200})),
 "never-seen.bin": seed(0, 10),
 "offer-no-request.bin": seed(HOST, 600, *[ev("dhcp4", "discover", 60 - i, OFFER) for i in range(4)],
     ev("dhcp4", "discover", 50, {"repeated": 5, "last_us": 1764929300000000})),
 "advertise-no-request.bin": seed(0, 600, *[ev("dhcp6", "solicit", 60 - i,
     {"decision": "advertise", "arch": 7, "file": "tftp://[fd00:b007::1]/ipxe.efi"}) for i in range(3)]),
 "relay-no-subnet.bin": seed(0, 600, ev("dhcp4", "discover", 30, {"decision": "ignore",
     "giaddr": "198.18.5.1", "reason": "no subnet for the relay", "arch": 7}),
     ev("dhcp6", "solicit", 20, {"decision": "ignore", "link": "fd00:b007::1",
     "reason": "no subnet for the relay", "repeated": 3})),
 "dhcp6-no-bootfile.bin": seed(0, 600, ev("dhcp6", "solicit", 20, {"decision": "advertise",
     "arch": 11, "reason": "free address"}), ev("dhcp6", "request", 19, {"decision": "reply", "arch": 11})),
 "ack-no-tftp.bin": seed(HOST, 600, ev("dhcp4", "request", 30, {**ACK_BIOS, "next_server": "192.0.2.9"})),
 "ack-no-tftp-stalled.bin": seed(0, 600, ev("dhcp4", "request", 30, ACK_BIOS)),
 "bootfile-invalid.bin": seed(PROBE, 600, ev("dhcp4", "request", 30, ACK_BIOS),
     ev("tftp", "transfer", 29, {"file": "undionly.kpxe"}),
     tail=b"MZ" + bytes(58) + struct.pack("<I", 64) + b"PE\0\0" + struct.pack("<H", 0x8664) + bytes(20)),
 "tftp-timeout.bin": seed(0, 600, ev("dhcp4", "request", 30, ACK_BIOS), ev("tftp", "transfer-failed", 29,
     {"file": "ipxe.efi", "bytes": 65464, "tsize": 1000000, "blksize": 1468, "retransmits": 5,
      "error": "timed out"})),
 "tftp-not-found.bin": seed(0, 600, ev("tftp", "transfer-failed", 29, {"file": "ipxe.efi",
     "error": "file not found"})),
 "chainload-loop.bin": seed(0, 600, *[e for i in range(3) for e in (
     ev("dhcp4", "request", 60 - 3 * i, ACK_BIOS),
     ev("tftp", "transfer", 59 - 3 * i, {"file": "undionly.kpxe", "bytes": 100}),
     ev("dhcp4", "discover", 58 - 3 * i, {**IPXE, "file": "undionly.kpxe"}))]),
 "http-missing-asset.bin": seed(0, 600, ev("http", "script", 9, SCRIPT),
     ev("http", "asset", 8, {"path": "/assets/vmlinuz", "status": 404})),
 "http-script-422.bin": seed(0, 600, ev("http", "script", 9, {"path": "/boot.ipxe", "status": 422,
     "group": "default", "profile": "linux", "error": "template: {{x}\x01\x1b[31m"})),
 "no-group.bin": seed(0, 600, ev("http", "script", 7, {"path": "/boot.ipxe", "status": 200})),
 "local-boot-ignored.bin": seed(0, 600, ev("http", "script", 7, {"path": "/boot.ipxe", "status": 200,
     "group": "local", "profile": "local-disk"}), ev("dhcp4", "discover", 3, OFFER),
     ev("machine", "local-boot-ignored", 2, {"by": "http"})),
 "agent-silent.bin": seed(LIFECYCLE, 900, ev("http", "asset", 600, {"path": "/assets/agent/vmlinuz",
     "status": 200}), ev("http", "asset", 599, {"path": "/assets/agent/initrd.img", "status": 200})),
 "agent-reported.bin": seed(LIFECYCLE, 900, ev("http", "asset", 600, {"path": "/assets/agent/vmlinuz",
     "status": 200}), ev("http", "api", 560, {"path": "/api/v1/agent/report", "status": 200})),
 "lifecycle-failed.bin": seed(LIFECYCLE, 900, ev("machine", "fail", 9, {"by": "agent", "step": "wipe",
     "reason": "disk /dev/sda: I/O error\n"})),
 "detail-not-json.bin": seed(0, 600, ev("dhcp4", "discover", 9, raw=b"decision=offer arch=7"),
     ev("tftp", "transfer", 8, raw=b"{\"file\":\"ipxe.efi\""), ev("http", "script", 7, raw=b"[]")),
 "detail-wrong-types.bin": seed(0, 600, ev("dhcp4", "discover", 9, {"decision": 7, "arch": "x",
     "repeated": -3, "last_us": "soon", "file": None})),
}
# The regression inputs of fuzz/findings/doctor/ (docs/FUZZING.md): counts
# and times of a detail (or a row) that summed or subtracted overflowed.
BIG = (1 << 63) - 1
findings = {
 "regress-repeated-overflow.bin": seed(0, 600, *[ev("dhcp4", "discover", 30 - i,
     {"decision": "ignore", "giaddr": "198.18.5.1", "reason": "no subnet for the relay",
      "repeated": BIG}) for i in range(2)]),
 "regress-offer-repeated-overflow.bin": seed(0, 600, *[ev("dhcp4", "discover", 30 - i,
     {**OFFER, "repeated": BIG}) for i in range(2)]),
 "regress-last-us-negative.bin": seed(0, 600, ev("dhcp4", "request", 30,
     {**ACK_BIOS, "repeated": 2, "last_us": -BIG})),
 # a UTF-8 name cut inside a character by the timeline's 256-byte field:
 # the evidence was not UTF-8, and `doctor --json` dropped the finding
 "regress-utf8-cut.bin": seed(0, 600, ev("tftp", "transfer-failed", 9,
     {"file": "\u00e9" * 130, "error": "timed out"})),
 "regress-ts-min.bin": seed(RAW_TS, 600, raw_ts(ev("dhcp4", "request", 0, ACK_BIOS), -BIG - 1)),
}
out = sys.argv[1]
for n, b in seeds.items():
    open(os.path.join(out, n), "wb").write(b)
if len(sys.argv) > 2:
    for n, b in findings.items():
        open(os.path.join(sys.argv[2], n), "wb").write(b)
