"""nginx as the peer of ironbootd's HTTP in the benches (bench/http,
bench/storm): the config both write for the nginx binary that
bench/lib/nginx.sh unpacks into the scratch directory.

Everything nginx writes (pid, error log, temp paths) stays under `work`;
access logging is off so the comparison is of serving, not of logging.
"""

from __future__ import annotations

from pathlib import Path

CONF = """\
worker_processes {workers};
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {work}/ngx-body;
    proxy_temp_path {work}/ngx-proxy;
    fastcgi_temp_path {work}/ngx-fcgi;
    uwsgi_temp_path {work}/ngx-uwsgi;
    scgi_temp_path {work}/ngx-scgi;
    default_type application/octet-stream;
    server {{
{listens}        root {root};
    }}
}}
"""


def write_conf(work: Path, listens: list[str], root: Path, workers: int = 1,
               connections: int = 1024) -> Path:
    """Write work/nginx.conf serving `root` on each of `listens` (the
    argument of a `listen` directive, e.g. "198.18.0.1:8081 backlog=4096")
    and return its path; nginx is then run with -c it -p work."""
    lines = "".join(f"        listen {l};\n" for l in listens)
    conf = Path(work) / "nginx.conf"
    conf.write_text(CONF.format(workers=workers, work=work, connections=connections,
                                listens=lines, root=root))
    return conf
