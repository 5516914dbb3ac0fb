"""The redaction rule on its own (the API tests check it end to end)."""

from __future__ import annotations

import pytest

from pedigree.ledger.commitments import commit
from pedigree.server import redact


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "db_password",
        "hfToken",
        "AWS_SECRET_ACCESS_KEY",
        "api-key",
        "apiKey",
        "private_key",
        "client.secret",
        "SESSION_ID",
        "auth",
        "Authorization",
        "dsn",
        "credentials",
    ],
)
def test_secret_looking_names(name: str) -> None:
    assert redact.secret_name(name)


@pytest.mark.parametrize(
    "name", ["max_tokens", "tokenizer", "author", "keyword", "sample_fraction", "monkey", "key"]
)
def test_ordinary_names(name: str) -> None:
    assert not redact.secret_name(name)


def test_commitments_and_secrets_are_marked_in_place() -> None:
    secret = commit("x").commitment
    body = {
        "uri": secret,
        "parameters": {"nested": {"password": "p", "ok": [secret, 1]}},
        "environment": {
            "python": "3.11",
            "variables": {"HOME": "/root"},
            "packages": {"pyjwt": "2"},
        },
    }
    seen = redact.body(body, summary_only=False, see_confidential=False)
    marker = redact.CONFIDENTIAL
    assert seen == {
        "uri": marker,
        "parameters": {"nested": {"password": marker, "ok": [marker, 1]}},
        "environment": {
            "python": "3.11",
            "variables": {"HOME": marker},
            "packages": {"pyjwt": "2"},
        },
    }
    assert redact.body(body, summary_only=False, see_confidential=True) is body
    summary = redact.body(body, summary_only=True, see_confidential=False)
    assert summary["parameters"] == redact.SUMMARY and summary["uri"] == redact.SUMMARY
