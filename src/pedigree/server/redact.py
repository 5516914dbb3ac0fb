"""What each role sees of a record: the redaction rule.

Nothing is dropped silently: a withheld value is replaced, in place, by a marker object
``{"redacted": true, "reason": …}``, so a reader knows a value was there and why it is
not shown. Keys are kept.

- **confidential** (hidden from viewer, analyst and engineer; shown to steward, auditor,
  admin): every salted commitment (``confidential:sha256:…``; a steward or admin reads
  the value at ``/api/v1/disclosures/{commitment}``), every value of
  ``environment.variables``, and the value of any field whose name looks secret
  (``secret_name``: password, token, api_key, credentials, …) anywhere in a body
  except the package list ``environment.packages``.
- **summary** (viewer only): every body field outside ``SUMMARY_FIELDS``, i.e. the
  viewer sees what a node is and how it connects, not parameters, code, environment,
  descriptions, intents or annotation bodies.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from pedigree.ledger.commitments import is_commitment

CONFIDENTIAL = {"redacted": True, "reason": "confidential"}
SUMMARY = {"redacted": True, "reason": "summary"}

SUMMARY_FIELDS = frozenset(
    {
        # identity of versions, runs, jobs, agents, annotations
        "namespace",
        "name",
        "version",
        "fingerprint",
        "run_id",
        "job",
        "kind",
        "status",
        "agent_id",
        "annotation_id",
        "target",
        "supersedes",
        "parent_run_id",
        # shape and timing
        "row_count",
        "columns",
        "framework",
        "model_class",
        "started_at",
        "ended_at",
        # how it connects
        "inputs",
        "outputs",
        "derived_from",
    }
)
"""Record body fields a viewer sees (values still pass the confidential rule)."""

SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "apikey",
        "credential",
        "credentials",
        "auth",
        "authorization",
        "cookie",
        "dsn",
        "privatekey",
    }
)
SECRET_PAIRS = frozenset(
    {
        ("api", "key"),
        ("private", "key"),
        ("access", "key"),
        ("secret", "key"),
        ("session", "id"),
        ("client", "secret"),
        ("connection", "string"),
        ("bearer", "token"),
    }
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def secret_name(key: str) -> bool:
    """Whether a field name looks like it holds a secret: one of its words (split at
    ``_``, ``-``, ``.``, spaces and camelCase) is in ``SECRET_WORDS``, or two adjacent
    words are in ``SECRET_PAIRS`` (``api_key``, ``privateKey``, ``SESSION_ID``)."""
    words = [w.lower() for w in _WORD.findall(key)]
    if any(w in SECRET_WORDS for w in words):
        return True
    return any(pair in SECRET_PAIRS for pair in itertools.pairwise(words))


def confidential(value: Any) -> Any:
    """``value`` with every commitment and every secret-named field's value redacted."""
    if isinstance(value, str):
        return dict(CONFIDENTIAL) if is_commitment(value) else value
    if isinstance(value, list):
        return [confidential(v) for v in value]
    if isinstance(value, dict):
        return {
            k: dict(CONFIDENTIAL) if secret_name(str(k)) else confidential(v)
            for k, v in value.items()
        }
    return value


def body(data: dict[str, Any], *, summary_only: bool, see_confidential: bool) -> dict[str, Any]:
    """A record body as a role sees it (see the module docstring)."""
    if see_confidential and not summary_only:
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if summary_only and key not in SUMMARY_FIELDS:
            out[key] = dict(SUMMARY)
        elif key == "environment" and isinstance(value, dict):
            env = dict(value)
            variables, packages = env.pop("variables", None), env.pop("packages", None)
            env = confidential(env)
            if isinstance(variables, dict):
                env["variables"] = {k: dict(CONFIDENTIAL) for k in variables}
            if packages is not None:  # package names (google-auth…) are not secrets
                env["packages"] = packages
            out[key] = env
        else:
            out[key] = value if see_confidential else confidential(value)
    return out


def envelope(data: dict[str, Any], *, summary_only: bool, see_confidential: bool) -> dict[str, Any]:
    """A log envelope (``seq``, ``time``, ``actor``, ``schema``, ``body``) as a role sees it."""
    if not isinstance(data.get("body"), dict):
        return data
    return {
        **data,
        "body": body(data["body"], summary_only=summary_only, see_confidential=see_confidential),
    }
