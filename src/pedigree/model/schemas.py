"""JSON Schemas of the record types and the log envelope.

Generated from the pydantic models, so the schema and the validation cannot drift.
"""

from __future__ import annotations

from typing import Any

from pedigree.model.registry import CURRENT, record_class

ENVELOPE_SCHEMA_ID = "pedigree.record/1"


def envelope_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": ENVELOPE_SCHEMA_ID,
        "title": "Log record",
        "description": (
            "One entry of the Pedigree log. Its RFC 8785 canonical bytes are the Merkle leaf "
            "(SHA-256 over 0x00 followed by those bytes). `body` follows the schema named in "
            "`schema`."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["actor", "body", "schema", "seq", "time"],
        "properties": {
            "actor": {"type": "string", "description": "Authenticated writer of the record."},
            "body": {"type": "object"},
            "schema": {"type": "string", "pattern": r"^[a-z0-9_.]+/[0-9]+$"},
            "seq": {
                "type": "integer",
                "minimum": 1,
                "description": "Position in the log (leaf index + 1).",
            },
            "time": {"type": "string", "format": "date-time"},
        },
    }


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema for a record type name (``run``, ``pedigree.run``) or ``record``."""
    if name in ("record", ENVELOPE_SCHEMA_ID.split("/")[0]):
        return envelope_schema()
    cls = record_class(name)
    schema = cls.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": cls.schema_id(),
        **schema,
        "title": cls.TITLE,
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    out = {cls.schema_id(): json_schema(name) for name, cls in CURRENT.items()}
    out[ENVELOPE_SCHEMA_ID] = envelope_schema()
    return out
