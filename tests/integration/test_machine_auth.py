"""Per-machine data (issue #11 item 3, docs/SECURITY.md "Per-machine data"):
a machine's boot script and install configs go only to that machine, and
secrets never leave through API reads.  The real daemon, real clients:

    ns own:   eth0 OWNER   DHCPv4 lease (busybox udhcpc), DHCPv6 binding
                           (dhclient -6), or a static address (proxy mode)
    ns att:   eth0 ATTACKER 198.18.0.50 (no lease): a second host on the link
    ns res:   eth0 RESERVED 198.18.0.10, the address its reservation pins
                 \\   |   /
    ns srv:   br0 198.18.0.1/24 fd00:b007::1/64   ironbootd

  test_lease_owner_reads_attacker_refused   (a) the DHCPv4 lease's machine
        reads its script and config (with its secrets); the attacker gets
        403 for that MAC, script and config, journalled under the MAC
        asked for with the reason; without a mac each gets its own machine
  test_token_from_anywhere                  (c) the token the owner's script
        embeds opens the config from the attacker's address; a wrong
        token, or the attacker's own token, does not
  test_reservation_pins_address             (b) a reservation's address
  test_dhcp6_binding                        (a) over DHCPv6 (dhclient -6)
  test_proxy_mode_neighbour                 (d) proxyDHCP: no lease, the
        kernel's neighbour entry names the machine
  test_off_serves_everyone                  http.machine_auth: off serves
        any host, warns at start, and still keeps secrets and token to the
        machine itself
  test_spoofed_refusals_not_the_victims     refused requests the attacker
        sends naming the owner (and random MACs) are journalled under the
        MAC, marked refused, at a bounded rate per client with the drops
        summarised; the owner's fleet row and doctor verdict do not move,
        and the random MACs join no fleet
  test_spoofed_asset_claims_not_the_victims  assets are served to any
        host, but a fetch (or a 404) naming the owner from the attacker's
        address is marked unverified, rate-limited per client, and moves
        no stage, last seen or doctor finding of the owner's; the owner's
        own fetch from its lease still does
  test_forged_tftp_not_the_victims          TFTP read requests the
        attacker forges from the owner's leased address (a missing file;
        a transfer it ends with a forged bogus ACK and ERROR on the
        transfer's port) are journalled under the owner marked unverified
        and plant no doctor finding; the owner's own transfer still counts
  test_uuid_claims_checked                  a uuid= is the machine's
        word only from a request served as that machine and when the
        store knows no other UUID for it: else no uuid on the event, the
        claim journalled as uuid_claimed with why
  test_secrets_never_in_reads               API reads, CLI show and
        explain, the journal: secret values never; a redacted read written
        back is refused; an API-written secret renders for its machine

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_machine_auth.py -v
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import pytest

import netlab

SRV4, SRV6 = "198.18.0.1", "fd00:b007::1"
ATT4 = "198.18.0.50"
OWN_STATIC4 = "198.18.0.60"          # the owner's address in proxy mode
RES4 = "198.18.0.10"
PORT = 8080
BASE = f"http://{SRV4}:{PORT}"
BASE6 = f"http://[{SRV6}]:{PORT}"
OWNER = "52:54:00:00:aa:01"
ATTACKER = "52:54:00:00:aa:02"
RESERVED = "52:54:00:00:aa:03"
OWNER_SECRET = "owner-root-pw-7f3a9c"
PROFILE_SECRET = "profile-api-key-55e1"
API_SECRET = "api-written-secret-91bd"
API_TOKEN = "api-token-for-machine-auth"
OWNER_UUID = "8a5d3e4f-0000-4000-8000-5254000000a1"   # its inventory entry's
OTHER_UUID = "8a5d3e4f-0000-4000-8000-5254000000ff"   # nobody's

CONFIG = """\
server: {{ state_dir: {state}, log_level: info }}
dhcp4:
  mode: {mode}
  interfaces: [br0]
{subnets}
dhcp6:
  enabled: {dhcp6}
  interfaces: [br0]
  subnets:
    - subnet: fd00:b007::/64
      interface: br0
      pools: [ {{ start: "fd00:b007::1000", end: "fd00:b007::1fff" }} ]
tftp: {tftp}
http:
  listen: [{srv4}, "{srv6}"]
  port: {port}
  base_url: http://{srv4}:{port}
  assets: {assets}
  templates: {templates}
  api_token_file: {token}
{auth}
profiles:
  - name: linux
    script: boot.ipxe
    configs:
      - {{ name: user-data, template: user-data.yaml, format: yaml }}
    secrets: {{ api_key: {profile_secret} }}
groups:
  - {{ name: default, profile: linux }}
machines:
  - mac: "{owner}"
    hostname: owner1
    uuid: "{owner_uuid}"
    secrets: {{ root_pw: {owner_secret} }}
  - mac: "{reserved}"
    hostname: pinned1
"""

SUBNETS = """\
  subnets:
    - subnet: 198.18.0.0/24
      pools: [ {{ start: 198.18.0.100, end: 198.18.0.199 }} ]
      lease_time: 3600
      reservations:
        - {{ mac: "{reserved}", address: {res4} }}
"""

# A profile's own script: what the guide of docs/SECURITY.md shows.
SCRIPT = """\
#!ipxe
echo ironboot: mac {{mac}} host {{hostname}} token {{token}}
chain {{base_url}}/configs/user-data?{{machine_query}}
"""

USER_DATA = """\
#cloud-config
hostname: {{hostname}}
mac: {{mac}}
root_pw: {{secrets.root_pw}}
api_key: {{secrets.api_key}}
token: {{token}}
"""


class AuthLab:
    """srv with a bridge; owner, attacker and reserved-host namespaces on it."""

    def __init__(self, lab, tmp: Path, mode: str = "server", auth: str | None = None,
                 dhcp6: bool = False, tftp: bool = False):
        if not netlab.find_binary(netlab.build_dir(), "ironbootd").exists():
            pytest.fail(f"ironbootd not built in {netlab.build_dir()}")
        netlab.require_tool("curl", "busybox")
        self.lab, self.tmp = lab, tmp
        self.srv = lab.netns("srv")
        self.own, self.att, self.res = lab.netns("own"), lab.netns("att"), lab.netns("res")
        for ns in (self.srv, self.own, self.att, self.res):
            lab.sysctl(ns, "net.ipv6.conf.all.accept_dad", "0")
            lab.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0")
        ports = []
        for ns, port, mac in ((self.own, "pown", OWNER), (self.att, "patt", ATTACKER),
                              (self.res, "pres", RESERVED)):
            lab.veth(self.srv, port, ns, "eth0", up=False)
            lab.set_mac(ns, "eth0", mac)
            lab.up(ns, "eth0")
            ports.append(port)
        lab.bridge(self.srv, "br0", ports)
        lab.addr(self.srv, "br0", f"{SRV4}/24")
        lab.addr(self.srv, "br0", f"{SRV6}/64")
        lab.addr(self.att, "eth0", f"{ATT4}/24")
        lab.addr(self.att, "eth0", "fd00:b007::50/64")
        lab.addr(self.res, "eth0", f"{RES4}/24")
        for d in ("assets", "templates", "tftp"):
            (tmp / d).mkdir()
        (tmp / "templates" / "boot.ipxe").write_text(SCRIPT)
        (tmp / "templates" / "user-data.yaml").write_text(USER_DATA)
        (tmp / "token").write_text(API_TOKEN + "\n")
        self.cfg = tmp / "ironboot.yaml"
        self.cfg.write_text(CONFIG.format(
            state=tmp / "state", mode=mode, dhcp6="true" if dhcp6 else "false",
            subnets=SUBNETS.format(reserved=RESERVED, res4=RES4) if mode == "server" else "",
            srv4=SRV4, srv6=SRV6, port=PORT, assets=tmp / "assets",
            templates=tmp / "templates", token=tmp / "token",
            auth=f"  machine_auth: {auth}" if auth else "",
            tftp=f"{{ enabled: true, root: {tmp / 'tftp'}, max_retries: 1 }}" if tftp
            else "{ enabled: false }",
            profile_secret=PROFILE_SECRET, owner=OWNER, owner_secret=OWNER_SECRET,
            owner_uuid=OWNER_UUID,
            reserved=RESERVED))
        self.d = netlab.Daemon(lab, self.srv, self.cfg).start(timeout=20)
        self.n = 0

    def curl(self, ns: str, url: str, *extra: str) -> tuple[int, str]:
        """(status, body) of one GET from namespace ns."""
        self.n += 1
        out = self.tmp / f"body{self.n}"
        p = self.lab.run(ns, ["curl", "-sS", "-g", "--max-time", "20", "-o", str(out),
                              "-w", "%{http_code}", *extra, url], timeout=40)
        assert p.returncode == 0, f"curl {url}: {p.stderr}"
        return int(p.stdout), out.read_text() if out.exists() else ""

    def api(self, path: str, method: str = "GET", body=None) -> tuple[int, object]:
        extra = ["-H", f"Authorization: Bearer {API_TOKEN}", "-X", method]
        if body is not None:
            extra += ["-H", "Content-Type: application/json", "--data-binary",
                      body if isinstance(body, str) else json.dumps(body)]
        st, text = self.curl(self.srv, f"{BASE}/api/v1/{path}", *extra)
        return st, json.loads(text) if text.strip() else None

    def events(self, mac: str) -> list[dict]:
        st, v = self.api(f"events?mac={mac}&proto=http&limit=1000")
        assert st == 200, v
        return v

    def lease4(self) -> str:
        """The owner takes a DHCPv4 lease (busybox udhcpc) and configures it
        on eth0, as its DHCP client's script would."""
        sf = self.tmp / "udhcpc.sh"
        sf.write_text("#!/bin/sh\nexit 0\n")
        sf.chmod(0o755)
        p = self.lab.run(self.own, ["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f",
                                    "-t", "5", "-T", "1", "-s", str(sf)], timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr
        st, rows = self.api("leases")
        assert st == 200, rows
        mine = [r for r in rows if r["mac"].lower() == OWNER and r["state"] == "active"]
        assert len(mine) == 1, rows
        addr = mine[0]["address"]
        self.lab.addr(self.own, "eth0", f"{addr}/24")
        return addr


def script_url(mac: str | None = None, base: str = BASE, **q) -> str:
    if mac:
        q = {"mac": mac, **q}
    return f"{base}/boot.ipxe" + ("?" + "&".join(f"{k}={v}" for k, v in q.items()) if q else "")


def config_url(mac: str | None = None, base: str = BASE, **q) -> str:
    if mac:
        q = {"mac": mac, **q}
    return f"{base}/configs/user-data" + ("?" + "&".join(f"{k}={v}" for k, v in q.items())
                                          if q else "")


def token_of(script: str) -> str:
    """The token the rendered script embeds in its chain URL."""
    chain = [ln for ln in script.splitlines() if ln.startswith("chain ")]
    assert chain and "token=" in chain[0], script
    return chain[0].split("token=", 1)[1].split("&", 1)[0]


def http_events(al: AuthLab, mac: str, status: int, kind: str) -> list[dict]:
    return [e["detail"] for e in al.events(mac)
            if e["kind"] == kind and e["detail"].get("status") == status]


def test_lease_owner_reads_attacker_refused(lab, tmp_path):
    al = AuthLab(lab, tmp_path)
    own4 = al.lease4()
    # the owner, from its leased address
    st, script = al.curl(al.own, script_url(OWNER))
    assert st == 200, script
    assert script.startswith("#!ipxe\n") and f"mac {OWNER} host owner1" in script, script
    st, ud = al.curl(al.own, config_url(OWNER))
    assert st == 200, ud
    assert 'hostname: "owner1"' in ud and f'root_pw: "{OWNER_SECRET}"' in ud, ud
    assert f'api_key: "{PROFILE_SECRET}"' in ud, ud
    # the attacker, asking for the owner's MAC: script and config refused
    for url, kind in ((script_url(OWNER), "script"), (config_url(OWNER), "config"),
                      (script_url(OWNER.replace(":", "-")), "script"),
                      (script_url(OWNER, base=BASE6), "script")):
        st, body = al.curl(al.att, url)
        assert st == 403, (url, st, body)
        assert "forbidden" in body and OWNER_SECRET not in body and "owner1" not in body
    # journalled under the MAC asked for, with the reason and the client
    refused = http_events(al, OWNER, 403, "script") + http_events(al, OWNER, 403, "config")
    assert len(refused) == 4, al.events(OWNER)
    assert {e["auth"] for e in refused} == {"other-machine"}, refused
    assert {e["client"] for e in refused} == {ATT4, "fd00:b007::50"}, refused
    assert all(e["error"].startswith("forbidden") for e in refused), refused
    served = http_events(al, OWNER, 200, "script") + http_events(al, OWNER, 200, "config")
    assert {(e["auth"], e["client"]) for e in served} == {("lease4", own4)}, served
    # no mac in the query: each host gets the machine its address is
    st, script = al.curl(al.own, script_url())
    assert st == 200 and f"mac {OWNER} host owner1" in script, script
    st, mine = al.curl(al.att, config_url())
    assert st == 200 and f'mac: "{ATTACKER}"' in mine, mine
    assert OWNER_SECRET not in mine and "owner1" not in mine, mine
    # assets stay open to all
    (al.tmp / "assets" / "shared.bin").write_bytes(b"s" * 100)
    assert al.curl(al.att, f"{BASE}/assets/shared.bin?mac={OWNER}")[0] == 200


SOURCE_BURST = 16      # IB_JOURNAL_SOURCE_BURST (src/journal/journal.h)


def fleet_row(al: AuthLab, mac: str) -> tuple[dict, set]:
    """mac's row of the fleet view, and every MAC the view lists."""
    st, v = al.api("fleet")
    assert st == 200, v
    rows = [m for m in v if m["mac"] == mac]
    assert len(rows) == 1, v
    return rows[0], {m["mac"] for m in v}


def doctor(al: AuthLab, mac: str) -> dict:
    st, v = al.api(f"machines/{mac}/doctor")
    assert st == 200, v
    return v


def flood(al: AuthLab, ns: str, urls: list[str]) -> tuple[list[str], float]:
    """One curl per URL from ns, in order: their statuses and the time it
    took.  Bounded in count (the list) and time."""
    listf = al.tmp / f"urls{al.n}"
    al.n += 1
    listf.write_text("\n".join(urls) + "\n")
    t0 = time.monotonic()
    p = al.lab.run(ns, ["sh", "-c", "while read -r u; do curl -sS -g --max-time 5 -o /dev/null "
                        "-w '%{http_code}\\n' \"$u\"; done < " + str(listf)], timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.split(), time.monotonic() - t0


def journalled_from(al: AuthLab, client: str, n: int, status) -> tuple[list[dict], list[dict]]:
    """The http rows of client whose status passes status(), and the drop
    summaries of client, once they add up to n requests (the summary comes
    once a second passed without a drop: the daemon's 5 s timer); bounded."""
    deadline = time.monotonic() + 30
    while True:
        st, evs = al.api("events?proto=http&limit=1000")
        assert st == 200, evs
        rows = [e for e in evs if e["detail"].get("client") == client and
                status(e["detail"].get("status"))]
        summaries = [e for e in evs if e["kind"] == "journal-limited" and
                     e["detail"].get("client") == client]
        dropped = sum(e["detail"]["dropped"] for e in summaries)
        if len(rows) + dropped == n or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(rows) + dropped == n, (len(rows), summaries)
    assert all(e["mac"] == "" for e in summaries), summaries
    return rows, summaries


def untouched(al: AuthLab, before: dict, doc_before: dict, randoms: list[str],
              mark: str, may_add: str | None = None) -> None:
    """No activity of the owner's: its fleet row and the doctor's word as
    before, none of the random MACs in the fleet, and the events marked
    mark take no stage in the events listing.  may_add: a warning rule
    whose finding the forgery may add, if its evidence says it is
    unverified (a refused TFTP request from the owner's address)."""
    after, macs = fleet_row(al, OWNER)
    assert (after["last_seen_us"], after["stage"]) == \
        (before["last_seen_us"], before["stage"]), (before, after)
    doc = doctor(al, OWNER)
    if may_add:
        added = [f for f in doc["findings"] if f not in doc_before["findings"]]
        assert [f["rule"] for f in added] in ([], [may_add]), doc
        assert all(f["severity"] == "warning" and
                   f["evidence"].startswith("unverified (source address only)")
                   for f in added), added
        assert [f for f in doc["findings"] if f not in added] == doc_before["findings"], doc
        v0, v1 = before.get("verdict") or {}, after.get("verdict") or {}
        assert v1.get("status", 0) <= max(v0.get("status", 0), 1), (before, after)
    else:
        assert after.get("verdict") == before.get("verdict"), (before, after)
        assert doc == doc_before
    assert not macs & set(randoms), macs & set(randoms)
    st, listed = al.api(f"events?mac={OWNER}&limit=1000")
    assert st == 200, listed
    assert {e["stage"] for e in listed if e["detail"].get(mark)} == {"other"}, listed


def test_spoofed_refusals_not_the_victims(lab, tmp_path):
    al = AuthLab(lab, tmp_path)
    al.lease4()
    st, script = al.curl(al.own, script_url(OWNER))
    assert st == 200, script
    before, _ = fleet_row(al, OWNER)
    assert before["stage"] == "script", before
    doc_before = doctor(al, OWNER)
    # the attacker's flood: 40 refused requests naming the owner, 100 naming
    # random MACs, one curl each, bounded in count and time
    randoms = [f"52:54:00:{i // 256:02x}:{i % 256:02x}:7e" for i in range(100)]
    urls = [script_url(OWNER) if i % 2 else config_url(OWNER) for i in range(40)]
    urls += [script_url(m) for m in randoms]
    codes, elapsed = flood(al, al.att, urls)
    assert codes == ["403"] * len(urls), codes
    # the rows and the dropped counts add up to the flood
    rows, _ = journalled_from(al, ATT4, len(urls), lambda s: s == 403)
    assert SOURCE_BURST <= len(rows) <= SOURCE_BURST + elapsed + 1, (len(rows), elapsed)
    assert all(e["detail"]["refused"] == 1 for e in rows), rows
    # journalled under the MAC asked for, with their status
    mine = [e["detail"] for e in al.events(OWNER) if e["detail"].get("client") == ATT4]
    assert 1 <= len(mine) <= len(rows), mine
    assert all(d["status"] == 403 and d["auth"] == "other-machine" and d["refused"] == 1
               for d in mine), mine
    untouched(al, before, doc_before, randoms, "refused")


def test_spoofed_asset_claims_not_the_victims(lab, tmp_path):
    """Assets are open to any host, but their mac= is only a claim: a host
    that is not the owner fetching a kernel (and a missing file) in the
    owner's name is served, journalled under the owner marked unverified,
    rate-limited per client like a refusal, and moves neither the owner's
    stage nor its last seen nor the doctor's findings; random MACs join no
    fleet.  The owner's own fetch, from its leased address, still does."""
    al = AuthLab(lab, tmp_path)
    own4 = al.lease4()
    (al.tmp / "assets" / "vmlinuz").write_bytes(b"k" * 4096)
    st, script = al.curl(al.own, script_url(OWNER))
    assert st == 200, script
    before, _ = fleet_row(al, OWNER)
    assert before["stage"] == "script", before
    doc_before = doctor(al, OWNER)
    assert "http-missing" not in {f["rule"] for f in doc_before.get("findings", [])}, doc_before
    # 40 fetches naming the owner (a kernel, a 404 in turn), 60 naming random MACs
    randoms = [f"52:54:00:{i // 256:02x}:{i % 256:02x}:7d" for i in range(60)]
    urls = [f"{BASE}/assets/{'vmlinuz' if i % 2 else 'absent.bin'}?mac={OWNER}"
            for i in range(40)]
    urls += [f"{BASE}/assets/vmlinuz?mac={m}" for m in randoms]
    codes, elapsed = flood(al, al.att, urls)
    assert codes == ["404", "200"] * 20 + ["200"] * len(randoms), codes
    rows, _ = journalled_from(al, ATT4, len(urls), lambda s: s in (200, 404))
    assert SOURCE_BURST <= len(rows) <= SOURCE_BURST + elapsed + 1, (len(rows), elapsed)
    assert all(e["kind"] == "asset" and e["detail"]["unverified"] == 1 and
               "refused" not in e["detail"] for e in rows), rows
    mine = [e["detail"] for e in al.events(OWNER) if e["detail"].get("client") == ATT4]
    assert 1 <= len(mine) <= len(rows), mine
    assert {d["auth"] for d in mine} == {"other-machine"}, mine
    untouched(al, before, doc_before, randoms, "unverified")
    # the owner's own fetch from its leased address is its kernel stage
    assert al.curl(al.own, f"{BASE}/assets/vmlinuz?mac={OWNER}")[0] == 200
    moved, _ = fleet_row(al, OWNER)
    assert moved["stage"] == "kernel" and moved["last_seen_us"] > before["last_seen_us"], moved
    own = [e["detail"] for e in al.events(OWNER)
           if e["kind"] == "asset" and e["detail"].get("client") == own4]
    assert len(own) == 1 and own[0]["auth"] == "lease4" and "unverified" not in own[0], own


def forge_udp(al: AuthLab, src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> None:
    """One UDP datagram from the attacker's namespace with a forged source
    (a raw socket: the kernel does not check it)."""
    from scapy.layers.inet import IP, UDP
    s = al.lab.socket(al.att, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        s.sendto(bytes(IP(src=src[0], dst=dst[0]) / UDP(sport=src[1], dport=dst[1]) / payload),
                 (dst[0], 0))
    finally:
        s.close()


def tftp_rows(al: AuthLab, mac: str) -> list[dict]:
    st, v = al.api(f"events?mac={mac}&proto=tftp&limit=1000")
    assert st == 200, v
    return v


def wait_tftp_rows(al: AuthLab, mac: str, n: int) -> list[dict]:
    deadline = time.monotonic() + 30       # the journal is flushed by a timer
    while len(rows := tftp_rows(al, mac)) < n:
        assert time.monotonic() < deadline, rows
        time.sleep(0.5)
    return rows


def transfer_port(al: AuthLab, peer: str) -> int:
    """The server's port of the transfer connected to peer ("addr:port"):
    what a forger finds by sending to every ephemeral port."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = al.lab.run(al.srv, ["ss", "-u", "-a", "-n", "-H"]).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 5 and f[4] == peer and f[3].startswith(SRV4 + ":"):
                return int(f[3].rsplit(":", 1)[1])
        time.sleep(0.1)
    raise AssertionError(f"no transfer socket connected to {peer}: {out}")


def test_forged_tftp_not_the_victims(lab, tmp_path):
    """Issue #11: a TFTP event is journalled under the machine leased the
    request's source address, and a UDP source can be forged.  One forged
    RRQ for a missing file planted a tftp-failed finding (an error) on the
    owner (now at most a warning that says it is unverified); and
    any ACK or ERROR to the transfer's port counted as the client
    answering, so a forger who reached that port (by spraying every
    ephemeral port) made its transfer the owner's.  Now only an ACK of a
    block the server sent, from the RRQ's address and port, proves the
    client; everything else is journalled under the owner marked
    unverified, no activity of the owner's."""
    netlab.require_tool("ss")
    al = AuthLab(lab, tmp_path, tftp=True)
    own4 = al.lease4()
    (al.tmp / "tftp" / "ipxe.efi").write_bytes(b"i" * 100_000)
    st, script = al.curl(al.own, script_url(OWNER))
    assert st == 200, script
    before, _ = fleet_row(al, OWNER)
    doc_before = doctor(al, OWNER)
    assert "tftp-failed" not in {f["rule"] for f in doc_before.get("findings", [])}, doc_before
    # the owner's port the forger names: a socket of the owner's that reads
    # nothing, so the owner's kernel sends no ICMP error back
    sink = al.lab.socket(al.own, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sink.bind((own4, 0))
        peer = (own4, sink.getsockname()[1])
        # 1. an RRQ for a missing file, refused with an ERROR the forger never sees
        forge_udp(al, peer, (SRV4, 69), b"\0\1absent.efi\0octet\0")
        rows = wait_tftp_rows(al, OWNER, 1)
        # 2. an RRQ with an option (OACK), then on the transfer's own port an
        #    ACK of a block never sent and an ERROR: neither proves the owner
        forge_udp(al, peer, (SRV4, 69), b"\0\1ipxe.efi\0octet\0tsize\0" + b"0\0")
        port = transfer_port(al, f"{own4}:{peer[1]}")
        forge_udp(al, peer, (SRV4, port), b"\0\4\0\7")          # ACK 7
        forge_udp(al, peer, (SRV4, port), b"\0\5\0\0forged\0")  # ERROR 0
        rows = wait_tftp_rows(al, OWNER, 2)
    finally:
        sink.close()
    assert [(e["kind"], e["detail"]["file"]) for e in rows] == \
        [("transfer-failed", "absent.efi"), ("transfer-failed", "ipxe.efi")], rows
    assert all(e["detail"]["unverified"] == 1 and e["detail"]["client"] == own4
               for e in rows), rows
    assert "client error 0: forged" in rows[1]["detail"]["error"], rows
    # the forger may add only the refusal's warning, marked unverified: no
    # error, nothing else (test_doctor.py::test_doctor_tftp_refusal_unverified)
    untouched(al, before, doc_before, [], "unverified", may_add="tftp-refused-unverified")
    # the owner's own transfer from its lease: ACKed, so its loader stage
    p = al.lab.run(al.own, ["busybox", "tftp", "-g", "-r", "ipxe.efi", "-l",
                            str(al.tmp / "got.efi"), SRV4], timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    rows = wait_tftp_rows(al, OWNER, 3)
    assert rows[-1]["kind"] == "transfer" and "unverified" not in rows[-1]["detail"], rows
    moved, _ = fleet_row(al, OWNER)
    assert moved["stage"] == "loader", moved


def test_uuid_claims_checked(lab, tmp_path):
    """Issue #11: iPXE's ${uuid} came into the journal (and the selectors)
    from any request's uuid=, so a host could stamp any SMBIOS UUID on any
    machine's events.  Now the uuid= rides on the MAC's check: taken from
    the machine itself (its lease) when it matches what the store knows;
    a different one, or one from a host the MAC's check does not back, is
    journalled only as a claim."""
    al = AuthLab(lab, tmp_path)
    al.lease4()
    (al.tmp / "assets" / "vmlinuz").write_bytes(b"k" * 4096)

    def last(mac: str, kind: str, client_ns: str) -> dict:
        st, evs = al.api(f"events?mac={mac}&proto=http&limit=1000")
        assert st == 200, evs
        return [e for e in evs if e["kind"] == kind][-1]

    # the owner's own fetch with its own UUID (any case): on the event
    st, _ = al.curl(al.own, script_url(OWNER, uuid=OWNER_UUID.upper()))
    assert st == 200
    ev = last(OWNER, "script", al.own)
    assert ev["uuid"].lower() == OWNER_UUID and "uuid_claimed" not in ev["detail"], ev
    # the owner's fetch claiming another UUID: served, the claim not taken
    st, _ = al.curl(al.own, script_url(OWNER, uuid=OTHER_UUID))
    assert st == 200
    ev = last(OWNER, "script", al.own)
    assert ev["uuid"] == "", ev
    assert (ev["detail"]["uuid_claimed"], ev["detail"]["uuid_refused"]) == \
        (OTHER_UUID, "not-the-machines"), ev
    # the attacker's asset fetch in the owner's name, with the owner's UUID
    st, _ = al.curl(al.att, f"{BASE}/assets/vmlinuz?mac={OWNER}&uuid={OWNER_UUID}")
    assert st == 200
    ev = last(OWNER, "asset", al.att)
    assert ev["detail"]["unverified"] == 1 and ev["uuid"] == "", ev
    assert ev["detail"]["uuid_refused"] == "unverified", ev
    # a refused script request naming the owner: the claim is no one's
    st, _ = al.curl(al.att, script_url(OWNER, uuid=OWNER_UUID))
    assert st == 403
    ev = last(OWNER, "script", al.att)
    assert ev["detail"]["refused"] == 1 and ev["uuid"] == "", ev
    assert ev["detail"]["uuid_claimed"] == OWNER_UUID, ev
    # the reserved host (no UUID on record) may not take the owner's UUID,
    # and its own word is taken for a UUID nobody has
    st, _ = al.curl(al.res, script_url(RESERVED, uuid=OWNER_UUID))
    assert st == 200
    ev = last(RESERVED, "script", al.res)
    assert ev["uuid"] == "" and ev["detail"]["uuid_refused"] == "not-the-machines", ev
    st, _ = al.curl(al.res, script_url(RESERVED, uuid=OTHER_UUID))
    assert st == 200
    ev = last(RESERVED, "script", al.res)
    assert ev["uuid"] == OTHER_UUID and "uuid_claimed" not in ev["detail"], ev


def test_token_from_anywhere(lab, tmp_path):
    al = AuthLab(lab, tmp_path)
    al.lease4()
    st, script = al.curl(al.own, script_url(OWNER))
    assert st == 200, script
    token = token_of(script)
    assert len(token) == 32 and f"token {token}" in script, script
    chain = [ln for ln in script.splitlines() if ln.startswith("chain ")][0]
    assert chain == f"chain {BASE}/configs/user-data?mac={OWNER}&token={token}", chain
    # the URL the script chains to works from any address
    st, ud = al.curl(al.att, chain.split(" ", 1)[1])
    assert st == 200 and f'root_pw: "{OWNER_SECRET}"' in ud and f'token: "{token}"' in ud, ud
    st, _ = al.curl(al.att, script_url(OWNER, token=token.upper()))
    assert st == 200
    # a wrong token, or the attacker's own token, does not
    st, att_script = al.curl(al.att, script_url(ATTACKER))
    assert st == 200, att_script
    att_token = token_of(att_script)
    assert att_token != token
    wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in (wrong, att_token, token[:16], "x" * 32):
        st, body = al.curl(al.att, config_url(OWNER, token=bad))
        assert st == 403 and OWNER_SECRET not in body, (bad, st, body)
    refused = http_events(al, OWNER, 403, "config")
    assert len(refused) == 4 and {e["auth"] for e in refused} == {"wrong-token"}, refused
    ok = http_events(al, OWNER, 200, "config") + http_events(al, OWNER, 200, "script")
    assert {e["auth"] for e in ok if e["client"] == ATT4} == {"token"}, ok
    # the token never reaches the journal (paths only, no query)
    assert token not in json.dumps(al.events(OWNER))


def test_reservation_pins_address(lab, tmp_path):
    """The reserved address, configured statically (no DHCP exchange), is
    its machine's; the attacker's address is not."""
    al = AuthLab(lab, tmp_path)
    st, script = al.curl(al.res, script_url(RESERVED))
    assert st == 200 and "host pinned1" in script, script
    assert al.curl(al.att, script_url(RESERVED))[0] == 403
    ev = http_events(al, RESERVED, 200, "script")
    assert ev and ev[-1]["auth"] == "reservation" and ev[-1]["client"] == RES4, ev


def test_dhcp6_binding(lab, tmp_path):
    netlab.require_tool("dhclient")
    al = AuthLab(lab, tmp_path, dhcp6=True)
    sf = al.tmp / "dhclient-script"
    sf.write_text("#!/bin/sh\nexit 0\n")
    sf.chmod(0o755)
    p = al.lab.run(al.own, ["dhclient", "-6", "-1", "-v", "-lf", str(al.tmp / "d6.leases"),
                            "-pf", str(al.tmp / "d6.pid"), "-sf", str(sf), "eth0"], timeout=60)
    assert p.returncode == 0, p.stderr
    st, rows = al.api("leases6")
    mine = [r for r in rows if (r.get("mac") or "").lower() == OWNER]
    assert st == 200 and len(mine) == 1, rows
    addr = mine[0]["address"]
    al.lab.addr(al.own, "eth0", f"{addr}/64")       # what dhclient-script does
    st, script = al.curl(al.own, script_url(OWNER, base=BASE6))
    assert st == 200 and "host owner1" in script, script
    assert al.curl(al.att, config_url(OWNER, base=BASE6))[0] == 403
    ev = http_events(al, OWNER, 200, "script")
    assert ev and ev[-1]["auth"] == "lease6" and ev[-1]["client"] == addr, ev


def test_proxy_mode_neighbour(lab, tmp_path):
    """proxyDHCP (what `make run` serves): ironboot holds no lease; the
    neighbour entry of the client's address on the link names it."""
    al = AuthLab(lab, tmp_path, mode="proxy")
    al.lab.addr(al.own, "eth0", f"{OWN_STATIC4}/24")
    st, script = al.curl(al.own, script_url(OWNER))
    assert st == 200 and "host owner1" in script, script
    st, script = al.curl(al.own, script_url())          # no mac: the neighbour's
    assert st == 200 and f"mac {OWNER} host owner1" in script, script
    st, ud = al.curl(al.own, config_url(OWNER))
    assert st == 200 and f'root_pw: "{OWNER_SECRET}"' in ud, ud
    for url in (script_url(OWNER), config_url(OWNER)):
        st, body = al.curl(al.att, url)
        assert st == 403 and OWNER_SECRET not in body, (url, st, body)
    ev = http_events(al, OWNER, 200, "script")
    assert ev and {e["auth"] for e in ev} == {"neighbour"}, ev
    refused = http_events(al, OWNER, 403, "script") + http_events(al, OWNER, 403, "config")
    assert len(refused) == 2 and {e["auth"] for e in refused} == {"other-machine"}, refused


def test_off_serves_everyone(lab, tmp_path):
    al = AuthLab(lab, tmp_path, auth="off")
    al.d.wait_log("machine_auth is off", timeout=5)
    st, script = al.curl(al.att, script_url(OWNER))
    assert st == 200 and "host owner1" in script, script
    # served, but the machine's token and secrets stay the machine's own
    assert "token=" not in script and "token \n" in script, script
    st, ud = al.curl(al.att, config_url(OWNER))
    assert st == 200 and 'hostname: "owner1"' in ud, ud
    assert OWNER_SECRET not in ud and PROFILE_SECRET not in ud, ud
    ev = http_events(al, OWNER, 200, "config")
    assert ev and ev[-1]["auth"] == "off", ev


def test_secrets_never_in_reads(lab, tmp_path):
    al = AuthLab(lab, tmp_path)
    al.lease4()
    secrets = (OWNER_SECRET, PROFILE_SECRET, API_SECRET)
    # a machine entry written through the API, with a secret
    st, body = al.api(f"machines/{ATTACKER}", "PUT",
                      {"hostname": "api1", "secrets": {"root_pw": API_SECRET}})
    assert st == 201, body
    assert body["secrets"] == {"root_pw": "<redacted>"}, body
    st, ud = al.curl(al.att, config_url(ATTACKER))
    assert st == 200 and f'root_pw: "{API_SECRET}"' in ud, ud
    st, ud = al.curl(al.own, config_url(OWNER))
    assert st == 200 and f'root_pw: "{OWNER_SECRET}"' in ud, ud
    al.curl(al.att, config_url(OWNER))                  # a refusal in the journal too
    # every read
    reads = {}
    for path in ("profiles", "profiles/linux", "machines", f"machines/{OWNER}",
                 f"machines/{ATTACKER}", f"machines/{OWNER}/plan", "groups",
                 f"events?mac={OWNER}&limit=1000", "events?limit=1000"):
        st, v = al.api(path)
        assert st == 200, (path, v)
        reads[path] = json.dumps(v)
    assert json.loads(reads[f"machines/{OWNER}"])["secrets"] == {"root_pw": "<redacted>"}
    assert json.loads(reads["profiles/linux"])["secrets"] == {"api_key": "<redacted>"}
    for args in (("machines", "show", OWNER), ("machines", "show", ATTACKER),
                 ("profiles", "show", "linux"), ("machines",), ("explain", "--mac", OWNER)):
        reads[" ".join(args)] = al.d.cli(*args)
    reads["--json machines"] = json.dumps(al.d.cli_json("machines"))
    reads["log"] = al.d.log()
    for what, text in reads.items():
        for s in secrets:
            assert s not in text, f"secret {s} in {what}: {text[:2000]}"
    # a read written back is refused, and the stored secret stays
    st, v = al.api(f"machines/{ATTACKER}")
    st, body = al.api(f"machines/{ATTACKER}", "PUT",
                      {k: v[k] for k in ("hostname", "secrets")})
    assert st == 422 and "give the value itself" in body["error"], body
    st, ud = al.curl(al.att, config_url(ATTACKER))
    assert st == 200 and f'root_pw: "{API_SECRET}"' in ud, ud
