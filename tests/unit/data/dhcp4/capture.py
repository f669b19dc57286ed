#!/usr/bin/python3
"""Capture DISCOVER/REQUEST payloads from real DHCP clients (see README.md).

Runs as root.  Creates two network namespaces joined by a veth pair
(ibcap: the client side, ibcap-srv: a tiny responder on port 67 that offers
198.18.0.10), runs each client once, writes the payloads it sees to
<client>-discover.bin and <client>-request.bin here, kills the client by
PID and deletes both namespaces.  Nothing outside the namespaces is
touched; all addresses are in 198.18.0.0/15 (RFC 2544 benchmarking).
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NS_C, NS_S = "ibcap", "ibcap-srv"
SERVER, OFFERED = "198.18.0.1", "198.18.0.10"
CLIENT_MAC = "02:18:00:00:00:01"


def sh(*args):
    subprocess.run(args, check=True)


def setup():
    sh("ip", "netns", "add", NS_C)
    sh("ip", "netns", "add", NS_S)
    # The veth pair is created inside ibcap with its peer in ibcap-srv, so
    # it never exists in the host namespace.
    sh("ip", "-n", NS_C, "link", "add", "ibc0", "address", CLIENT_MAC,
       "type", "veth", "peer", "name", "ibs0", "netns", NS_S)
    sh("ip", "-n", NS_S, "addr", "add", SERVER + "/24", "dev", "ibs0")
    for ns, dev in ((NS_C, "ibc0"), (NS_S, "ibs0"), (NS_C, "lo"), (NS_S, "lo")):
        sh("ip", "-n", ns, "link", "set", dev, "up")


def teardown():
    for ns in (NS_C, NS_S):
        subprocess.run(["ip", "netns", "del", ns], check=False)


def offer(req):
    """A minimal OFFER for the DISCOVER req (enough to draw a REQUEST)."""
    xid, flags = req[4:8], req[10:12]
    chaddr = req[28:44]
    hdr = bytes([2, 1, 6, 0]) + xid + b"\0\0" + flags
    hdr += b"\0" * 4 + socket.inet_aton(OFFERED) + socket.inet_aton(SERVER)
    hdr += b"\0" * 4 + chaddr + b"\0" * 192 + struct.pack("!I", 0x63825363)
    opts = bytes([53, 1, 2, 54, 4]) + socket.inet_aton(SERVER)
    opts += bytes([51, 4]) + struct.pack("!I", 3600)
    opts += bytes([1, 4]) + socket.inet_aton("255.255.255.0") + bytes([255])
    pkt = hdr + opts
    return pkt + b"\0" * max(0, 300 - len(pkt))


def responder(tag):
    """Runs inside ibcap-srv: record DISCOVER and REQUEST, offer once."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"ibs0")
    s.bind(("", 67))
    s.settimeout(30)
    got = set()
    while "request" not in got:
        data, _ = s.recvfrom(4096)
        i = data.find(bytes([53, 1]), 240)
        kind = {1: "discover", 3: "request"}.get(data[i + 2] if i > 0 else 0)
        if not kind or kind in got:
            continue
        with open(os.path.join(HERE, "%s-%s.bin" % (tag, kind)), "wb") as f:
            f.write(data)
        got.add(kind)
        if kind == "discover":
            s.sendto(offer(data), ("255.255.255.255", 68))


CLIENTS = {
    "dhclient": lambda tmp: [
        "dhclient", "-4", "-d", "-1", "-cf", os.path.join(tmp, "dhclient.conf"),
        "-lf", os.path.join(tmp, "leases"), "-pf", os.path.join(tmp, "pid"),
        "-sf", "/bin/true", "ibc0"],
    "udhcpc": lambda tmp: [
        "busybox", "udhcpc", "-f", "-i", "ibc0", "-s", "/bin/true",
        "-x", "hostname:ibcap-udhcpc", "-t", "5"],
}

# Debian's default dhclient.conf, with a fixed host name and no DHCPv6 items.
DHCLIENT_CONF = """option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
send host-name "ibcap-dhclient";
request subnet-mask, broadcast-address, time-offset, routers,
        domain-name, domain-name-servers, domain-search, host-name,
        netbios-name-servers, netbios-scope, interface-mtu,
        rfc3442-classless-static-routes, ntp-servers;
"""


def capture(tag, tmp):
    resp = subprocess.Popen(["ip", "netns", "exec", NS_S, sys.executable,
                             os.path.abspath(__file__), "--responder", tag])
    time.sleep(0.5)
    client = subprocess.Popen(["ip", "netns", "exec", NS_C] + CLIENTS[tag](tmp),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        resp.wait(timeout=40)
    finally:
        # ip netns exec execs the client, so this PID is the client's.
        os.kill(client.pid, signal.SIGTERM)
        client.wait()
        if resp.poll() is None:
            resp.kill()
            resp.wait()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--responder":
        responder(sys.argv[2])
        return
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "dhclient.conf"), "w") as f:
            f.write(DHCLIENT_CONF)
        setup()
        try:
            for tag in CLIENTS:
                capture(tag, tmp)
        finally:
            teardown()


if __name__ == "__main__":
    main()
