"""Answers as a caller may see them: namespace filtering and redaction of store answers.

Routes call the store (``Ledger`` and ``pedigree.store.queries``) and pass the answer
through here; nothing in this module queries lineage itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pedigree.model import Agent, Annotation, EntityVersion, LogEntry, RecordBody, Run
from pedigree.server import redact
from pedigree.server.auth import Permission, Principal
from pedigree.store import Graph, Ledger, Node, NodeDetails


class Namespaces:
    """Finds the namespace a record belongs to (a run annotation's is its run's job's)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._runs: dict[str, str | None] = {}

    def prefetch_runs(self, run_ids: Iterable[str]) -> None:
        wanted = {str(r) for r in run_ids} - set(self._runs)
        if not wanted:
            return
        found = self.ledger.run_namespaces(wanted)
        for run_id in wanted:
            self._runs[run_id] = found.get(run_id)

    def learn(self, body: RecordBody) -> None:
        """Remember a run seen in a batch not yet appended."""
        if isinstance(body, Run):
            self._runs[str(body.run_id)] = body.job.namespace

    def home(self, body: RecordBody) -> str | None:
        """The namespace a record is about (``None``: agents, which have none)."""
        if isinstance(body, EntityVersion):
            return body.namespace
        if isinstance(body, Run):
            return body.job.namespace
        if isinstance(body, Annotation):
            target = body.target
            if target.type == "run":
                self.prefetch_runs([str(target.id)])
                return self._runs.get(str(target.id))
            return target.namespace
        return None

    def referenced(self, body: RecordBody) -> set[str]:
        """Every namespace a record writes lineage into: all must be granted to write it."""
        if isinstance(body, EntityVersion):
            return {body.namespace, *(ref.namespace for ref in body.derived_from)}
        if isinstance(body, Run):
            return {body.job.namespace, *(io.namespace for io in (*body.inputs, *body.outputs))}
        home = self.home(body)
        return set() if home is None else {home}

    def prefetch(self, entries: Iterable[LogEntry]) -> None:
        self.prefetch_runs(
            str(e.body.target.id)
            for e in entries
            if isinstance(e.body, Annotation) and e.body.target.type == "run"
        )


def entry_json(entry: LogEntry | dict[str, Any], principal: Principal) -> dict[str, Any]:
    """A log envelope, redacted for the caller's role."""
    data = entry if isinstance(entry, dict) else entry.to_json()
    return redact.envelope(
        data,
        summary_only=not principal.can(Permission.read_records),
        see_confidential=principal.can(Permission.see_confidential),
    )


def visible_entries(
    entries: list[LogEntry], principal: Principal, namespaces: Namespaces
) -> list[LogEntry]:
    if not principal.scoped:
        return entries
    namespaces.prefetch(entries)
    return [e for e in entries if principal.sees(namespaces.home(e.body))]


def graph_json(graph: Graph, principal: Principal) -> dict[str, Any]:
    """``Graph.to_json()`` without the nodes outside the caller's namespaces (counted in
    ``hidden_nodes``) and the edges touching them."""
    data = graph.to_json()
    hidden = {n.ref for n in graph.nodes.values() if not principal.sees(n.namespace)}
    data["nodes"] = [n for n in data["nodes"] if n["id"] not in hidden]
    data["edges"] = [
        e for e in data["edges"] if e["source"] not in hidden and e["target"] not in hidden
    ]
    data["hidden_nodes"] = len(hidden)
    return data


def details_json(details: NodeDetails, principal: Principal) -> dict[str, Any]:
    """``NodeDetails.to_json()`` redacted, neighbours outside the caller's namespaces hidden."""
    data = details.to_json()
    for side, pairs in (("upstream", details.upstream), ("downstream", details.downstream)):
        data[side] = [
            item
            for item, (_, node) in zip(data[side], pairs, strict=True)
            if principal.sees(node.namespace)
        ]
    data["hidden_neighbours"] = sum(
        not principal.sees(node.namespace) for _, node in (*details.upstream, *details.downstream)
    )
    if data["record"] is not None:
        data["record"] = entry_json(data["record"], principal)
    data["annotations"] = [entry_json(a, principal) for a in data["annotations"]]
    data["history"] = [entry_json(h, principal) for h in data["history"]]
    return data


def selection_namespace(nodes: Iterable[Node]) -> str | None:
    """The namespace of a selection's member nodes (they share one)."""
    for node in nodes:
        return node.namespace
    return None


def is_agent(body: RecordBody) -> bool:
    return isinstance(body, Agent)
