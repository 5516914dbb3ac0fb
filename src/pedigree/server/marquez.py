"""The lineage graph in Marquez's shape, for tools that speak Marquez's API.

Marquez knows datasets and jobs; Pedigree's graph holds their versions and runs. So
every dataset version collapses into its dataset (``dataset:NS:NAME``), every model
version into a dataset node too (``data.kind`` is ``"model"``), and every run into its
job (``job:NS:NAME``); edges between the collapsed nodes are kept once, self-loops
(a version derived from an earlier version of the same dataset) are dropped.
"""

from __future__ import annotations

from typing import Any

from pedigree.server.auth import Principal
from pedigree.store import Graph, Node


def node_id(node: Node) -> str:
    prefix = "job" if node.type == "run" else "dataset"
    return f"{prefix}:{node.namespace}:{node.name}"


def _data(members: list[Node]) -> dict[str, Any]:
    first = members[0]
    members = sorted(members, key=lambda n: n.id)
    latest = members[-1]
    base: dict[str, Any] = {
        "id": {"namespace": first.namespace, "name": first.name},
        "namespace": first.namespace,
        "name": first.name,
        "createdAt": members[0].time,
        "updatedAt": latest.time,
    }
    if first.type == "run":
        return {
            **base,
            "type": "BATCH",
            "latestRun": {
                "id": latest.run_id,
                "state": latest.status.upper(),
                "kind": latest.kind,
                "recordedAt": latest.time,
            },
            "runs": [n.run_id for n in members],
        }
    return {
        **base,
        "kind": "model" if first.type == "model_version" else "dataset",
        "currentVersion": latest.version,
        "status": latest.status,
        "versions": [n.version for n in members],
    }


def graph(answers: list[Graph], principal: Principal) -> dict[str, Any]:
    """``{"graph": [{id, type, data, inEdges, outEdges}]}`` from one or more traces."""
    members: dict[str, dict[int, Node]] = {}
    types: dict[str, str] = {}
    edges: set[tuple[str, str]] = set()
    for answer in answers:
        for node in answer.nodes.values():
            if principal.sees(node.namespace):
                key = node_id(node)
                members.setdefault(key, {})[node.id] = node
                types[key] = "JOB" if node.type == "run" else "DATASET"
    for answer in answers:
        for edge in answer.edges:
            src, dst = answer.nodes.get(edge.src), answer.nodes.get(edge.dst)
            if src is None or dst is None:
                continue
            origin, destination = node_id(src), node_id(dst)
            if origin != destination and origin in members and destination in members:
                edges.add((origin, destination))
    ordered = sorted(edges)
    return {
        "graph": [
            {
                "id": key,
                "type": types[key],
                "data": _data(list(members[key].values())),
                "inEdges": [{"origin": o, "destination": d} for o, d in ordered if d == key],
                "outEdges": [{"origin": o, "destination": d} for o, d in ordered if o == key],
            }
            for key in sorted(members)
        ]
    }
