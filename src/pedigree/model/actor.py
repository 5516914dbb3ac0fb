"""Who is recording: the one answer shared by the store and the capture SDK.

It lives here, at the bottom of the layers, so that ``store`` (which stamps every
envelope with an actor) and ``capture`` (which records the actor of a run) cannot
disagree. Nothing here touches a store or the network.
"""

from __future__ import annotations

import getpass
import os

ACTOR_ENV = "PEDIGREE_ACTOR"
"""Explicit override: always wins."""

TOKEN_IDENTITY_ENV = "PEDIGREE_TOKEN_IDENTITY"
"""The identity an API token was issued to (remote delivery sets or resolves it)."""


def token_identity() -> str | None:
    """The identity of the API token in use, if any.

    A hook: today it only reads ``$PEDIGREE_TOKEN_IDENTITY``; remote delivery will
    resolve the identity the server associates with ``$PEDIGREE_TOKEN`` here, so a
    token holder is recorded under the name the server knows rather than a local login.
    """
    return os.environ.get(TOKEN_IDENTITY_ENV) or None


def os_user() -> str:
    """The OS login name; ``uid:<n>`` when the uid has no passwd entry (containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # no passwd entry / no pwd module
        getuid = getattr(os, "getuid", None)
        return f"uid:{getuid()}" if getuid is not None else "unknown"


def default_actor() -> str:
    """``$PEDIGREE_ACTOR``, else the token identity, else the OS user."""
    return os.environ.get(ACTOR_ENV) or token_identity() or os_user()
