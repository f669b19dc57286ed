#!/usr/bin/python3
"""Capture SOLICIT payloads from real DHCPv6 clients (see README.md).

Runs as root.  Creates two network namespaces joined by a veth pair
(ib6cap<pid>c: the client side, ib6cap<pid>s: a Python listener on UDP 547
joined to All_DHCP_Relay_Agents_and_Servers ff02::1:2), runs each client
once, writes the first SOLICIT it sees to <client>-solicit.bin here, kills
the client by PID and deletes both namespaces.  Nothing outside the
namespaces is touched; the only global addresses are in fd00:b007::/64.
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
NS_C, NS_S = "ib6cap%dc" % os.getpid(), "ib6cap%ds" % os.getpid()
CLIENT_MAC = "02:b0:07:00:00:01"
SERVER_MAC = "02:b0:07:00:00:02"


def sh(*args):
    subprocess.run(args, check=True)


def setup():
    sh("ip", "netns", "add", NS_C)
    sh("ip", "netns", "add", NS_S)
    # Created inside the client namespace with its peer in the server one,
    # so the pair never exists in the host namespace.
    sh("ip", "-n", NS_C, "link", "add", "ib6c0", "address", CLIENT_MAC,
       "type", "veth", "peer", "name", "ib6s0", "netns", NS_S)
    sh("ip", "-n", NS_S, "link", "set", "ib6s0", "address", SERVER_MAC)
    for ns in (NS_C, NS_S):
        sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w",
           "net.ipv6.conf.all.accept_dad=0")
        sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w",
           "net.ipv6.conf.default.accept_dad=0")
    sh("ip", "-n", NS_C, "addr", "add", "fd00:b007::2/64", "dev", "ib6c0", "nodad")
    sh("ip", "-n", NS_S, "addr", "add", "fd00:b007::1/64", "dev", "ib6s0", "nodad")
    for ns, dev in ((NS_C, "ib6c0"), (NS_S, "ib6s0"), (NS_C, "lo"), (NS_S, "lo")):
        sh("ip", "-n", ns, "link", "set", dev, "up")
    time.sleep(1)


def teardown():
    for ns in (NS_C, NS_S):
        subprocess.run(["ip", "netns", "del", ns], check=False)


def listener(tag):
    """Runs inside the server namespace: record the first SOLICIT."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"ib6s0")
    s.bind(("::", 547))
    idx = socket.if_nametoindex("ib6s0")
    mreq = socket.inet_pton(socket.AF_INET6, "ff02::1:2") + struct.pack("@I", idx)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    s.settimeout(15)
    while True:
        data, _ = s.recvfrom(65536)
        if data and data[0] == 1:
            with open(os.path.join(HERE, "%s-solicit.bin" % tag), "wb") as f:
                f.write(data)
            return


CLIENTS = {
    "dhclient": lambda tmp: [
        "timeout", "5", "dhclient", "-6", "-1", "-v", "-d",
        "-lf", os.path.join(tmp, "leases"), "-pf", os.path.join(tmp, "pid"),
        "-sf", "/bin/true", "ib6c0"],
    "perfdhcp": lambda tmp: [
        "timeout", "5", "perfdhcp", "-6", "-l", "ib6c0", "-R", "1", "-n", "1",
        "-r", "1"],
}


def capture(tag, tmp):
    lst = subprocess.Popen(["ip", "netns", "exec", NS_S, sys.executable,
                            os.path.abspath(__file__), "--listener", tag])
    time.sleep(0.5)
    client = subprocess.Popen(["ip", "netns", "exec", NS_C] + CLIENTS[tag](tmp),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lst.wait(timeout=20)
    finally:
        # ip netns exec execs timeout, which runs the client: kill by PID.
        if client.poll() is None:
            os.kill(client.pid, signal.SIGTERM)
        client.wait()
        if lst.poll() is None:
            lst.kill()
            lst.wait()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--listener":
        listener(sys.argv[2])
        return
    with tempfile.TemporaryDirectory() as tmp:
        setup()
        try:
            for tag in CLIENTS:
                capture(tag, tmp)
        finally:
            teardown()


if __name__ == "__main__":
    main()
