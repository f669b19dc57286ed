"""A throw-away PostgreSQL server for the tests (issue #16): Debian's
PostgreSQL 15 binaries (scripts/deps.sh test installs `postgresql`),
initdb and pg_ctl as an unprivileged user (`nobody` when run as root) in a
temporary directory, listening only on a Unix socket in that directory,
stopped and removed afterwards.  No TCP port, no system service, no mock.

    with PgServer() as pg:            # trust auth, fsync on
        pg.uri                        # postgresql://ironboot@/ironboot?host=...
    with PgServer(password="s3cret") as pg:   # scram-sha-256 for every login
        pg.uri, pg.password_file

As a command, for meson's unit tests: starts a server, runs the command
with IB_TEST_PG set to its URI, stops the server, exits with the
command's status:

    python3 tests/lib/pglab.py -- build/tests/unit/test_store
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

USER = "ironboot"		# the cluster's superuser role
DB = "ironboot"


def bindir() -> Path:
    """The newest PostgreSQL under /usr/lib/postgresql (Debian's layout);
    a missing one is a failed install step, never a skip."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                  key=lambda p: int(Path(p).parent.parent.name))
    if not dirs:
        raise RuntimeError("PostgreSQL is not installed (scripts/deps.sh test "
                           "installs Debian's postgresql)")
    return Path(dirs[-1]).parent


class PgServer:
    def __init__(self, password: str | None = None, fsync: bool = True):
        self.password = password
        self.fsync = fsync
        self.dir: Path | None = None
        self.started = False

    # the unprivileged user's uid/gid, or None when not root
    def _owner(self):
        if os.geteuid() != 0:
            return None
        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(bindir() / args[0]), *args[1:]]
        if self._owner():
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True,
                              timeout=120, cwd="/")

    @property
    def socket_dir(self) -> str:
        return str(self.dir)

    @property
    def uri(self) -> str:
        return f"postgresql://{USER}@/{DB}?host={self.dir}"

    @property
    def password_file(self) -> str | None:
        return str(self.dir / "password") if self.password else None

    def start(self) -> "PgServer":
        self.dir = Path(tempfile.mkdtemp(prefix="ib-pg-"))
        os.chmod(self.dir, 0o755)	# server.user must reach the socket
        owner = self._owner()
        if owner:
            os.chown(self.dir, *owner)
        args = ["initdb", "-D", str(self.dir / "data"), "-U", USER, "-E", "UTF8",
                "--locale=C", "--no-sync"]
        if self.password:
            pwfile = self.dir / "password"
            pwfile.write_text(self.password + "\n")
            if owner:
                os.chown(pwfile, *owner)
            args += ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
        else:
            args += ["--auth=trust"]
        r = self._run(*args, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr}")
        self.resume()
        self.psql("CREATE DATABASE " + DB, db="postgres")
        return self

    def resume(self) -> None:
        """Starts the server on its data directory (again, after halt())."""
        opts = f"-k {self.dir} -c listen_addresses='' -c max_connections=30"
        if not self.fsync:
            opts += " -c fsync=off"
        r = self._run("pg_ctl", "-D", str(self.dir / "data"), "-l",
                      str(self.dir / "log"), "-w", "-t", "60", "-o", opts, "start",
                      check=False)
        self.started = True
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {r.stderr}\n{self.log()}")

    def halt(self, mode: str = "fast") -> None:
        """pg_ctl stop -m mode (fast: clients are told; immediate: no
        shutdown checkpoint, crash recovery at the next start), keeping
        the data for resume()."""
        r = self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode,
                      "-w", "-t", "60", "stop", check=False)
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {r.stderr}\n{self.log()}")
        self.started = False

    def log(self) -> str:
        try:
            return (self.dir / "log").read_text()
        except OSError:
            return ""

    def _psql(self, sql: str, db: str) -> tuple[list[str], dict]:
        env = dict(os.environ, PGHOST=str(self.dir), PGUSER=USER)
        if self.password:
            env["PGPASSWORD"] = self.password
        return ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql], env

    def psql(self, sql: str, db: str = DB) -> str:
        """Runs sql as the superuser; returns the unaligned output."""
        argv, env = self._psql(sql, db)
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {r.stderr}")
        return r.stdout.strip()

    def psql_bg(self, sql: str, db: str = DB) -> subprocess.Popen:
        """Starts sql as the superuser in the background (a session that
        holds a lock a while, say); the caller waits for it."""
        argv, env = self._psql(sql, db)
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def stop(self) -> None:
        if self.dir is None:
            return
        if self.started:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast",
                      "-w", "-t", "60", "stop", check=False)
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self) -> "PgServer":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print("usage: pglab.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    cmd = argv[argv.index("--") + 1:]
    # unit tests commit thousands of tiny transactions: no fsync there
    with PgServer(fsync=False) as pg:
        env = dict(os.environ, IB_TEST_PG=pg.uri)
        r = subprocess.run(cmd, env=env, timeout=600)
        if r.returncode != 0:
            sys.stderr.write(pg.log()[-4000:])
        return r.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
