#!/usr/bin/python3
"""Write the crafted DHCPv6 packets (see README.md).

Plain Python, byte by byte, independent of the C builder.  Good packets
modelled on iPXE, UEFI firmware, relays and servers go to
fuzz/corpus/dhcp6/; one relayed iPXE SOLICIT also goes next to this script
as a golden packet.  Malformed seeds, one per reject reason, are
fuzz/corpus/dhcp6/bad-*.bin.  Addresses are in fd00:b007::/48 or link-local.
"""
import os
import socket
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "..", "..", "fuzz", "corpus", "dhcp6")
MAC = bytes.fromhex("525400a1b2c3")
UUID = bytes.fromhex("4c4c4544003510538053b4c04f4d4433")


def a6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def opt(code, value=b""):
    return struct.pack("!HH", code, len(value)) + value


def msg(mtype, xid, *opts):
    return bytes([mtype]) + struct.pack("!I", xid)[1:] + b"".join(opts)


def relay(mtype, hops, link, peer, inner, *opts):
    return (bytes([mtype, hops]) + a6(link) + a6(peer) + b"".join(opts) +
            opt(9, inner))


def items(*strs):
    return b"".join(struct.pack("!H", len(s)) + s for s in strs)


def names(*ns):
    out = b""
    for n in ns:
        for label in n.split("."):
            out += bytes([len(label)]) + label.encode()
        out += b"\0"
    return out


DUID_LL = struct.pack("!HH", 3, 1) + MAC
DUID_LLT = struct.pack("!HHI", 1, 1, 0x2c0ffee0) + MAC
DUID_UUID = struct.pack("!H", 4) + UUID
SERVER_DUID = struct.pack("!HHI", 1, 1, 0x30000000) + bytes.fromhex("02b007000001")
ADDR = a6("fd00:b007::1:10")


def iaaddr(addr=ADDR, pref=3600, valid=7200, *sub):
    return opt(5, addr + struct.pack("!II", pref, valid) + b"".join(sub))


def ia_na(iaid=1, t1=0, t2=0, *sub):
    return opt(3, struct.pack("!III", iaid, t1, t2) + b"".join(sub))


def status(code, text=b""):
    return opt(13, struct.pack("!H", code) + text)


def ipxe_solicit():
    return msg(1, 0x1b0c0d,
               opt(1, DUID_LL), ia_na(1), opt(8, b"\0\0"),
               opt(6, struct.pack("!HHHH", 23, 24, 59, 60)),
               opt(15, items(b"iPXE")),
               opt(16, struct.pack("!I", 343) + items(b"PXEClient:Arch:00007:UNDI:003016")),
               opt(61, struct.pack("!H", 7)), opt(62, bytes([1, 3, 16])))


def relayed3(inner):
    lvl3 = relay(12, 0, "fd00:b007:3::1", "fe80::5054:ff:fea1:b2c3", inner,
                 opt(18, b"ge-0/0/1"), opt(37, struct.pack("!I", 9) + b"port-1"),
                 opt(79, struct.pack("!H", 1) + MAC))
    lvl2 = relay(12, 1, "fd00:b007:2::1", "fe80::2", lvl3, opt(18, b"eth2"))
    return relay(12, 2, "::", "fd00:b007:1::2", lvl2, opt(18, b"vlan42"))


def good():
    uefi = msg(1, 0x00a1b2, opt(1, DUID_UUID), ia_na(7), opt(8, b"\0\x64"),
               opt(6, struct.pack("!HH", 59, 60)),
               opt(16, struct.pack("!I", 343) + items(b"HTTPClient:Arch:00016:UNDI:003001")),
               opt(61, struct.pack("!H", 16)), opt(62, bytes([1, 3, 16])))
    req = msg(3, 0x123456, opt(1, DUID_LLT), opt(2, SERVER_DUID),
              ia_na(1, 1800, 2880, iaaddr()), opt(8, b"\0\0"), opt(6, struct.pack("!H", 23)))
    adv = msg(2, 0x1b0c0d, opt(2, SERVER_DUID), opt(1, DUID_LL), opt(7, b"\xff"),
              ia_na(1, 1800, 2880, iaaddr()),
              opt(23, a6("fd00:b007::53") + a6("fd00:b007::54")),
              opt(24, names("lab.example", "example.org")),
              opt(56, opt(1, a6("fd00:b007::123"))),
              opt(59, b"http://[fd00:b007::1]/boot.ipxe"),
              opt(60, items(b"console=ttyS0", b"quiet")))
    reply = msg(7, 0x123456, opt(2, SERVER_DUID), opt(1, DUID_LLT), opt(14),
                ia_na(1, 0, 0, iaaddr(ADDR, 0, 0, status(2, b"no addresses")),
                      status(2, b"NoAddrsAvail")),
                status(0, b"ok"), opt(20))
    return {
        "ipxe-solicit.bin": ipxe_solicit(),
        "uefi-http-solicit.bin": uefi,
        "request.bin": req,
        "renew.bin": msg(5, 0x000001, opt(1, DUID_LLT), opt(2, SERVER_DUID), ia_na(1, 0, 0, iaaddr())),
        "rebind.bin": msg(6, 0x000002, opt(1, DUID_LLT), ia_na(1, 0, 0, iaaddr())),
        "release.bin": msg(8, 0x000003, opt(1, DUID_LLT), opt(2, SERVER_DUID), ia_na(1, 0, 0, iaaddr())),
        "decline.bin": msg(9, 0x000004, opt(1, DUID_LLT), opt(2, SERVER_DUID), ia_na(1, 0, 0, iaaddr())),
        "confirm.bin": msg(4, 0x000005, opt(1, DUID_LLT), ia_na(1, 0, 0, iaaddr(ADDR, 0, 0))),
        "information-request.bin": msg(11, 0xfffffe, opt(1, DUID_LL), opt(6, struct.pack("!HHH", 23, 24, 56))),
        "advertise.bin": adv,
        "reply-status.bin": reply,
        "reconfigure.bin": msg(10, 0, opt(2, SERVER_DUID), opt(1, DUID_LL), opt(19, b"\x05")),
        "ia-ta-unknown.bin": msg(1, 9, opt(1, DUID_LL), opt(4, struct.pack("!I", 3) + iaaddr()),
                                 opt(0x7777, b"whatever"), opt(25, struct.pack("!III", 1, 0, 0))),
        "relay1-solicit.bin": relay(12, 0, "fd00:b007::", "fe80::5054:ff:fea1:b2c3",
                                    ipxe_solicit(), opt(18, b"ge-0/0/1")),
        "relay2-uefi.bin": relay(12, 1, "::", "fd00:b007:1::2",
                                 relay(12, 0, "fd00:b007:2::", "fe80::1", uefi, opt(18, b"e2")),
                                 opt(18, b"e1")),
        "relayed3-ipxe-solicit.bin": relayed3(ipxe_solicit()),
        "relay-repl.bin": relay(13, 0, "fd00:b007::", "fe80::5054:ff:fea1:b2c3", adv, opt(18, b"ge-0/0/1")),
        "relay8.bin": nest(8),
    }


def nest(levels):
    m = ipxe_solicit()
    for i in range(levels):
        m = relay(12, levels - 1 - i, "::", "fe80::1", m)
    return m


def bad():
    return {
        "bad-short.bin": b"\x01\x00\x00",
        "bad-type0.bin": msg(0, 1, opt(1, DUID_LL)),
        "bad-opt-trunc.bin": msg(1, 1, opt(1, DUID_LL))[:-2],
        "bad-opt-past-parent.bin": msg(1, 1, opt(3, struct.pack("!III", 1, 0, 0) +
                                                  struct.pack("!HH", 5, 40) + ADDR)),
        "bad-dup-clientid.bin": msg(1, 1, opt(1, DUID_LL), opt(1, DUID_LLT)),
        "bad-duid-131.bin": msg(1, 1, opt(1, b"\x00\x02" + b"\x42" * 129)),
        "bad-relay9.bin": nest(9),
        "bad-relay-no-msg.bin": bytes([12, 0]) + a6("::") + a6("fe80::1") + opt(18, b"x"),
        "bad-domain-pointer.bin": msg(7, 1, opt(24, b"\x03lab\xc0\x00")),
        "bad-too-many-ia.bin": msg(1, 1, *[ia_na(i) for i in range(9)]),
        "bad-elapsed-len3.bin": msg(1, 1, opt(8, b"\0\0\0")),
    }


def main():
    os.makedirs(CORPUS, exist_ok=True)
    g = good()
    for name, data in list(g.items()) + list(bad().items()):
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(data)
    with open(os.path.join(HERE, "relayed3-ipxe-solicit.bin"), "wb") as f:
        f.write(g["relayed3-ipxe-solicit.bin"])


if __name__ == "__main__":
    main()
