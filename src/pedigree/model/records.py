"""The record types of the ledger, named after W3C PROV and OpenLineage.

Every write to Pedigree is one of these bodies wrapped in a log envelope (see
``pedigree.model.registry``). Bodies are strict (unknown fields are errors) so a typo
never silently disappears; free-form data goes in ``facets``, ``parameters`` or ``body``.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Literal, Self, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

from pedigree.model.types import DEFAULT_NAMESPACE, Name, Sha256Hex, Timestamp, Token

RUN_KINDS = (
    "ingest",
    "generate",
    "transform",
    "sample",
    "augment",
    "mask",
    "privatize",
    "split",
    "train",
    "evaluate",
    "certify",
    "deploy",
)
"""Well-known run kinds; any other lower-case token is accepted as a custom kind."""

RunStatus = Literal["running", "completed", "failed", "aborted"]
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)

LIFECYCLE_STATES = ("active", "deprecated", "withdrawn", "retired", "purged")

ANNOTATION_KINDS = (
    "evaluation",
    "sensitivity",
    "tag",
    "intended_use",
    "policy",
    "lifecycle",
    "note",
)
"""Well-known annotation kinds; any other lower-case token is accepted as custom."""

TRAINING_ROLES = (None, "train", "training")
"""Input roles of a ``train`` run that mean "the model was trained on this"."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordBody(_Strict):
    """Base of every record type; ``SCHEMA`` and ``VERSION`` make its schema id."""

    SCHEMA: ClassVar[str]
    VERSION: ClassVar[int]
    TITLE: ClassVar[str]

    @classmethod
    def schema_id(cls) -> str:
        return f"{cls.SCHEMA}/{cls.VERSION}"


# --- references -------------------------------------------------------------------------


class VersionRef(_Strict):
    """Points at one version of a dataset or model: ``namespace`` + ``name`` + ``version``."""

    namespace: Name = DEFAULT_NAMESPACE
    name: Name
    version: Name

    def target(self) -> Target:
        return Target(
            type="version", namespace=self.namespace, name=self.name, version=self.version
        )

    def __str__(self) -> str:
        return f"{self.namespace}:{self.name}@{self.version}"


class RunIO(VersionRef):
    """An input or output of a run, with the role it played (``source``, ``training``…)."""

    role: Token | None = None

    def ref(self) -> VersionRef:
        return VersionRef(namespace=self.namespace, name=self.name, version=self.version)


class JobRef(_Strict):
    namespace: Name = DEFAULT_NAMESPACE
    name: Name


class Target(_Strict):
    """What an annotation is about: a dataset or model, one version, a run, a job or an agent."""

    type: Literal["dataset", "version", "run", "job", "agent"]
    namespace: Name | None = None
    name: Name | None = None
    version: Name | None = None
    id: Name | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_namespace(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") in ("dataset", "version", "job"):
            data = {"namespace": DEFAULT_NAMESPACE, **data}
        return data

    @model_validator(mode="after")
    def _fields_for_type(self) -> Self:
        need = {
            "dataset": ("namespace", "name"),
            "version": ("namespace", "name", "version"),
            "job": ("namespace", "name"),
            "run": ("id",),
            "agent": ("id",),
        }[self.type]
        fields = ("namespace", "name", "version", "id")
        missing = [f for f in need if getattr(self, f) is None]
        extra = [f for f in fields if f not in need and getattr(self, f) is not None]
        if missing or extra:
            raise ValueError(
                f"a {self.type} target takes exactly {', '.join(need)}"
                + (f" (missing {', '.join(missing)})" if missing else "")
                + (f" (unexpected {', '.join(extra)})" if extra else "")
            )
        if self.type == "run":
            uuid.UUID(self.id)  # type: ignore[arg-type]
        return self


# --- entities: dataset and model versions -------------------------------------------------


class FileDigest(_Strict):
    """A file of a version: path relative to the version's ``uri``, SHA-256 and byte size."""

    path: str
    sha256: Sha256Hex
    size: int = Field(ge=0)


class Column(_Strict):
    name: str
    type: str


class EntityVersion(RecordBody):
    """A PROV Entity with content: one immutable version of a named dataset or model.

    ``version`` identifies it within its dataset; when omitted it is the content
    ``fingerprint`` (or the digest of its only file), so identical content gets the
    same version. ``derived_from`` states derivation without a recorded run.
    """

    namespace: Name = DEFAULT_NAMESPACE
    name: Name
    version: Name
    fingerprint: str | None = None
    files: list[FileDigest] = Field(default_factory=list)
    uri: str | None = None
    description: str | None = None
    derived_from: list[VersionRef] = Field(default_factory=list)
    facets: dict[str, JsonValue] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _version_from_content(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("version"):
            files = data.get("files") or []
            if data.get("fingerprint"):
                data = {**data, "version": data["fingerprint"]}
            elif len(files) == 1:
                digest = files[0]["sha256"] if isinstance(files[0], dict) else files[0].sha256
                data = {**data, "version": f"sha256:{digest}"}
            else:
                raise ValueError("a version needs `version`, `fingerprint`, or exactly one file")
        return data

    def ref(self) -> VersionRef:
        return VersionRef(namespace=self.namespace, name=self.name, version=self.version)

    def io(self, role: str | None = None) -> RunIO:
        """This version as a run input or output with ``role``."""
        return RunIO(namespace=self.namespace, name=self.name, version=self.version, role=role)


class DatasetVersion(EntityVersion):
    SCHEMA: ClassVar[str] = "pedigree.dataset_version"
    VERSION: ClassVar[int] = 1
    TITLE: ClassVar[str] = "Dataset version"

    row_count: int | None = Field(default=None, ge=0)
    columns: list[Column] = Field(default_factory=list)


class ModelVersion(EntityVersion):
    SCHEMA: ClassVar[str] = "pedigree.model_version"
    VERSION: ClassVar[int] = 1
    TITLE: ClassVar[str] = "Model version"

    framework: str | None = None
    model_class: str | None = None


# --- runs (PROV Activities) ----------------------------------------------------------------


class Intent(_Strict):
    """Why a step exists, in words, plus optional machine-checkable expectations."""

    text: str | None = None
    expect: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.text and not self.expect:
            raise ValueError("an intent needs `text` or at least one `expect`")
        return self


class CodeRef(_Strict):
    repository: str | None = None
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    diff_digest: str | None = None
    entry_point: str | None = None
    entry_point_digest: str | None = None


class Environment(_Strict):
    python: str | None = None
    os: str | None = None
    hardware: dict[str, JsonValue] = Field(default_factory=dict)
    packages: dict[str, str] = Field(default_factory=dict)
    packages_digest: str | None = None
    variables: dict[str, str] = Field(default_factory=dict)


class AgentRole(_Strict):
    agent: Name
    role: Token | None = None


def _job_shorthand(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


def _intent_shorthand(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


class Run(RecordBody):
    """One execution of a job (a PROV Activity).

    A run may be recorded more than once (``running`` then ``completed``); the latest
    record with the same ``run_id`` supersedes the earlier ones, which stay in the log.
    """

    SCHEMA: ClassVar[str] = "pedigree.run"
    VERSION: ClassVar[int] = 2
    TITLE: ClassVar[str] = "Run"

    run_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    job: JobRef
    kind: Token
    status: RunStatus = "completed"
    intent: Intent | None = None
    parameters: dict[str, JsonValue] = Field(default_factory=dict)
    seeds: dict[str, int] = Field(default_factory=dict)
    code: CodeRef | None = None
    environment: Environment | None = None
    started_at: Timestamp | None = None
    ended_at: Timestamp | None = None
    inputs: list[RunIO] = Field(default_factory=list)
    outputs: list[RunIO] = Field(default_factory=list)
    agents: list[AgentRole] = Field(default_factory=list)
    parent_run_id: uuid.UUID | None = None
    error: str | None = None
    facets: dict[str, JsonValue] = Field(default_factory=dict)

    _job = field_validator("job", mode="before")(_job_shorthand)
    _intent = field_validator("intent", mode="before")(_intent_shorthand)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.started_at and self.ended_at and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        if self.parent_run_id == self.run_id:
            raise ValueError("a run cannot be its own parent")
        return self

    def target(self) -> Target:
        return Target(type="run", id=str(self.run_id))


# --- agents and annotations ----------------------------------------------------------------


class Agent(RecordBody):
    """A person, team, service or piece of software that runs are associated with."""

    SCHEMA: ClassVar[str] = "pedigree.agent"
    VERSION: ClassVar[int] = 1
    TITLE: ClassVar[str] = "Agent"

    agent_id: Name
    kind: Literal["person", "team", "organization", "service", "software"]
    name: str | None = None
    version: str | None = None
    description: str | None = None
    facets: dict[str, JsonValue] = Field(default_factory=dict)

    def target(self) -> Target:
        return Target(type="agent", id=self.agent_id)


class Annotation(RecordBody):
    """A fact attached later to a dataset, version, run, job or agent.

    Evaluations, tags, sensitivity labels, intended uses, policy decisions and lifecycle
    changes are all annotations; ``supersedes`` replaces an earlier one.
    """

    SCHEMA: ClassVar[str] = "pedigree.annotation"
    VERSION: ClassVar[int] = 1
    TITLE: ClassVar[str] = "Annotation"

    annotation_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    target: Target
    kind: Token
    body: dict[str, JsonValue] = Field(default_factory=dict)
    supersedes: uuid.UUID | None = None

    @model_validator(mode="after")
    def _lifecycle_state(self) -> Self:
        if self.kind == "lifecycle" and self.body.get("state") not in LIFECYCLE_STATES:
            raise ValueError(f"a lifecycle annotation needs body.state, one of {LIFECYCLE_STATES}")
        if self.supersedes == self.annotation_id:
            raise ValueError("an annotation cannot supersede itself")
        return self


RECORD_TYPES: tuple[type[RecordBody], ...] = (
    DatasetVersion,
    ModelVersion,
    Run,
    Agent,
    Annotation,
)
