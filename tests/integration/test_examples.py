"""The shipped examples, as shipped.

  test_check_config     every examples/*.yaml passes `ironbootd
                        --check-config` unmodified
  test_default_serves   examples/default.yaml (what `make run` serves) runs
                        unmodified in a namespace lab and answers a PXE
                        client: BIOS (arch 0) and UEFI x64 (arch 7) each
                        send a DHCPDISCOVER (scapy), get a proxyDHCP offer
                        naming their boot file, and tftp-hpa fetches that
                        file, byte-identical to /usr/lib/ipxe's

    ns srv:  srv0 198.18.0.1/24   ironbootd --config examples/default.yaml
               |  veth
    ns cli:  cli0 198.18.0.2/24   scapy (raw socket), tftp

default.yaml serves proxyDHCP on every interface (here: the lab's srv0 and
lo), TFTP from /usr/lib/ipxe and keeps its store in /var/lib/ironboot.  The
daemon runs in a mount namespace of its own where an empty tmpfs covers
/var/lib (tests/e2e/fresh_host.py), so the file runs as is and the host's
/var/lib is never touched.  The offer's client address is 0.0.0.0 (proxyDHCP
hands out no address: the network's own DHCP server does); the lab gives
cli0 its address itself, as that server would have.

  test_lab_assets_*     examples/lab.yaml's HTTP service with its assets dir
                        (/tmp/ironboot-lab/assets) made as an operator makes
                        it, of symlinks: a link to Debian's ipxe.efi (itself
                        a link into /boot), a link to a file out of the dir,
                        a relative link inside it and a link to a directory
                        are all served; a request path with "..", "%2e%2e",
                        "%2F" or an empty segment (absolute) is refused, also
                        through the directory link

Run (root):  /usr/bin/python3 -m pytest -v tests/integration/test_examples.py
"""

from __future__ import annotations

import filecmp
import random
import select
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import netlab

sys.path.insert(0, str(netlab.REPO / "tests" / "e2e"))
from fresh_host import EXAMPLES, shipped_daemon  # noqa: E402

from scapy.all import BOOTP, DHCP, IP, UDP, Ether  # noqa: E402

SRV_IP, CLI_IP = "198.18.0.1", "198.18.0.2"
IPXE_DIR = Path("/usr/lib/ipxe")
SHIPPED = sorted(EXAMPLES.glob("*.yaml"))

# (firmware, client arch (RFC 4578 2.1), vendor class, the file default.yaml
# names for that arch)
PXE_CLIENTS = [
    ("bios", 0, b"PXEClient:Arch:00000:UNDI:002001", "undionly.kpxe"),
    ("uefi-x64", 7, b"PXEClient:Arch:00007:UNDI:003016", "ipxe.efi"),
]


def test_examples_present():
    names = {p.name for p in SHIPPED}
    assert {"default.yaml", "lab.yaml", "lab-ipv6.yaml"} <= names, names


# What an operator does before an example runs, as its header says:
# lifecycle.yaml names an API token file (--check-config reads it, and a
# missing token is an error: auth never fails open).
SETUP = {
    "lifecycle.yaml": "mkdir -p /tmp/ironboot-lifecycle && "
                      "head -c 32 /dev/urandom | base64 >/tmp/ironboot-lifecycle/api-token && "
                      "chmod 600 /tmp/ironboot-lifecycle/api-token",
}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_check_config(path: Path, ironbootd_bin: Path):
    cmd = [str(ironbootd_bin), "--check-config", str(path)]
    if path.name in SETUP:
        # on an empty /tmp of its own (a mount namespace): the host's is
        # never touched, and the file must be made by the setup, not found
        netlab.require_tool("unshare")
        cmd = ["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /tmp && "
               f"{SETUP[path.name]} && exec {shlex.join(cmd)}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, f"{path.name} as shipped: {p.stderr or p.stdout}"
    assert "configuration valid" in p.stdout, p.stdout


# ---------------------------------------------------------------------------
# default.yaml serves
# ---------------------------------------------------------------------------

@pytest.fixture
def default_lab(lab, tmp_path, ironbootd_bin):
    netlab.require_tool("tftp", "unshare", "nsenter")
    srv, cli = lab.netns("srv"), lab.netns("cli")
    lab.veth(srv, "srv0", cli, "cli0")
    lab.addr(srv, "srv0", f"{SRV_IP}/24")
    lab.addr(cli, "cli0", f"{CLI_IP}/24")
    d = shipped_daemon(lab, srv, "default.yaml", tmp_path, cover="/var/lib")
    d.start(timeout=20)
    # the file's own state dir (inside the daemon's mount namespace)
    assert "state /var/lib/ironboot)" in d.log(), d.log_tail()
    yield lab, cli, d, tmp_path
    d.stop()


def pxe_discover(mac: str, xid: int, arch: int, vendor_class: bytes) -> bytes:
    """A PXE client's DHCPDISCOVER (PXE 2.1 spec, RFC 4578), as a frame."""
    uuid = bytes([0]) + random.randbytes(16)
    return bytes(
        Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
        IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
        BOOTP(op=1, xid=xid, flags=0x8000,
              chaddr=bytes.fromhex(mac.replace(":", "")) + bytes(10)) /
        DHCP(options=[("message-type", "discover"),
                      ("param_req_list", [1, 3, 43, 60, 66, 67, 128, 129]),
                      ("max_dhcp_size", 1472),
                      ("vendor_class_id", vendor_class),
                      ("pxe_client_architecture", arch.to_bytes(2, "big")),
                      ("pxe_client_network_interface", b"\x01\x02\x01"),
                      ("pxe_client_machine_identifier", uuid),
                      "end"]))


def dhcp_options(rep: BOOTP) -> dict:
    return {o[0]: o[1] for o in rep[DHCP].options if isinstance(o, tuple)}


def await_offer(sock: socket.socket, xid: int, timeout: float = 5.0) -> BOOTP | None:
    """The first BOOTREPLY to xid from port 67 on the raw socket."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            break
        data, addr = sock.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        pkt = Ether(data)
        if UDP in pkt and pkt[UDP].sport == 67 and BOOTP in pkt \
                and pkt[BOOTP].op == 2 and pkt[BOOTP].xid == xid:
            return pkt[BOOTP]
    return None


@pytest.mark.parametrize("fw,arch,vendor_class,boot_file", PXE_CLIENTS,
                         ids=[c[0] for c in PXE_CLIENTS])
def test_default_serves(default_lab, fw, arch, vendor_class, boot_file):
    lab, cli, d, tmp = default_lab
    # a first run says where it answers and with what (issue #11)
    scope = d.wait_log("proxyDHCP answers PXE clients on")
    assert f"srv0 {SRV_IP}/24" in scope and "bios undionly.kpxe" in scope, scope
    assert "efi_x64 ipxe.efi" in scope, scope
    mac = "02:1b:00:%02x:%02x:%02x" % tuple(random.randbytes(3))
    xid = random.getrandbits(32)
    sock = lab.socket(cli, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    try:
        sock.bind(("cli0", 0x0800))
        sock.send(pxe_discover(mac, xid, arch, vendor_class))
        off = await_offer(sock, xid)
    finally:
        sock.close()
    assert off is not None, f"no proxyDHCP offer to a {fw} PXE client\n{d.log_tail()}"
    o = dhcp_options(off)
    assert o.get("message-type") == 2, o                       # DHCPOFFER
    assert off.yiaddr == "0.0.0.0", off.yiaddr                 # proxyDHCP: no address
    assert o.get("vendor_class_id") == b"PXEClient", o
    assert o.get("server_id") == SRV_IP, o
    assert off.siaddr == SRV_IP, off.siaddr
    named = o.get("boot-file-name") or off.file.rstrip(b"\0")
    assert named.rstrip(b"\0").decode() == boot_file, (o, off.file)

    # journalled in the store default.yaml names, as a proxy answer
    deadline = time.monotonic() + 5
    while not (evs := [e for e in d.cli_json("events", "--mac", mac)
                       if e.get("kind") == "discover"]):
        assert time.monotonic() < deadline, f"no discover event for {mac}"
        time.sleep(0.2)
    assert evs[0]["detail"].get("decision") == "proxy-answer", evs[0]
    assert evs[0]["detail"].get("arch") == arch, evs[0]

    # the boot file the offer named, over TFTP from the server it named
    out = tmp / f"{fw}-{boot_file}"
    p = lab.run(cli, ["tftp", off.siaddr, "-m", "binary", "-c", "get",
                      boot_file, str(out)], timeout=60)
    assert out.exists() and p.returncode == 0 and "Error" not in p.stdout, \
        f"tftp get {boot_file}: {p.returncode} {p.stdout} {p.stderr}\n{d.log_tail()}"
    assert filecmp.cmp(out, IPXE_DIR / boot_file, shallow=False), \
        f"{boot_file} over TFTP differs from {IPXE_DIR / boot_file}"


# ---------------------------------------------------------------------------
# lab.yaml's assets: the operator's symlinks are served, request paths confined
# ---------------------------------------------------------------------------

LAB_ASSETS = "/tmp/ironboot-lab/assets"          # examples/lab.yaml's http.assets
LAB_LINKS = {
    f"{LAB_ASSETS}/ipxe.efi": IPXE_DIR / "ipxe.efi",     # -> /boot/ipxe.efi
    f"{LAB_ASSETS}/undionly.kpxe": IPXE_DIR / "undionly.kpxe",
    f"{LAB_ASSETS}/ipxe": IPXE_DIR,                      # a directory
    f"{LAB_ASSETS}/alias.efi": Path("ipxe.efi"),         # relative, inside
}
SERVED = {
    "/assets/ipxe.efi": IPXE_DIR / "ipxe.efi",
    "/assets/undionly.kpxe": IPXE_DIR / "undionly.kpxe",
    "/assets/ipxe/undionly.kpxe": IPXE_DIR / "undionly.kpxe",
    "/assets/alias.efi": IPXE_DIR / "ipxe.efi",
}
REFUSED = [
    "/assets/../etc/passwd",
    "/assets/%2e%2e/%2e%2e/etc/passwd",
    "/assets/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/assets/ipxe/../../../../etc/passwd",
    "/assets/ipxe/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/assets//etc/passwd",
    "/assets/%2Fetc%2Fpasswd",
    "/assets/ipxe/..%2F..%2F..%2Fetc%2Fpasswd",
    "/assets/..%5C..%5Cetc%5Cpasswd",
]


@pytest.fixture(scope="module")
def lab_http(tmp_path_factory):
    """examples/lab.yaml as shipped, its assets dir of symlinks."""
    netlab.require_tool("curl", "unshare", "nsenter")
    tmp = tmp_path_factory.mktemp("lab-assets")
    with netlab.Lab() as lb:
        srv, cli = lb.netns("srv"), lb.netns("cli")
        lb.veth(srv, "srv0", cli, "cli0")
        lb.addr(srv, "srv0", f"{SRV_IP}/24")
        lb.addr(cli, "cli0", f"{CLI_IP}/24")
        d = shipped_daemon(lb, srv, "lab.yaml", tmp, cover="/tmp",
                           links=LAB_LINKS)
        d.start(timeout=20)
        yield lb, cli, d, tmp
        d.stop()


def curl(lab_http, path: str) -> tuple[int, bytes]:
    lb, cli, _, tmp = lab_http
    out = tmp / "body"
    p = lb.run(cli, ["curl", "-s", "--path-as-is", "-o", str(out),
                     "-w", "%{http_code}", f"http://{SRV_IP}:8080{path}"],
               timeout=30)
    body = out.read_bytes() if out.exists() else b""
    out.unlink(missing_ok=True)
    return int(p.stdout or 0), body


@pytest.mark.parametrize("path", sorted(SERVED))
def test_lab_assets_symlink_served(lab_http, path):
    st, body = curl(lab_http, path)
    assert st == 200, f"GET {path} -> {st}\n{lab_http[2].log_tail()}"
    assert body == SERVED[path].read_bytes(), f"GET {path}: not the linked file"


@pytest.mark.parametrize("path", REFUSED)
def test_lab_assets_request_path_confined(lab_http, path):
    st, body = curl(lab_http, path)
    assert st in (400, 403, 404), f"GET {path} -> {st}"
    assert b"root:" not in body, f"GET {path} served /etc/passwd"
