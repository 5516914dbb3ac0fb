"""SQLite and PostgreSQL backends: the log, projections and graph queries."""

from pedigree.store.audit import AuditReport
from pedigree.store.config import StoreLocation, locate
from pedigree.store.graph import Edge
from pedigree.store.ledger import Alongside, Appended, Ledger
from pedigree.store.nodes import Node, Selection
from pedigree.store.queries import Graph, NodeDetails

__all__ = [
    "Alongside",
    "Appended",
    "AuditReport",
    "Edge",
    "Graph",
    "Ledger",
    "Node",
    "NodeDetails",
    "Selection",
    "StoreLocation",
    "locate",
]
