"""``pedigree.confidential(value)``: record a value only as a salted commitment.

Wrap a parameter, a metric or an annotation value, or pass ``confidential=True`` to
``run.use``/``run.produce``: the record then holds ``confidential:sha256:…`` instead of
the value, and the value (with its salt) is kept by the store outside the log, sealed at
rest. Certificates carry only the commitment; ``pedigree reveal`` hands the value and
salt to whoever should see it, and anyone can check them against the certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Confidential:
    """A value to be committed to, never written in the clear."""

    value: Any

    def __repr__(self) -> str:  # never leak the value into logs or error messages
        return "Confidential(…)"


def confidential(value: Any) -> Confidential:
    """Mark ``value`` confidential: ``run.param("source_dsn", pedigree.confidential(dsn))``."""
    return value if isinstance(value, Confidential) else Confidential(value)


__all__ = ["Confidential", "confidential"]
