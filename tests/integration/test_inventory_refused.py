"""One bad stored object never stops the daemon (issue #11 item 6).

A group written through the API names a profile of the config file; the
operator then removes that profile from the file.  The group no longer
validates.  Before, the next start failed for DHCP, TFTP and HTTP alike
while --check-config said the file was valid.  Now the daemon leaves that
one object out, names it and why in its log and in --check-config, serves
everything else, accepts unrelated API writes, refuses writes that would
leave out objects it serves, and the CLI deletes the bad object through
the API while the daemon runs.
"""

from __future__ import annotations

import json

import test_api
from test_api import BASE, MAC

OLD = "  - name: old\n    kernel: vmlinuz\n"


def reload(d, expect: str = "configuration reloaded") -> str:
    off = d.log_size()
    d.hup()
    d.wait_log(expect, since=off)
    return d.log(off)


def test_bad_stored_group_is_left_out_not_fatal(lab, tmp_path):
    d, api = test_api.start(lab, tmp_path, token=True)
    cfg = tmp_path / "ironboot.yaml"
    text = cfg.read_text()
    cfg.write_text(text.replace("profiles:\n", "profiles:\n" + OLD, 1))
    reload(d)
    st, body, _ = api.call("PUT", "groups/g-old",
                           {"profile": "old", "selector": {"labels": {"rack": "r1"}}})
    assert st == 201, body
    assert api.call("PUT", "profiles/rescue", test_api.RESCUE)[0] == 201
    assert api.call("PUT", "groups/g-rescue",
                    {"profile": "rescue", "selector": {"labels": {"rack": "r2"}}})[0] == 201

    # The operator removes profile 'old' from the file: g-old is now bad.
    cfg.write_text(text)
    log = reload(d)
    assert "stored groups g-old refused" in log and "'old'" in log, log
    assert "#!ipxe" in api.script(MAC)                     # still serving

    # A restart serves too, and says the same.
    d.stop()
    off = d.log_size()
    d.start(timeout=20)
    assert "stored groups g-old refused" in d.log(off), d.log(off)
    assert "#!ipxe" in api.script(MAC)
    names = [g["name"] for g in api.call("GET", "groups")[1]]
    assert "g-old" not in names and "g-rescue" in names, names

    chk = d.check_config()
    assert chk.returncode == 0, chk.stderr
    assert "stored groups g-old is refused" in chk.stderr, chk.stderr
    assert "1 stored object(s) refused" in chk.stdout, chk.stdout

    # Unrelated writes go through; a write that would leave out a served
    # object (deleting the profile g-rescue needs) or a new bad object is
    # refused, and nothing changes.
    assert api.call("PUT", f"machines/{MAC}", {"hostname": "n42"})[0] == 201
    st, body, _ = api.call("DELETE", "profiles/rescue")
    assert st == 422 and "rescue" in body["error"], (st, body)
    st, body, _ = api.call("PUT", "groups/g-new", {"profile": "nope"})
    assert st == 422 and "nope" in body["error"], (st, body)
    assert api.call("GET", "profiles/rescue")[0] == 200

    # The CLI lists the refusal and deletes the bad object while the
    # daemon runs.
    p = d.cli_run("groups")
    assert p.returncode == 0 and "g-old is not served" in p.stderr, p.stderr
    d.cli("groups", "delete", "g-old")
    log = reload(d)
    assert "refused" not in log, log
    chk = d.check_config()
    assert "refused" not in chk.stderr + chk.stdout, chk.stderr
    d.stop()


def test_stored_object_under_another_key_is_refused_and_deletable(lab, tmp_path):
    """Fuzz finding 4 (docs/FUZZING.md): an inventory row profiles/a whose
    body says "name": "b" (a hand edit or another writer; the API never
    writes one) was served as profile b, which the API could not delete
    (DELETE profiles/b: no row b).  Now it is refused under its row's key,
    named in the log, and the API deletes it by that key."""
    import sqlite3
    d, api = test_api.start(lab, tmp_path, token=True)
    d.stop()
    db = sqlite3.connect(tmp_path / "state" / "ironboot.db")
    with db:
        db.execute("INSERT INTO inventory (kind, name, body, updated_us) VALUES (?, ?, ?, ?)",
                   ("profiles", "a", json.dumps({"name": "b", "kernel": "vmlinuz"}), 1))
    db.close()
    off = d.log_size()
    d.start(timeout=20)
    log = d.log(off)
    assert "stored profiles a refused" in log and "'b' differs from the key" in log, log
    names = [p["name"] for p in api.call("GET", "profiles")[1]]
    assert "a" not in names and "b" not in names, names
    assert api.call("GET", "profiles/b")[0] == 404
    assert "#!ipxe" in api.script(MAC)                     # everything else served
    st, body, _ = api.call("DELETE", "profiles/a")
    assert st == 204, (st, body)
    log = reload(d)
    assert "refused" not in log, log
    d.stop()
