"""Keeping secrets out of what a run records automatically.

Records are append-only and signed: a secret that reaches the ledger can never be
removed. So the capture code errs on the side of dropping a value: a variable whose
*name* looks secret is never read, a value that *looks* like a credential is dropped,
and credentials embedded in URLs are cut out.
"""

from __future__ import annotations

import re

SECRET_NAME_PARTS = (
    "TOKEN",
    "SECRET",
    "PASSW",  # PASSWORD, PASSWD, PGPASSWORD
    "PASSPHRASE",
    "CREDENTIAL",
    "AUTH",
    "PRIVATE",
    "APIKEY",
    "API_KEY",
    "COOKIE",
    "SESSION",
    "SIGNATURE",
)
"""A variable whose upper-cased name contains one of these is never recorded."""

SECRET_NAME_WORDS = frozenset({"KEY", "KEYS", "PWD", "PASS", "PAT", "SALT", "CERT", "DSN"})
"""…nor one with one of these as a ``_``-separated word (or a word ending in ``KEY``)."""

_WORD_SPLIT = re.compile(r"[^A-Z0-9]+")

_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s]*@")
"""``scheme://user:password@host`` → the userinfo part (a user alone may be a token)."""

_CREDENTIAL_VALUE = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_\-]{20,}"  # GitLab
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"  # AWS access key ids
    r"|\bsk-[A-Za-z0-9_\-]{20,}"  # OpenAI-style API keys
    r"|\bhf_[A-Za-z0-9]{30,}"  # Hugging Face
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\."  # JWTs
)
"""Well-known credential formats: a value containing one is dropped, not redacted."""


def secret_name(name: str) -> bool:
    """Whether a variable name suggests its value is a secret (over-matching is fine)."""
    upper = name.upper()
    if any(part in upper for part in SECRET_NAME_PARTS):
        return True
    return any(
        word in SECRET_NAME_WORDS or word.endswith("KEY") for word in _WORD_SPLIT.split(upper)
    )


def strip_url_credentials(text: str) -> str:
    """Remove ``user:password@`` (and ``token@``) from every ``scheme://`` URL in ``text``.

    scp-style git addresses (``git@host:org/repo``) carry no password and are kept.
    """
    if "@" not in text:
        return text
    return _URL_USERINFO.sub(r"\g<scheme>", text)


def looks_like_credential(value: str) -> bool:
    """Whether ``value`` contains a token in a well-known credential format."""
    return _CREDENTIAL_VALUE.search(value) is not None


def safe_value(value: str) -> str | None:
    """``value`` fit for a record: URL credentials cut out; ``None`` if it looks secret."""
    if looks_like_credential(value):
        return None
    return strip_url_credentials(value)
