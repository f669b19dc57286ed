"""GET /healthz and /readyz: monitoring polls are not machine events
(issue #11, item 11: "don't journal health checks or monitoring polls").

    srv: srv0 198.18.0.1/24  <->  cli: cli0 198.18.0.2/24

/healthz answers while the loop runs; /readyz answers 200 only while every
service the snapshot enables listens and the store takes a write, else 503
naming what is not ready.  Neither is ever journalled, so a monitor
polling all day leaves the boot history alone.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_health.py -v
"""

from __future__ import annotations

import json
import sqlite3
import time

import netlab
import test_api
from test_api import MAC, PORT, SRV4


def get(lab, cli, path: str, timeout: float = 20) -> tuple[int, bytes]:
    """(status, body) of one GET on a fresh connection, read until close."""
    return netlab.http_get(lab, cli, SRV4, PORT, path, timeout)


def events(api, everything: bool = False) -> list:
    """The journal; without everything, less the API's own reads of it."""
    st, v, _ = api.call("GET", "events?limit=1000")
    assert st == 200, v
    return v if everything else [e for e in v if e["kind"] != "api"]


def wait_events(api, n: int, timeout: float = 10) -> list:
    """The journal (less the API's reads) once it holds n events (it is
    flushed by a timer)."""
    end = time.monotonic() + timeout
    while True:
        v = events(api)
        if len(v) >= n or time.monotonic() > end:
            return v
        time.sleep(0.2)


def test_polls_are_not_journalled(lab, tmp_path):
    d, api = test_api.start(lab, tmp_path, token=True)
    assert "#!ipxe" in api.script(MAC)
    before = wait_events(api, 1)
    assert any(e["kind"] == "script" for e in before), before
    for i in range(100):
        st, body = get(lab, api.cli, "/healthz" if i % 2 else "/readyz")
        assert st == 200, body
    # a marker fetch: once it is in the journal, so would any poll be
    assert "#!ipxe" in api.script(MAC)
    after = wait_events(api, len(before) + 1)
    assert len(after) == len(before) + 1, [e for e in after if e not in before]
    every = events(api, everything=True)
    paths = [e["detail"].get("path") for e in every if isinstance(e.get("detail"), dict)]
    assert "/healthz" not in paths and "/readyz" not in paths, paths
    macs = {e["mac"] for e in after}
    assert macs == {MAC}, macs                     # no machine but the one that booted
    d.stop()


def test_readyz_names_what_is_not_ready(lab, tmp_path):
    d, api = test_api.start(lab, tmp_path, token=True)
    st, body = get(lab, api.cli, "/readyz")
    assert st == 200, body
    v = json.loads(body)
    assert v["ready"] is True and v["checks"] == {"http": "ok", "store": "ok"}, v
    st, body = get(lab, api.cli, "/healthz")
    assert st == 200 and body == b"ok\n"

    # TFTP enabled by a reload is not served until a restart: not ready.
    root = tmp_path / "tftp"
    root.mkdir()
    cfg = tmp_path / "ironboot.yaml"
    text = cfg.read_text()
    cfg.write_text(text.replace("tftp: { enabled: false }",
                                f"tftp: {{ enabled: true, root: {root}, port: 6969 }}"))
    off = d.log_size()
    d.hup()
    d.wait_log("enabling TFTP needs a restart", since=off)
    d.wait_log("configuration reloaded", since=off)
    st, body = get(lab, api.cli, "/readyz")
    v = json.loads(body)
    assert st == 503 and v["ready"] is False, (st, v)
    assert v["checks"]["tftp"].startswith("not listening"), v

    # After the restart it listens.
    d.stop()
    d.start(timeout=20)
    st, body = get(lab, api.cli, "/readyz")
    v = json.loads(body)
    assert st == 200 and v["checks"]["tftp"] == "ok", (st, v)

    # Another writer holds the store's write lock.  The probe runs on the
    # loop and never waits for the lock: each /readyz answers at once (it
    # used to wait the store's 5 s busy timeout, holding DHCP behind it).
    # The daemon's writers would wait up to 5 s for the lock, so for 5 s
    # the store is ready with the lock named, then not writable.
    time.sleep(1.1)                     # past the probe's one-second cache
    db = sqlite3.connect(tmp_path / "state" / "ironboot.db", timeout=0,
                         isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        t0 = time.monotonic()
        st, body = get(lab, api.cli, "/readyz")
        v = json.loads(body)
        assert st == 200 and "holds the write lock" in v["checks"]["store"], (st, v)
        while st == 200:
            t = time.monotonic()
            st, body = get(lab, api.cli, "/readyz")
            assert time.monotonic() - t < 2.5, "a /readyz waited for the lock"
            assert time.monotonic() - t0 < 20, f"still ready after 20 s: {body}"
            time.sleep(0.2)
        v = json.loads(body)
        assert st == 503 and v["checks"]["store"].startswith(
            "not writable: another connection has held the write lock for"), (st, v)
        assert time.monotonic() - t0 > 4, "not writable before the writers' 5 s wait"
        st, body = get(lab, api.cli, "/healthz")
        assert st == 200                # alive all the same
    finally:
        db.execute("ROLLBACK")
        db.close()
    time.sleep(1.1)
    st, body = get(lab, api.cli, "/readyz")
    assert st == 200 and json.loads(body)["checks"]["store"] == "ok", body
    d.wait_log("store: not writable")
    d.stop()
