"""ironbootd's event loop while PostgreSQL holds a DHCP group commit
(issue #16, the store thread of docs/SCALE-OUT.md): a psql session locks
leases4 (EXCLUSIVE: reads go on, writes wait) for 3 s while
ironboot-storm's five machines DORA; GET /healthz, timed every 0.2 s from
the client namespace, answers within 500 ms all along (the commit waits
on the DHCP commit thread's own connection, not on the loop), and once
the lock is gone every machine is ACKed with its row in the database.
bench/store/pg_stall.py is the same measurement, printed.

A real PostgreSQL 15 (tests/lib/pglab.py), the boot-storm lab's
namespaces (tests/lib/stormlab.py, 198.18.0.0/15); Env and the checks
are test_store_pg_outage.py's.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_store_pg_stall.py -v
"""

from __future__ import annotations

import json
import os
import subprocess
import time

from pglab import DB, USER, PgServer
# the daemon on a real PostgreSQL, and its fixtures, are the outage test's
from test_store_pg_outage import check_acks_stored, env, get, pg, read_acks  # noqa: F401

LOCK_SEC = 3
HEALTHZ_MAX = 0.5


def lock_leases4(pg: PgServer, seconds: int) -> subprocess.Popen:
    """A session that holds leases4 against writers for seconds."""
    penv = dict(os.environ, PGHOST=pg.socket_dir, PGUSER=USER, PGPASSWORD=pg.password)
    return subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB, "-c",
                             "BEGIN; LOCK TABLE leases4 IN EXCLUSIVE MODE; "
                             f"SELECT pg_sleep({seconds}); COMMIT"],
                            env=penv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def test_loop_answers_while_a_dhcp_commit_waits_on_a_lock(env):
    e = env
    warm = e.run_storm(e.tmp / "acks0", 5, "52:54:05:00:00:00")
    assert warm["done"] == 5, warm
    locker = lock_leases4(e.pg, LOCK_SEC)
    try:
        time.sleep(0.5)			# the lock is held before the first DORA
        storm = e.lab.popen(e.cli, e.storm_argv(e.tmp / "acks1", 5, "52:54:06:00:00:00",
                                                "--deadline", "20"),
                            stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)			# the batch reached the commit, which waits
        held_until = time.monotonic() + LOCK_SEC - 1.5
        # the daemon's DHCP commit waits for the lock
        assert e.pg.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c "
                         "ON c.oid = l.relation WHERE c.relname = 'leases4' "
                         "AND l.mode = 'RowExclusiveLock' AND NOT l.granted") != "0"
        polls = []
        while time.monotonic() < held_until:
            t0 = time.monotonic()
            st, _ = get(e.lab, e.cli, "/healthz", timeout=10)
            polls.append((st, time.monotonic() - t0))
            time.sleep(0.2)
    finally:
        locker.wait(timeout=30)
    assert locker.returncode == 0, locker.stderr.read()
    out, _ = storm.communicate(timeout=60)
    assert polls and all(st == 200 for st, _ in polls), polls
    worst = max(dt for _, dt in polls)
    assert worst < HEALTHZ_MAX, f"/healthz took {worst:.2f} s behind a DHCP commit: {polls}"
    done = json.loads(out)
    assert done["done"] == 5, done
    acks = read_acks(e.tmp / "acks1")
    assert len(acks) == 5, acks
    check_acks_stored(e, acks)
