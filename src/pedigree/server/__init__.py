"""The HTTP API server: FastAPI on the ledger, with tokens, roles and an access log.

``create_app`` is imported lazily, so the CLI's ``tokens`` commands (which use
``pedigree.server.tokens``) do not pay for importing FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pedigree.server.app import ServerSettings, app_from_env, create_app

__all__ = ["ServerSettings", "app_from_env", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pedigree.server import app

        return getattr(app, name)
    raise AttributeError(f"module 'pedigree.server' has no attribute {name!r}")
