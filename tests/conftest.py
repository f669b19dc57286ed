"""Fixtures shared by the protocol tests (tests/integration) and the
end-to-end boots (tests/e2e), all inside network namespaces built by
tests/lib/netlab.py.

    lab            a netlab.Lab (torn down after the test, even on failure)
    build_dir      Path of the meson build dir ($IB_BUILD, default <repo>/build)
    ironbootd_bin  ironbootd and ironboot as built there (fails if missing)

The suite's rules (docs/TESTING.md):

  * No skips.  A skipped test is reported as a failure: a missing client
    tool, no root, no network namespaces or an unbuilt binary is a broken
    install step, not a reason to pass.  A known product defect is a
    `pytest.mark.xfail(strict=True, reason="issue #N: ...")`, never a skip.
    IB_ALLOW_SKIP=1 turns the rule off for a developer's partial run; CI
    never sets it.
  * No unnoticed crash.  After every test, each ironbootd the test started
    must still be running unless the test stopped or killed it itself; at
    the end of the test each is stopped with SIGTERM and must exit 0 with
    no sanitizer report in its log (netlab.Daemon.problems).

Run:  sudo /usr/bin/python3 -m pytest tests/integration tests/e2e -v
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import netlab  # noqa: E402

_avail: tuple[bool, str] | None = None
ALLOW_SKIP = os.environ.get("IB_ALLOW_SKIP") == "1"


def _netns_ok() -> tuple[bool, str]:
    global _avail
    if _avail is None:
        _avail = netlab.netns_available()
        if _avail[0]:
            netlab.cleanup_stale()
    return _avail


# -- the no-skip rule ---------------------------------------------------------

def _skip_to_failure(report) -> None:
    if ALLOW_SKIP or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) \
        else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (f"skipped, and skips are failures in this suite "
                       f"(docs/TESTING.md; IB_ALLOW_SKIP=1 for a partial "
                       f"local run): {reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _skip_to_failure(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    # pytest.importorskip / a module-level skip skips a whole file at
    # collection: that is a failure too.
    outcome = yield
    _skip_to_failure(outcome.get_result())


# -- fixtures -------------------------------------------------------------------

@pytest.fixture(scope="session")
def build_dir() -> Path:
    return netlab.build_dir()


@pytest.fixture
def lab():
    ok, reason = _netns_ok()
    if not ok:
        pytest.fail(f"network namespaces unavailable: {reason}")
    with netlab.Lab() as lb:
        yield lb


@pytest.fixture(autouse=True)
def _daemons_alive():
    """After every test, every ironbootd of every open lab (function- or
    module-scoped) must still be alive unless the test stopped it, and
    its log must hold no sanitizer report."""
    yield
    problems = []
    for lb in list(netlab._labs):
        for d in lb.daemons:
            problems += d.problems(final=False)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def ironbootd_bin(build_dir: Path) -> Path:
    """ironbootd (and ironboot) as built in build_dir; a missing binary is a
    failed build step."""
    for name in ("ironbootd", "ironboot"):
        if not netlab.find_binary(build_dir, name).exists():
            pytest.fail(f"{name} not built in {build_dir} "
                        f"(meson compile -C {build_dir})")
    return netlab.find_binary(build_dir, "ironbootd")

