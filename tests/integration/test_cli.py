"""The operator's command prints what the store holds without letting a
stored string forge output (issue #11 item 7): hostnames come from DHCP
clients and journal details from the network, so a newline or a terminal
escape in one must come out escaped, never as a line of its own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from netlab import Daemon, lab_config

FORGED = "198.18.0.250  52:54:00:00:00:99  active"


def make_store(lab, tmp_path: Path) -> tuple[Daemon, Path]:
    cfg = lab_config()
    cfg["server"]["state_dir"] = str(tmp_path / "state")
    cfg["tftp"]["enabled"] = False
    path = tmp_path / "ironboot.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    srv, cli = lab.netns("srv"), lab.netns("cli")
    lab.veth(srv, "srv0", cli, "cli0")
    lab.addr(srv, "srv0", "198.18.0.1/24")
    d = Daemon(lab, srv, path).start()
    d.stop()
    return d, tmp_path / "state" / "ironboot.db"


def sql(db: Path, stmt: str) -> None:
    subprocess.run(["sqlite3", str(db), stmt], check=True, timeout=30)


def test_stored_strings_cannot_forge_lines(lab, ironbootd_bin, tmp_path):
    d, db = make_store(lab, tmp_path)
    evil = f"node\n{FORGED}\x1b[2J"
    sql(db, "INSERT INTO leases4 (address, subnet, htype, hwaddr, hostname, cltt, "
            "expires, state) VALUES (3323068516, 3323068416, 1, "
            "x'525400000010', " + "'" + evil.replace("'", "''") + "'"
            ", 1, 4102444800, 1)")
    detail = '{"file":"a\\n' + FORGED + '","x\\u001b":"y"}'
    sql(db, "INSERT INTO events (ts_us, mac, proto, kind, detail) VALUES "
            "(1764950400000000, '52:54:00:00:00:10', 'dhcp4', "
            "'ack\n" + FORGED + "', '" + detail + "')")
    for args in (("leases",), ("leases", "show", "198.18.0.100"),
                 ("events", "--mac", "52:54:00:00:00:10")):
        out = d.cli(*args)
        lines = out.splitlines()
        assert not any(l.startswith(FORGED) for l in lines), (args, out)
        assert "\x1b" not in out, (args, out)
        assert "\\x0a" in out, (args, out)          # the newline, escaped
    # Event times carry a date.
    out = d.cli("events", "--mac", "52:54:00:00:00:10")
    assert "2025-12-05 16:00:00.000" in out, out
    # --json keeps the exact stored text (JSON escapes it itself).
    leases = d.cli_json("leases")
    assert leases[0]["hostname"] == evil
