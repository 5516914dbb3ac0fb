"""Where a store lives: a directory (SQLite file and signing key), optionally PostgreSQL.

Resolution order for the directory: ``--store PATH``, ``$PEDIGREE_HOME``, then the
nearest ``.pedigree/`` in the current directory or a parent (as git finds ``.git``),
else ``./.pedigree``. The database is the directory's SQLite file unless
``--database-url`` or ``$PEDIGREE_DATABASE_URL`` names a PostgreSQL server; the signing
key stays in the directory either way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pedigree.errors import StoreError

STORE_DIRNAME = ".pedigree"
DB_FILENAME = "pedigree.db"
KEY_FILENAME = "ledger.key"
PUBLIC_KEY_FILENAME = "ledger.pub"


@dataclass(frozen=True)
class StoreLocation:
    path: Path
    database_url: str | None = None

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    @property
    def sqlite_path(self) -> Path:
        return self.path / DB_FILENAME

    @property
    def key_path(self) -> Path:
        return self.path / KEY_FILENAME

    @property
    def public_key_path(self) -> Path:
        return self.path / PUBLIC_KEY_FILENAME

    @property
    def url(self) -> str:
        """The SQLAlchemy URL (psycopg 3 driver for PostgreSQL)."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{self.sqlite_path}"

    def describe(self) -> str:
        """Human description, with any password masked."""
        if self.database_url:
            return make_url(self.url).render_as_string(hide_password=True)
        return str(self.sqlite_path)


def normalize_database_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}") from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise StoreError(
        f"unsupported database URL scheme {parsed.drivername!r}: use postgresql://… "
        "(or no URL for the embedded SQLite store)"
    )


def find_store_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / STORE_DIRNAME
        if candidate.is_dir():
            return candidate
    return None


def locate(
    store: str | Path | None = None,
    database_url: str | None = None,
    *,
    for_init: bool = False,
) -> StoreLocation:
    database_url = database_url or os.environ.get("PEDIGREE_DATABASE_URL") or None
    if store:
        path = Path(store)
    elif os.environ.get("PEDIGREE_HOME"):
        path = Path(os.environ["PEDIGREE_HOME"])
    elif for_init:
        path = Path.cwd() / STORE_DIRNAME
    else:
        path = find_store_dir(Path.cwd()) or Path.cwd() / STORE_DIRNAME
    return StoreLocation(path=path.expanduser().absolute(), database_url=database_url)
