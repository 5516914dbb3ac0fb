"""The errors Pedigree raises on purpose.

Each one describes a problem the user can act on; the CLI prints its message on one
line and exits with status 2. Anything else escaping is a bug.
"""

from __future__ import annotations


class PedigreeError(Exception):
    """Base class: a clear, one-line, user-facing problem."""


class RecordError(PedigreeError):
    """A record is malformed: it does not match its schema or cannot be canonicalised."""


class SchemaVersionError(RecordError):
    """A record names a schema or schema version this Pedigree does not know."""


class DanglingReferenceError(RecordError):
    """A record refers to something (a version, run, agent, annotation) never recorded."""


class LineageCycleError(RecordError):
    """A record would make lineage circular (a version upstream of itself)."""


class ConflictError(RecordError):
    """A record contradicts what is already recorded (same identity, other content)."""


class StoreError(PedigreeError):
    """The store is missing, unreadable, of another schema revision, or unreachable."""


class WriteLockBusy(StoreError):
    """Another writer holds the store's write lock, and the caller chose not to wait."""


class SigningKeyError(PedigreeError):
    """The ledger signing key is missing, unreadable, or not the key of this ledger."""


class NotFoundError(PedigreeError):
    """A node reference (dataset, version, run, job, record) matches nothing, or too much."""


class ProofError(PedigreeError):
    """A proof, signature or checkpoint does not verify."""


class FingerprintError(PedigreeError):
    """A file or table cannot be fingerprinted: missing, unreadable, corrupt, or of a type
    the canonical form does not cover."""


class EvaluationError(PedigreeError):
    """Inputs an evaluation cannot be computed on (mismatched schemas, empty tables…)."""
