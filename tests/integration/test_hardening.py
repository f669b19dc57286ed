"""Small hardening items of issue #11, each against the real daemon in a
namespace the test creates (198.18.0.1 on srv0)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from netlab import Daemon, lab_config


def make_config(tmp_path: Path, name: str = "ironboot.yaml", **server) -> Path:
    cfg = lab_config()
    cfg["server"].update(state_dir=str(tmp_path / "state"), **server)
    cfg["tftp"]["enabled"] = False
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def srv_host(lab) -> str:
    srv, cli = lab.netns("srv"), lab.netns("cli")
    lab.veth(srv, "srv0", cli, "cli0")
    lab.addr(srv, "srv0", "198.18.0.1/24")
    return srv


def test_second_daemon_on_one_state_dir_refused(lab, ironbootd_bin, tmp_path):
    """Item 8: a second ironbootd on the same state dir must not bind
    67/69/547 beside the first; it says who holds the dir and exits 1.
    The lock dies with its holder: after kill -9 a new daemon starts."""
    srv = srv_host(lab)
    cfg = make_config(tmp_path)
    first = Daemon(lab, srv, cfg).start()
    second = Daemon(lab, srv, cfg, log_path=tmp_path / "second.log")
    assert second.start_fails(timeout=10) == 1
    log = second.log()
    assert f"another ironbootd (pid {first.pid}) is using the state directory" in log, log
    assert "listening" not in log and "serving" not in log, log
    assert first.alive()
    first.kill9()
    third = Daemon(lab, srv, cfg, log_path=tmp_path / "third.log").start()
    third.stop()
