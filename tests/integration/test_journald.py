"""Structured logging to the systemd journal (issue #11: "log to journald
with structured fields (MAC, stage, event) when run under systemd").

There is no systemd here, so the test plays journald: sd_journal_send(3)
writes native-protocol datagrams to /run/systemd/journal/socket.  The
daemon runs in a private mount namespace (unshare -m) where a tmpfs covers
/run/systemd and the test's own datagram socket is bind-mounted at
/run/systemd/journal/socket; with $INVOCATION_ID set, as systemd sets it
for every service, the daemon must log there and not on stderr:

    srv: srv0 198.18.0.1/24  <->  cli: cli0 198.18.0.2/24

Every message is a record with MESSAGE, PRIORITY and SYSLOG_IDENTIFIER;
a machine's boot event (here its script fetch) is a record with
IRONBOOT_MAC, IRONBOOT_STAGE and IRONBOOT_EVENT.  Without the journal's
socket the daemon logs to stderr as before.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_journald.py -v
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import netlab
import test_api
from test_api import MAC

SANITIZERS = netlab.Daemon.SANITIZER_MARKS


def parse_native(data: bytes) -> dict:
    """One datagram of the journal's native protocol: KEY=VALUE lines, or
    KEY, a newline, a little-endian 64-bit length, the bytes, a newline."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack_from("<Q", data, nl + 1)
            v = data[nl + 9:nl + 9 + n]
            assert data[nl + 9 + n:nl + 10 + n] == b"\n", data
            i = nl + 10 + n
        fields[k.decode()] = v.decode(errors="replace")
    return fields


def records(sock, until, timeout: float = 20) -> list[dict]:
    """Records received until until(records) holds (or timeout)."""
    out, end = [], time.monotonic() + timeout
    while not until(out) and time.monotonic() < end:
        sock.settimeout(max(0.05, end - time.monotonic()))
        try:
            out.append(parse_native(sock.recv(1 << 20)))
        except socket.timeout:
            break
    return out


def private_run(tmp_path: Path, real: Path, journal: Path | None) -> Path:
    """A wrapper that runs `real` in a private mount namespace where a tmpfs
    covers /run/systemd (so the host's journal, if any, is out of reach)
    and, with journal, that directory is /run/systemd/journal.  Every step
    execs, so the wrapper's pid is the daemon's."""
    bind = (f"mkdir /run/systemd/journal && "
            f"mount --bind {shlex.quote(str(journal))} /run/systemd/journal && "
            if journal else "")
    inner = (f"mount --make-rprivate / && mount -t tmpfs tmpfs /run/systemd && {bind}"
             f'exec {shlex.quote(str(real))} "$@"')
    w = tmp_path / "ironbootd-private"
    w.write_text(f"#!/bin/sh\nexec unshare -m sh -c {shlex.quote(inner)} ironbootd \"$@\"\n")
    w.chmod(0o755)
    return w


INVOCATION = {"INVOCATION_ID": "0123456789abcdef0123456789abcdef"}


def test_logs_and_machine_events_go_to_the_journal(lab, tmp_path):
    d, api = test_api.start(lab, tmp_path, token=False)   # the lab and config
    d.stop()
    jdir = tmp_path / "journal"
    jdir.mkdir()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(jdir / "socket"))
    wrapper = private_run(tmp_path, d.bin, jdir)
    err = tmp_path / "journald.stderr.log"
    env = {k: v for k, v in os.environ.items() if k not in ("INVOCATION_ID", "JOURNAL_STREAM")}
    env.update(INVOCATION)
    with open(err, "wb") as ef:
        p = lab.popen(d.ns, [wrapper, "--config", d.config], stdin=subprocess.DEVNULL,
                      stdout=ef, stderr=ef, env=env)
    try:
        got = records(sock, lambda r: any("ready" in x.get("MESSAGE", "") for x in r))
        ready = [x for x in got if "ready" in x.get("MESSAGE", "")]
        assert ready, (got, err.read_text())
        assert ready[0]["PRIORITY"] == "5" and ready[0]["SYSLOG_IDENTIFIER"] == "ironbootd"
        assert "IRONBOOT_MAC" not in ready[0]

        assert "#!ipxe" in api.script(MAC)          # a machine event (http script)
        got = records(sock, lambda r: any(x.get("IRONBOOT_MAC") == MAC for x in r))
        ev = [x for x in got if x.get("IRONBOOT_MAC") == MAC]
        assert ev, got
        assert ev[0]["IRONBOOT_STAGE"] == "http" and ev[0]["IRONBOOT_EVENT"] == "script", ev
        assert ev[0]["PRIORITY"] == "6" and ev[0]["SYSLOG_IDENTIFIER"] == "ironbootd"
        assert '"path":"/boot.ipxe"' in ev[0]["IRONBOOT_DETAIL"], ev
        assert MAC in ev[0]["MESSAGE"] and ev[0]["MESSAGE"].startswith("http script "), ev
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=15)
        sock.close()
    log = err.read_text(errors="replace")
    assert rc == 0, log
    assert not any(m in log for m in SANITIZERS), log
    assert "ready" not in log and "info:" not in log, log    # all of it went to the journal


def test_without_the_journal_socket_stderr_as_before(lab, tmp_path):
    """$INVOCATION_ID but no journal socket (the sink fails): stderr."""
    d, api = test_api.start(lab, tmp_path, token=False)
    d.stop()
    d.bin = private_run(tmp_path, d.bin, None)
    d.env = dict(INVOCATION)
    d.start(timeout=20)                 # waits for "ready" on stderr
    assert "#!ipxe" in api.script(MAC)
    d.stop()
