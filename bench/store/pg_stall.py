"""How long ironbootd's event loop stalls while PostgreSQL holds its DHCP
group commit (issue #16, the store thread of docs/SCALE-OUT.md): a psql
session locks leases4 for 5 s, ironboot-storm sends 5 machines' DORA, and
GET /healthz is timed every 0.2 s from the client namespace.  While the
commit runs on the loop, /healthz waits for it.

Run:  sudo IB_BUILD=build /usr/bin/python3 bench/store/pg_stall.py
(the namespaces, 198.18.0.0/15, and the PostgreSQL in a temp dir are made
and removed here, as the tests do)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "lib"))
sys.path.insert(0, str(REPO / "tests" / "integration"))
import netlab  # noqa: E402
from pglab import PgServer  # noqa: E402
import test_store_pg_outage as T  # noqa: E402

with PgServer(password="x") as pg, netlab.Lab("ibexp") as lab:
    tmp = Path(tempfile.mkdtemp())
    e = T.Env(lab, tmp, pg, netlab.build_dir())
    e.run_storm(tmp / "a0", 5, "52:54:05:00:00:00")
    env = dict(os.environ, PGHOST=pg.socket_dir, PGUSER="ironboot", PGPASSWORD="x")
    locker = subprocess.Popen(["psql", "-X", "-q", "-d", "ironboot", "-c",
                               "BEGIN; LOCK TABLE leases4 IN EXCLUSIVE MODE; SELECT pg_sleep(5); COMMIT"],
                              env=env)
    time.sleep(0.5)
    p = lab.popen(e.cli, e.storm_argv(tmp / "a1", 5, "52:54:06:00:00:00", "--deadline", "20"),
                  stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    worst = 0
    for _ in range(20):
        t0 = time.monotonic()
        st, _ = T.get(lab, e.cli, "/healthz", timeout=20)
        dt = time.monotonic() - t0
        worst = max(worst, dt)
        print(f"healthz {st} in {dt*1000:.0f} ms", flush=True)
        time.sleep(0.2)
    locker.wait()
    out, _ = p.communicate(timeout=60)
    print("storm done", json.loads(out)["done"], "worst healthz", round(worst, 2), "s")
    e.d.stop()
    shutil.rmtree(tmp, ignore_errors=True)
