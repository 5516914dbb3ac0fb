"""A small recorded pipeline shared by tests: source -> synthetic -> masked -> model."""

from __future__ import annotations

from dataclasses import dataclass

from pedigree.model import Agent, AgentRole, DatasetVersion, ModelVersion, Run
from pedigree.store import Ledger


def digest(label: str) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


@dataclass
class Pipeline:
    real: DatasetVersion
    synthetic: DatasetVersion
    masked: DatasetVersion
    model: ModelVersion
    generate: Run
    mask: Run
    train: Run


def record_pipeline(ledger: Ledger, tag: str = "") -> Pipeline:
    alice = Agent(agent_id="alice", kind="person", name="Alice")
    real = DatasetVersion(
        name="warehouse/patients", fingerprint=digest("real" + tag), row_count=500
    )
    synthetic = DatasetVersion(
        name="synthetic/patients", fingerprint=digest("syn" + tag), row_count=1000
    )
    masked = DatasetVersion(name="synthetic/patients-masked", fingerprint=digest("masked" + tag))
    model = ModelVersion(name="models/readmission", version="v1" + tag, framework="sklearn")
    generate = Run(
        job="synth/generate",
        kind="generate",
        intent={"text": "shareable stand-in", "expect": ["dcr_share_closer_to_train <= 0.55"]},
        parameters={"method": "gaussian_copula", "rows": 1000},
        seeds={"global": 7},
        inputs=[real.io("source")],
        outputs=[synthetic.io()],
        agents=[AgentRole(agent="alice", role="operator")],
    )
    mask = Run(job="synth/mask", kind="mask", inputs=[synthetic.io()], outputs=[masked.io()])
    train = Run(
        job="models/train", kind="train", inputs=[masked.io("training")], outputs=[model.io()]
    )
    ledger.append_many([alice, real, synthetic, generate, masked, mask, model, train])
    return Pipeline(real, synthetic, masked, model, generate, mask, train)
