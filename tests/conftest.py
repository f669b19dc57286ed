"""Fixtures shared by the protocol tests (tests/integration) and the
end-to-end boots (tests/e2e), all inside network namespaces built by
tests/lib/netlab.py.

    lab            a netlab.Lab (torn down after the test, even on failure)
    build_dir      Path of the meson build dir ($IB_BUILD, default <repo>/build)
    ironbootd_bin  skips unless ironbootd and ironboot are built there

Tests skip (not fail) when not root, when network namespaces are
unavailable, or when the binaries are not built.
Run:  sudo /usr/bin/python3 -m pytest tests/integration tests/e2e -v
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import netlab  # noqa: E402

_avail: tuple[bool, str] | None = None


def _netns_ok() -> tuple[bool, str]:
    global _avail
    if _avail is None:
        _avail = netlab.netns_available()
        if _avail[0]:
            netlab.cleanup_stale()
    return _avail


@pytest.fixture(scope="session")
def build_dir() -> Path:
    return netlab.build_dir()


@pytest.fixture
def lab():
    ok, reason = _netns_ok()
    if not ok:
        pytest.skip(reason)
    with netlab.Lab() as lb:
        yield lb


@pytest.fixture(scope="session")
def ironbootd_bin(build_dir: Path) -> Path:
    """Skip unless ironbootd and ironboot are built in build_dir."""
    for name in ("ironbootd", "ironboot"):
        if not netlab.find_binary(build_dir, name).exists():
            pytest.skip(f"{name} not built in {build_dir} "
                        f"(meson compile -C {build_dir})")
    return netlab.find_binary(build_dir, "ironbootd")
