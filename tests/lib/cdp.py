"""Headless Chromium (Debian's `chromium`) driven over the Chrome DevTools
Protocol, for the web UI's test (tests/integration/test_ui.py).

The protocol runs over a pipe (--remote-debugging-pipe: JSON messages
ended by NUL, Chromium reads fd 3 and writes fd 4), so no debugging port
is opened anywhere.  The browser runs inside a namespace the test made
(netlab.Lab.popen), where only the lab's addresses are reachable; its
background networking is off as well.  Every wait is bounded; waits are
on a condition the page reports, never a sleep.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import threading
import time
from pathlib import Path

FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--no-default-browser-check", "--disable-extensions", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
    "--disable-domain-reliability", "--disable-breakpad", "--metrics-recording-only",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--password-store=basic", "--use-mock-keychain", "--mute-audio",
    "--remote-debugging-pipe", "--window-size=1280,900",
]


class CDPError(RuntimeError):
    pass


class Chrome:
    """One headless browser and one page (a flat session)."""

    def __init__(self, lab, ns: str, profile: Path, timeout: float = 60.0):
        exe = shutil.which("chromium")
        if not exe:
            raise CDPError("chromium is not installed (scripts/deps.sh test)")
        to_r, to_w = os.pipe()		# we write, Chromium reads (its fd 3)
        from_r, from_w = os.pipe()	# Chromium writes (its fd 4), we read
        # high numbers first, so the dup2 to 3 and 4 cannot clobber them
        a, b = os.dup(to_r) + 100, os.dup(from_w) + 100
        os.dup2(to_r, a)
        os.dup2(from_w, b)

        def child():	# runs before close_fds, which keeps pass_fds: 3 and 4 too
            os.dup2(a, 3)
            os.dup2(b, 4)

        profile.mkdir(parents=True, exist_ok=True)
        self.log = open(profile.parent / "chromium.log", "wb")
        self.proc = lab.popen(ns, [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                              pass_fds=(a, b, 3, 4), preexec_fn=child, stdin=open(os.devnull),
                              stdout=self.log, stderr=self.log)
        for fd in (to_r, from_w, a, b):
            os.close(fd)
        self.lab = lab
        self.w = os.fdopen(to_w, "wb", buffering=0)
        self.r = os.fdopen(from_r, "rb", buffering=0)
        self.next_id = 0
        self.replies: dict[int, dict] = {}
        self.events: list[dict] = []
        self.cv = threading.Condition()
        self.closed = False
        threading.Thread(target=self._reader, daemon=True).start()
        self.session = None
        tgt = self.call("Target.createTarget", {"url": "about:blank"}, timeout=timeout)
        att = self.call("Target.attachToTarget", {"targetId": tgt["targetId"],
                                                  "flatten": True}, timeout=timeout)
        self.session = att["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(domain + ".enable")

    def _reader(self) -> None:
        buf = b""
        while True:
            chunk = self.r.read(65536)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                m = json.loads(msg)
                with self.cv:
                    if "id" in m:
                        self.replies[m["id"]] = m
                    else:
                        self.events.append(m)
                    self.cv.notify_all()
        with self.cv:
            self.closed = True
            self.cv.notify_all()

    def call(self, method: str, params: dict | None = None, timeout: float = 30.0) -> dict:
        """One command; its result (raises CDPError on an error or timeout)."""
        with self.cv:
            self.next_id += 1
            mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if self.session:
            msg["sessionId"] = self.session
        self.w.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self.cv:
            while mid not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise CDPError(f"{method}: no answer in {timeout} s"
                                   f"{' (browser gone)' if self.closed else ''}")
                self.cv.wait(left)
            m = self.replies.pop(mid)
        if "error" in m:
            raise CDPError(f"{method}: {m['error']}")
        return m.get("result", {})

    def eval(self, expr: str, timeout: float = 30.0):
        """The value of a JavaScript expression (awaited when a promise)."""
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in r:
            raise CDPError(f"{expr!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expr: str, timeout: float, what: str = ""):
        """Polls expr in the page until it is truthy (in JavaScript's
        sense: an element is); bounded."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                v = self.eval(f"Boolean({expr})", timeout=max(deadline - time.monotonic(), 1))
            except CDPError:
                v = None	# a navigation in between: ask again
            if v:
                return v
            if time.monotonic() > deadline:
                raise CDPError(f"{what or expr}: not within {timeout} s; page: "
                               f"{self.eval('document.body && document.body.innerText')!r:.2000}")
            with self.cv:
                self.cv.wait(0.2)	# woken early by any browser message

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", {"url": url})

    def screenshot(self, path: Path, full: bool = True) -> Path:
        """A PNG of the page (the whole page when full)."""
        params = {"format": "png"}
        if full:
            m = self.call("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": 1280,
                              "height": min(max(size["height"], 600), 4000), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params, timeout=60)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def console(self) -> list[str]:
        """The page's console messages and browser log entries so far."""
        out = []
        with self.cv:
            evs = list(self.events)
        for e in evs:
            p = e.get("params", {})
            if e.get("method") == "Log.entryAdded":
                out.append(f"{p['entry'].get('level')}: {p['entry'].get('text')}")
            elif e.get("method") == "Runtime.consoleAPICalled":
                out.append(f"{p.get('type')}: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif e.get("method") == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:500])
        return out

    def close(self) -> None:
        try:
            self.w.close()	# Chromium ends when its pipe closes
        except OSError:
            pass
        self.lab.kill(self.proc)
        self.log.close()
