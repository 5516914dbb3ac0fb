"""Interoperability: OpenLineage in (and, later, OpenLineage/PROV/Croissant out).

``ingest(ledger, events)`` records OpenLineage RunEvents, DatasetEvents and JobEvents;
``to_records(event)`` shows what one event becomes. See ``docs/openlineage.md``.
"""

from pedigree.interop.openlineage import (
    EventError,
    IngestResult,
    ingest,
    parse_event,
    to_records,
    validate_event,
)

__all__ = ["EventError", "IngestResult", "ingest", "parse_event", "to_records", "validate_event"]
