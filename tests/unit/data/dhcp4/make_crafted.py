#!/usr/bin/python3
"""Write the crafted DHCPv4 packets (see README.md).

Good packets, modelled on what iPXE, PXE ROMs, UEFI HTTP boot and relay
agents send, go next to this script; malformed ones, one per reject reason,
go to fuzz/corpus/dhcp4/bad-*.bin as fuzzing seeds.  Addresses are in
198.18.0.0/15 only.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "..", "..", "fuzz", "corpus", "dhcp4")
MAC = bytes.fromhex("525400a1b2c3")
UUID = bytes.fromhex("4c4c4544003510538053b4c04f4d4433")


def ip(s):
    return bytes(int(x) for x in s.split("."))


def opt(code, value):
    return bytes([code, len(value)]) + value


def header(op=1, htype=1, hlen=6, hops=0, xid=0x1b0c0de5, flags=0x8000,
           giaddr="0.0.0.0", chaddr=MAC, sname=b"", file=b""):
    h = struct.pack("!BBBBIHH", op, htype, hlen, hops, xid, 4, flags)
    h += b"\0" * 12 + ip(giaddr)
    h += chaddr.ljust(16, b"\0") + sname.ljust(64, b"\0") + file.ljust(128, b"\0")
    return h


def packet(opts, end=True, pad_to=300, cookie=0x63825363, **kw):
    p = header(**kw) + struct.pack("!I", cookie) + b"".join(opts)
    if end:
        p += b"\xff"
    return p.ljust(pad_to, b"\0")


PXE_PRL = bytes([1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41,
                 42, 43, 50, 51, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130,
                 131, 132, 133, 134, 135])


def ipxe_discover():
    # iPXE (src/net/udp/dhcp.c): 175 holds the feature flags (PXE_EXT 0x10,
    # HTTP 0x13, HTTPS 0x14, DNS 0x17, EFI 0x24) and the bus id 0xb1.
    enc = opt(0x10, b"\x01") + opt(0x13, b"\x01") + opt(0x14, b"\x01")
    enc += opt(0x17, b"\x01") + opt(0x24, b"\x01") + opt(0xb1, bytes.fromhex("0180861ed3"))
    return packet([opt(53, b"\x01"), opt(57, struct.pack("!H", 1472)),
                   opt(93, struct.pack("!H", 7)), opt(94, b"\x01\x03\x10"),
                   opt(97, b"\0" + UUID),
                   opt(60, b"PXEClient:Arch:00007:UNDI:003010"),
                   opt(77, b"iPXE"), opt(175, enc),
                   opt(61, b"\x01" + MAC),
                   opt(55, bytes([1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67,
                                  119, 128, 129, 130, 131, 132, 133, 134, 135,
                                  175, 203]))])


def pxe_discover():
    return packet([opt(53, b"\x01"), opt(57, struct.pack("!H", 1464)),
                   opt(55, PXE_PRL), opt(97, b"\0" + UUID),
                   opt(94, b"\x01\x03\x10"), opt(93, struct.pack("!H", 7)),
                   opt(60, b"PXEClient:Arch:00007:UNDI:003016")])


def http_discover():
    return packet([opt(53, b"\x01"), opt(57, struct.pack("!H", 1472)),
                   opt(55, bytes([1, 3, 6, 15, 43, 60, 66, 67, 119])),
                   opt(97, b"\0" + UUID), opt(94, b"\x01\x03\x01"),
                   opt(93, struct.pack("!H", 16)),
                   opt(60, b"HTTPClient:Arch:00016:UNDI:003001")])


def relayed_discover():
    # RFC 3046 2.1: the relay agent appends 82 last, before END; RFC 3527
    # sub-option 5 names the client's link.
    rai = opt(1, b"ge-0/0/3.42") + opt(2, bytes.fromhex("0018b0c0ffee"))
    rai += opt(5, ip("198.18.42.0"))
    return packet([opt(53, b"\x01"), opt(61, b"\x01" + MAC),
                   opt(55, bytes([1, 3, 6, 15, 28])), opt(82, rai)],
                  hops=1, giaddr="198.18.42.1", flags=0)


def overload_request():
    # RFC 2131 4.1: 52=3, options continue in file, then in sname.  The
    # host name is split over the three areas (RFC 3396 concatenation).
    file = opt(12, b"over") + opt(60, b"PXEClient") + b"\xff"
    sname = opt(12, b"load") + b"\xff"
    return packet([opt(53, b"\x03"), opt(52, b"\x03"), opt(12, b"ib-"),
                   opt(50, ip("198.18.0.10"))], sname=sname, file=file)


def split_options():
    # RFC 3396: a 600-byte vendor class in three instances and the RFC 3397
    # section 2 search list example split into 9-byte pieces as in the RFC.
    vc = bytes((i * 7) & 0xff for i in range(600))
    search = bytes([3]) + b"eng" + bytes([5]) + b"apple" + bytes([3]) + b"com"
    search += bytes([0, 9]) + b"marketing" + bytes([0xc0, 0x04])
    pieces = [opt(119, search[i:i + 9]) for i in range(0, len(search), 9)]
    return packet([opt(53, b"\x01"), opt(43, vc[:255]), opt(43, vc[255:510]),
                   opt(43, vc[510:])] + pieces)


GOOD = {
    "ipxe-discover.bin": ipxe_discover,
    "pxe-bios-discover.bin": pxe_discover,
    "uefi-http-discover.bin": http_discover,
    "relayed-discover.bin": relayed_discover,
    "overload-request.bin": overload_request,
    "split-options-discover.bin": split_options,
}

DISCOVER = [opt(53, b"\x01")]
BAD = {
    "bad-short.bin": lambda: packet(DISCOVER)[:200],
    "bad-oversize.bin": lambda: packet(DISCOVER, pad_to=5000),
    "bad-cookie.bin": lambda: packet(DISCOVER, cookie=0x63825364),
    "bad-op.bin": lambda: packet(DISCOVER, op=3),
    "bad-hlen17.bin": lambda: packet(DISCOVER, hlen=17),
    "bad-htype1-hlen7.bin": lambda: packet(DISCOVER, hlen=7),
    "bad-opt-trunc.bin": lambda: packet(DISCOVER + [bytes([12, 40]) + b"x" * 10],
                                        end=False, pad_to=0),
    "bad-overload-value.bin": lambda: packet(DISCOVER + [opt(52, b"\x04")]),
    "bad-overload-in-file.bin": lambda: packet(DISCOVER + [opt(52, b"\x01")],
                                               file=opt(52, b"\x01") + b"\xff"),
    "bad-no-end.bin": lambda: packet(DISCOVER + [opt(12, b"host")], end=False, pad_to=0),
    "bad-client-id-empty.bin": lambda: packet(DISCOVER + [opt(61, b"")]),
    "bad-type-len2.bin": lambda: packet([opt(53, b"\x01\x01")]),
    "bad-no-type.bin": lambda: packet([opt(12, b"host")]),
}


def main():
    os.makedirs(CORPUS, exist_ok=True)
    for name, make in GOOD.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(make())
    for name, make in BAD.items():
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(make())


if __name__ == "__main__":
    main()
