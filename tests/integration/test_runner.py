"""The test runner itself: a missing client tool fails the suite.

`make test` (scripts/test.sh) checks every tool before any test runs, and
a test that needs a tool fails (never skips) when it is missing.  Both are
shown here with PATH stripped of `tftp` (tftp-hpa's client): the preflight
names it and exits 1, and pytest run on a tftp-hpa test exits 1 with a
failure naming it, where the suite once reported a skip and passed.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import netlab

REPO = netlab.REPO


def path_without(tmp: Path, *drop: str) -> str:
    """A PATH of one directory holding links to every program on today's
    PATH except `drop` (first match wins, as a shell would find them)."""
    farm = tmp / "bin"
    farm.mkdir()
    for d in os.environ.get("PATH", "").split(":"):
        if not d or not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            src = os.path.join(d, name)
            if name in drop or (farm / name).exists() or not os.access(src, os.X_OK):
                continue
            (farm / name).symlink_to(src)
    return str(farm)


def run(argv: list[str], path: str, **env) -> subprocess.CompletedProcess:
    e = dict(os.environ, PATH=path, **env)
    e.pop("IB_ALLOW_SKIP", None)
    return subprocess.run(argv, cwd=REPO, env=e, capture_output=True,
                          text=True, timeout=240)


def test_preflight_passes_with_every_tool():
    p = run(["scripts/test.sh", "--preflight"], os.environ["PATH"])
    assert p.returncode == 0, p.stdout + p.stderr


def test_preflight_fails_without_tftp(tmp_path):
    p = run(["scripts/test.sh", "--preflight"], path_without(tmp_path, "tftp"))
    assert p.returncode == 1, p.stdout + p.stderr
    assert "missing: tftp" in p.stderr, p.stderr
    assert "install step failed" in p.stderr, p.stderr


def test_tftp_test_fails_not_skips_without_tftp(tmp_path):
    """The same run as the suite's (pytest on one tftp-hpa test), with tftp
    gone: exit 1, reported failed, nothing skipped."""
    p = run(["/usr/bin/python3", "-m", "pytest", "-q", "-rs", "-p",
             "no:cacheprovider", "--timeout=200",
             "tests/integration/test_tftp.py::test_tftp_hpa_netascii"],
            path_without(tmp_path, "tftp"))
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert "1 failed" in out or "1 error" in out, out
    assert not re.search(r"\d+ skipped", out), out
    assert "tftp" in out, out


# -- the harness notices a daemon that dies or misbehaves ------------------------

FAKE_DAEMON = """#!/bin/sh
# Stands in for ironbootd to test the harness: says ready, then behaves as
# $FAKE_MODE says when it gets SIGTERM.
trap 'case "$FAKE_MODE" in
  asan) echo "==1==ERROR: AddressSanitizer: heap-use-after-free" >&2; exit 0;;
  exit3) exit 3;;
  *) exit 0;;
esac' TERM
echo "notice: ironbootd 0.0-fake ready (config /dev/null, state /tmp)" >&2
while :; do sleep 0.05; done
"""

HARNESS_TESTS = """
import os, signal, time
import netlab

def _daemon(lab, mode, log):
    ns = lab.netns("srv")
    return netlab.Daemon(lab, ns, os.environ["FAKE_CFG"],
                         build=os.environ["FAKE_BUILD"], log_path=log,
                         env={"FAKE_MODE": mode}).start()

def test_killed_behind_our_back(lab, tmp_path):
    d = _daemon(lab, "clean", tmp_path / "log")
    os.kill(d.pid, signal.SIGKILL)      # a crash, as far as the test knows
    time.sleep(0.3)

def test_sanitizer_report_at_exit(lab, tmp_path):
    _daemon(lab, "asan", tmp_path / "log")

def test_nonzero_exit_on_sigterm(lab, tmp_path):
    _daemon(lab, "exit3", tmp_path / "log")

def test_clean(lab, tmp_path):
    _daemon(lab, "clean", tmp_path / "log")

def test_stopped_by_the_test(lab, tmp_path):
    d = _daemon(lab, "clean", tmp_path / "log")
    d.kill9()
    d.start()
"""


def test_harness_fails_dead_or_dirty_daemons(tmp_path):
    """A daemon killed during a test, one that prints a sanitizer report,
    and one that exits non-zero on SIGTERM each fail their test; a clean
    one and one the test killed itself pass."""
    build = tmp_path / "build"
    build.mkdir()
    fake = build / "ironbootd"
    fake.write_text(FAKE_DAEMON)
    fake.chmod(0o755)
    (build / "ironboot").symlink_to("/bin/true")
    cfg = tmp_path / "fake.yaml"
    cfg.write_text("# unused\n")
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(
        f"exec(open({str(REPO / 'tests' / 'conftest.py')!r}).read())\n")
    (suite / "test_harness.py").write_text(HARNESS_TESTS)
    p = subprocess.run(
        ["/usr/bin/python3", "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
         "--rootdir", str(suite), "-c", "/dev/null", str(suite)],
        cwd=suite, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, FAKE_BUILD=str(build), FAKE_CFG=str(cfg),
                 PYTHONPATH=str(REPO / "tests" / "lib")))
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    for bad, why in (("test_killed_behind_our_back", "died during the test"),
                     ("test_sanitizer_report_at_exit", "ERROR: AddressSanitizer"),
                     ("test_nonzero_exit_on_sigterm", "exited 3 (wanted 0)")):
        assert re.search(rf"(FAILED|ERROR) \S*::{bad}\b", out), out
        assert why in out, out
    for good in ("test_clean", "test_stopped_by_the_test"):
        assert re.search(rf"PASSED \S*::{good}\b", out), out
        assert not re.search(rf"(FAILED|ERROR) \S*::{good}\b", out), out
    assert "3 errors" in out or "3 failed" in out, out
