"""A real server for the HTTP tests: uvicorn on a free loopback port, in a thread, on a
fresh store of each backend (SQLite, and PostgreSQL in a schema of its own), with a
small recorded pipeline in two namespaces and a token per role.

The server and its store live for a test module (starting one per test would dominate
the run time); tests that write use names of their own.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn

from pedigree.ledger.commitments import Disclosure, commit
from pedigree.model import Agent, Annotation, DatasetVersion, Environment, Run
from pedigree.server import ServerSettings, create_app, tokens
from pedigree.store import Ledger
from tests.pipeline import digest

SECRET = "hunter2-do-not-show"
MAX_BODY = 64 * 1024


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1, on a socket bound before it starts."""

    def __init__(self, app: Any) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.socket.close()


@dataclass
class Site:
    """A running server, its ledger and a token per role (and scoped ones)."""

    url: str
    ledger: Ledger
    backend: str
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    disclosure: Disclosure | None = None

    def client(self, who: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def get(self, who: str | None, path: str, **kwargs: Any) -> httpx.Response:
        with self.client(who) as client:
            return client.get(path, **kwargs)

    def post(self, who: str | None, path: str, **kwargs: Any) -> httpx.Response:
        with self.client(who) as client:
            return client.post(path, **kwargs)


def seed(ledger: Ledger) -> Disclosure:
    """Two namespaces: ``clinic`` (a generate run with secrets, a confidential uri, an
    evaluation) and ``finance``, whose run reads the clinic's synthetic table."""
    secret_uri = commit("s3://clinic-private/patients.parquet")
    real = DatasetVersion(namespace="clinic", name="warehouse/patients", fingerprint=digest("r"))
    synthetic = DatasetVersion(
        namespace="clinic",
        name="synthetic/patients",
        fingerprint=digest("s"),
        uri=secret_uri.commitment,
        row_count=100,
    )
    generate = Run(
        job={"namespace": "clinic", "name": "synth/generate"},
        kind="generate",
        intent="a shareable stand-in",
        parameters={"method": "gaussian_copula", "db_password": SECRET, "rows": 100},
        environment=Environment(
            python="3.11", variables={"PEDIGREE_RUN": SECRET}, packages={"google-auth": "2.0"}
        ),
        inputs=[real.io("source")],
        outputs=[synthetic.io()],
    )
    ledger_table = DatasetVersion(namespace="finance", name="ledger/rollup", version="1")
    load = Run(
        job={"namespace": "finance", "name": "etl/load"},
        kind="transform",
        inputs=[synthetic.io()],
        outputs=[ledger_table.io()],
    )
    evaluation = Annotation(
        target=synthetic.ref().target(),
        kind="evaluation",
        body={"passed": True, "fidelity": 0.93, "api_token": SECRET},
    )
    ledger.append_many(
        [
            Agent(agent_id="alice", kind="person"),
            real,
            synthetic,
            generate,
            ledger_table,
            load,
            evaluation,
        ],
        disclosures=[secret_uri],
    )
    ledger.checkpoint()
    return secret_uri


ROLES = ("viewer", "analyst", "engineer", "steward", "auditor", "admin")


def make_tokens(ledger: Ledger) -> tuple[dict[str, str], dict[str, str]]:
    made: dict[str, str] = {}
    ids: dict[str, str] = {}
    for role in ROLES:
        made[role], info = tokens.create(ledger, role=role, name=f"test-{role}")
        ids[role] = info.id
    for role in ("viewer", "analyst", "engineer", "steward"):
        key = f"{role}@clinic"
        made[key], info = tokens.create(ledger, role=role, namespaces=["clinic"], name=key)
        ids[key] = info.id
    return made, ids


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A fresh store (directory, and database URL for PostgreSQL) for one test module."""
    store = tmp_path_factory.mktemp("server") / "store"
    if request.param == "sqlite":
        yield {"backend": "sqlite", "store": str(store), "database_url": None}
        return
    base = request.getfixturevalue("postgres")
    schema = f"s_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield {
            "backend": "postgresql",
            "store": str(store),
            "database_url": f"{base}{sep}options=-csearch_path%3D{schema}",
        }
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def site(backend: dict[str, Any]) -> Iterator[Site]:
    ledger, _ = Ledger.init(backend["store"], backend["database_url"], actor="seeder")
    try:
        disclosure = seed(ledger)
        made, ids = make_tokens(ledger)
        app = create_app(ledger, settings=ServerSettings(max_body_bytes=MAX_BODY))
        with LiveServer(app) as live:
            yield Site(live.url, ledger, backend["backend"], made, ids, disclosure)
    finally:
        ledger.close()


@pytest.fixture
def start_server() -> Iterator[Callable[..., LiveServer]]:
    """Start more servers within a test (stopped at its end)."""
    started: list[LiveServer] = []

    def start(app: Any) -> LiveServer:
        live = LiveServer(app).__enter__()
        started.append(live)
        return live

    yield start
    for live in started:
        live.__exit__()


def store_dir(site: Site) -> Path:
    return site.ledger.location.path
