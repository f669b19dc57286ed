#!/usr/bin/python3
"""Crafted DHCPv4 requests for fuzz_dhcp4_policy (the golden packets of
tests/unit/data/dhcp4 are copied beside them): one per path of the lab
config's decision (selecting, renewing, reservations, boot overrides,
INFORM, RELEASE, DECLINE, relays, option 118...).  Addresses in
198.18.0.0/15, MACs 52:54:00:00:00:xx.

Run from the repository root:  python3 fuzz/seeds/dhcp4_policy_seeds.py fuzz/corpus/dhcp4_policy
(rewrites the named seeds; inputs merged by scripts/fuzz.sh are kept)."""
import struct, os, sys
out = sys.argv[1]
def ip(s): return bytes(int(x) for x in s.split("."))
def opt(c, v): return bytes([c, len(v)]) + v
def pkt(typ, mac_last, opts=(), ciaddr="0.0.0.0", giaddr="0.0.0.0", flags=0x8000, xid=0x5eed0000):
    mac = bytes.fromhex("5254000000") + bytes([mac_last])
    h = struct.pack("!BBBBIHH", 1, 1, 6, 0, xid + mac_last, 0, flags)
    h += ip(ciaddr) + b"\0"*4 + b"\0"*4 + ip(giaddr)
    h += mac.ljust(16, b"\0") + b"\0"*64 + b"\0"*128
    p = h + struct.pack("!I", 0x63825363) + opt(53, bytes([typ])) + b"".join(opts) + b"\xff"
    return p.ljust(300, b"\0")
SID = opt(54, ip("198.18.0.1"))
PRL = opt(55, bytes([1, 3, 6, 12, 15, 26, 28, 42, 119, 121, 66, 67]))
seeds = {
 "request-selecting.bin": pkt(3, 0x30, [SID, opt(50, ip("198.18.0.100")), PRL]),
 "request-other-server.bin": pkt(3, 0x30, [opt(54, ip("198.18.0.2")), opt(50, ip("198.18.0.100"))]),
 "request-init-reboot-wrong-net.bin": pkt(3, 0x31, [opt(50, ip("10.0.0.5"))]),
 "request-renew.bin": pkt(3, 0x20, [PRL], ciaddr="198.18.0.100", flags=0),
 "request-reserved.bin": pkt(3, 0x10, [SID, opt(50, ip("198.18.0.10")), PRL]),
 "discover-reserved-cid.bin": pkt(1, 0x11, [opt(61, bytes.fromhex("01525400000011")), PRL]),
 "discover-reserved-boot.bin": pkt(1, 0x12, [opt(93, struct.pack("!H", 7)), opt(60, b"PXEClient:Arch:00007:UNDI:003016")]),
 "discover-ipxe-reserved.bin": pkt(1, 0x12, [opt(77, b"iPXE"), opt(93, struct.pack("!H", 7))]),
 "discover-arm64.bin": pkt(1, 0x40, [opt(93, struct.pack("!H", 11)), opt(60, b"PXEClient:Arch:00011:UNDI:003016")]),
 "discover-held-offer.bin": pkt(1, 0x22, [PRL]),
 "discover-maxmsg-small.bin": pkt(1, 0x41, [opt(57, struct.pack("!H", 300)), PRL]),
 "inform.bin": pkt(8, 0x42, [PRL], ciaddr="198.18.0.50", flags=0),
 "release.bin": pkt(7, 0x20, [SID], ciaddr="198.18.0.100", flags=0),
 "decline.bin": pkt(4, 0x30, [SID, opt(50, ip("198.18.0.100"))]),
 "discover-relay-unknown.bin": pkt(1, 0x43, [], giaddr="203.0.113.1"),
 "discover-subnet-selection.bin": pkt(1, 0x44, [opt(118, ip("198.18.1.0"))]),
}
for n, b in seeds.items():
    open(os.path.join(out, n), "wb").write(b)
