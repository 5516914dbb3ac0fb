"""Running ``pedigree serve`` (and baseline servers) as subprocesses for the server
benchmarks, and timing concurrent HTTP clients against them. Not a test, not the package.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@contextlib.contextmanager
def subprocess_server(
    command: Sequence[str], port: int, ready: str = "/healthz"
) -> Iterator[Server]:
    """Start a server process, wait until ``ready`` answers 200, stop it (SIGTERM) at the end."""
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + ready, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise SystemExit(f"server exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                raise SystemExit("server did not become ready in 60 s")
            time.sleep(0.1)
        yield Server(url, process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def pedigree_serve(store: str, database_url: str | None, port: int) -> list[str]:
    command = [sys.executable, "-m", "pedigree", "serve", "--store", store, "--port", str(port)]
    if database_url:
        command += ["--database-url", database_url]
    return [*command, "--log-level", "warning", "--max-body-bytes", str(16 * 1024 * 1024)]


PROC = os.path.exists("/proc/self/task")
"""Whether CPU time can be read per process and thread (Linux's ``/proc``)."""


def process_cpu(pid: int) -> tuple[float, float]:
    """(CPU seconds of the process's main thread, of all its threads, exited ones included),
    from ``/proc`` (Linux). A uvicorn server runs its event loop on its main thread."""
    return _stat_cpu(f"/proc/{pid}/task/{pid}/stat"), _stat_cpu(f"/proc/{pid}/stat")


def _stat_cpu(path: str) -> float:
    with open(path) as stat:  # (fields after the command name: utime and stime are 12th, 13th)
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends_cpu(database_url: str) -> float | None:
    """CPU seconds used so far by the PostgreSQL backends connected to ``database_url``'s
    database; ``None`` when they are not processes of this machine (a remote server)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (url.database,),
            )
        ]
    try:
        return sum(_stat_cpu(f"/proc/{pid}/stat") for pid in pids)
    except OSError:
        return None


@dataclass
class Load:
    seconds: float
    latencies: list[float]
    errors: list[str]
    metered: tuple[Any, Any] | None = None
    """``drive``'s ``meter`` read as the clients start and once they have all finished."""

    @property
    def requests(self) -> int:
        return len(self.latencies)


def drive(
    url: str,
    token: str | None,
    clients: int,
    work: Sequence[Sequence[tuple[str, str, Any]]],
    check: Callable[[httpx.Response], bool] = lambda r: r.is_success,
    meter: Callable[[], Any] | None = None,
) -> Load:
    """``clients`` threads, client ``i`` sending ``work[i]`` (method, path, JSON) in order on
    one keep-alive connection; wall time and every request's latency. ``meter`` (CPU
    counters, say) is read when the clients start sending and when they are done: not
    while they connect (creating an ``httpx.Client`` costs milliseconds of CPU)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def client(items: Sequence[tuple[str, str, Any]]) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            http.get("/healthz")  # connect before the clock starts
            start.wait()
            for method, path, body in items:
                began = time.perf_counter()
                response = http.request(method, path, json=body)
                mine.append(time.perf_counter() - began)
                if not check(response):
                    with lock:
                        errors.append(f"{response.status_code} {response.text[:300]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(work[i],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    first = meter() if meter is not None else None
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    metered = (first, meter()) if meter is not None else None
    return Load(seconds, latencies, errors, metered)
