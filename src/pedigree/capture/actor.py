"""Who ran it: the actor recorded on a run.

The answer is the one the store stamps on every record it appends
(:func:`pedigree.model.actor.default_actor`), so a run and its envelope never name two
different people: ``$PEDIGREE_ACTOR``, else the API token's identity, else the OS user.
"""

from __future__ import annotations

from pedigree.model.actor import default_actor, os_user, token_identity

__all__ = ["current_actor", "os_user", "token_identity"]


def current_actor() -> str:
    """``$PEDIGREE_ACTOR``, else the token identity, else the OS user (``uid:<n>``
    when the user has no passwd entry). Read afresh on every call: it is cheap."""
    return default_actor()
