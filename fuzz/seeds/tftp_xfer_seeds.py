#!/usr/bin/python3
"""Seeds for fuzz_tftp_xfer: the 15-byte header (options, limits, size,
retries, base timeout) then events, as fuzz_tftp_xfer.c reads them.

Run from the repository root:  python3 fuzz/seeds/tftp_xfer_seeds.py fuzz/corpus/tftp_xfer
(rewrites the named seeds; inputs merged by scripts/fuzz.sh are kept)."""
import struct, os, sys
out = sys.argv[1]
def hdr(present=0, blksize=0, timeout=0, window=0, maxblk=1468, maxwin=64, size=1000, retries=5, base=1000):
    return struct.pack("!BHBHHB", present, blksize, timeout, window, maxblk, maxwin) + size.to_bytes(3, "big") + struct.pack("!BH", retries, base)
def ev(*ops): return bytes(ops)
ACK_LAST = lambda t=0: (t << 3) | 1
TIMEOUT = lambda t=31: (t << 3) | 3
NUDGE = lambda t=0: (t << 3) | 5
seeds = {
 "plain-lossless.bin": hdr(size=1000) + ev(ACK_LAST(1), ACK_LAST(1), ACK_LAST(1)),
 "plain-timeouts-fail.bin": hdr(size=5000, retries=3) + ev(*[TIMEOUT()] * 5),
 "window-gap.bin": hdr(present=0x9, blksize=1468, window=8, maxwin=16, size=850528) +
     ev(ACK_LAST(1), 2, 3, 2, 5, ACK_LAST(2), 7, 0x10, 0, 0, 0, 5, ACK_LAST(1)),
 "window-dup-guard.bin": hdr(present=0x8, window=4, size=20000, base=400) +
     ev(ACK_LAST(1), 2, 0, 2, 0, (31 << 3) | 2 | 4, 0, NUDGE(31), ACK_LAST(1)),
 "oack-wrap.bin": hdr(present=0x8b, blksize=128, window=64, maxwin=64, size=0x8001) +
     ev(0, 0, 0, *[ACK_LAST(1)] * 40, TIMEOUT(), ACK_LAST(1)),
 "oack-timeout-then-ack0.bin": hdr(present=0x4, timeout=2, size=100) + ev(TIMEOUT(), 0, 0, 0, ACK_LAST(1)),
 "client-error.bin": hdr(size=3000) + ev(ACK_LAST(1), 6, 0, ACK_LAST(1)),
 "empty-file.bin": hdr(present=0x2, size=0) + ev(0, 0, 0, ACK_LAST(1)),
 "multiple-of-blksize.bin": hdr(size=1024) + ev(ACK_LAST(1), ACK_LAST(1), ACK_LAST(1)),
 "stale-acks.bin": hdr(present=0x8, window=16, size=100000) + ev(0, 0xff, 0xff, 0, 0x80, 0, ACK_LAST(1), 0, 0, 1, TIMEOUT(), TIMEOUT()),
}
for n, b in seeds.items():
    open(os.path.join(out, n), "wb").write(b)
