"""The production topology on one machine: nginx in front of two daphne processes, two qclusters, a reaper.

nginx runs the site that deploy/render-nginx renders for production, so the scale-out tests
exercise the shipped configuration. Every process is the project's own, on the test database
and a Redis the test chose.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.processes import BASE_DIR, Daphne, LocalServer, Qcluster, ServerProcess, free_port, process_env, wait_for

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx(LocalServer, ServerProcess):
    """nginx in the foreground with a private prefix, proxying to the given daphne ports."""

    def __init__(self, upstream_ports: list[int], workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        site = subprocess.run(
            [str(BASE_DIR / "deploy" / "render-nginx"), f"127.0.0.1:{self.port}", str(BASE_DIR / "static"),
             *map(str, upstream_ports)], check=True, capture_output=True, text=True,
        ).stdout
        (workdir / "site.conf").write_text(site)
        temp = {name: workdir / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir(exist_ok=True)
        (workdir / "nginx.conf").write_text(f"""
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp['body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    include {workdir}/site.conf;
}}
""")
        super().__init__([NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"],
                         dict(os.environ), "nginx")

    def start(self) -> "Nginx":
        super().start()
        wait_for(lambda: _answers(f"{self.http_url}/healthz"), timeout=15, message="nginx to proxy /healthz")
        return self


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


class Reaper(ServerProcess):
    def __init__(self, **env_overrides):
        super().__init__([sys.executable, "manage.py", "reap_tasks", "--loop"], process_env(**env_overrides),
                         "reaper")


class Topology:
    """Two daphnes behind nginx, two clusters and a reaper, all on the same database and Redis."""

    def __init__(self, workdir: Path, **env):
        self.env = env
        self.web = [Daphne(**env), Daphne(**env)]
        self.clusters = {"A": Qcluster(**env), "B": Qcluster(**env)}
        self.reaper = Reaper(**env)
        self.nginx = Nginx([server.port for server in self.web], workdir)

    def start(self) -> "Topology":
        for server in self.web:
            server.start()
        self.nginx.start()
        self.reaper.start()
        return self

    def stop(self) -> None:
        for process in [self.nginx, *self.web, *self.clusters.values(), self.reaper]:
            process.stop()
