"""The environment a run executed in: Python, OS, hardware, packages, chosen variables.

The expensive parts (scanning installed packages, reading ``/proc/cpuinfo``, asking
``nvidia-smi``) are computed once per process and cached, because an empty captured run
must cost about a millisecond; only the environment variables are read afresh on every
call. ``environment(refresh=True)`` recomputes everything (after ``pip install`` in a
long-lived notebook, say). See docs/capture.md for the fields and the digest form.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from pedigree.capture._redact import safe_value, secret_name
from pedigree.model import Environment

DEFAULT_VARIABLES: tuple[str, ...] = (
    # CI systems: which build produced the run
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_REPOSITORY",
    "GITHUB_REF",
    "GITHUB_SHA",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_WORKFLOW",
    "GITLAB_CI",
    "CI_PIPELINE_ID",
    "CI_JOB_ID",
    "CI_COMMIT_SHA",
    "BUILDKITE_BUILD_ID",
    "BUILD_ID",
    # schedulers
    "SLURM_JOB_ID",
    "SLURM_ARRAY_JOB_ID",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_JOB_PARTITION",
    # things that change numerical results or their reproducibility
    "CUDA_VISIBLE_DEVICES",
    "CUBLAS_WORKSPACE_CONFIG",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "PYTHONHASHSEED",
    "TZ",
    "LANG",
    "LC_ALL",
)
"""Variables recorded by default (when set). Names only: values are read per run."""

EXTRA_VARIABLES_ENV = "PEDIGREE_CAPTURE_ENV"
"""Comma- or space-separated extra names (``fnmatch`` patterns allowed, ``MYAPP_*``)."""

NVIDIA_SMI_TIMEOUT = 2.0
"""Seconds ``nvidia-smi`` may take (once per process) before GPUs are left out."""

NVIDIA_SMI_QUERY = ("--query-gpu=name,memory.total", "--format=csv,noheader,nounits")


@dataclass(frozen=True)
class _Static:
    """What cannot change while a process runs (or is assumed not to: packages)."""

    python: str
    os: str
    hardware: dict[str, Any]
    packages: dict[str, str]
    packages_digest: str


_lock = threading.Lock()
_static: _Static | None = None


def environment(
    *,
    variables: Iterable[str] | None = None,
    refresh: bool = False,
    distributions: Iterable[importlib.metadata.Distribution] | None = None,
) -> Environment:
    """The environment of this process, as recorded on a run.

    ``variables``: the names (or ``fnmatch`` patterns) of the environment variables to
    record, instead of :data:`DEFAULT_VARIABLES` plus ``$PEDIGREE_CAPTURE_ENV``. Even
    then, a name that looks secret is never read and a value that looks like a
    credential is dropped (URL credentials are cut out).

    ``distributions``: the installed distributions to describe instead of those
    ``importlib.metadata`` finds (not cached), for tools that inspect another environment.
    """
    static = _static_info(refresh=refresh, distributions=distributions)
    names = _allowed_names() if variables is None else list(variables)
    # Validated once when cached; each call gets its own copies of the containers.
    return Environment.model_construct(
        python=static.python,
        os=static.os,
        hardware=_copy(static.hardware),
        packages=dict(static.packages),
        packages_digest=static.packages_digest,
        variables=recorded_variables(names),
    )


def _copy(value: Any) -> Any:
    """A copy of nested JSON-like containers (``copy.deepcopy`` is ten times slower)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _static_info(
    *, refresh: bool, distributions: Iterable[importlib.metadata.Distribution] | None
) -> _Static:
    global _static
    if distributions is not None:
        base = _static_info(refresh=refresh, distributions=None)
        packages = installed_packages(distributions)
        return _Static(base.python, base.os, base.hardware, packages, packages_digest(packages))
    cached = _static
    if cached is not None and not refresh:
        return cached
    with _lock:
        if _static is None or refresh:
            packages = installed_packages()
            checked = Environment(  # validate once, so model_construct is safe later
                python=f"{platform.python_implementation()} {platform.python_version()}",
                os=platform.platform(),
                hardware=hardware(),
                packages=packages,
                packages_digest=packages_digest(packages),
            )
            _static = _Static(
                python=checked.python or "",
                os=checked.os or "",
                hardware=checked.hardware,
                packages=checked.packages,
                packages_digest=checked.packages_digest or "",
            )
        return _static


# --- environment variables -----------------------------------------------------------------


def _allowed_names() -> list[str]:
    extra = os.environ.get(EXTRA_VARIABLES_ENV, "")
    return [*DEFAULT_VARIABLES, *(n for n in re.split(r"[\s,]+", extra) if n)]


def recorded_variables(names: Iterable[str]) -> dict[str, str]:
    """The allowed variables that are set, minus secrets, sorted by name."""
    present = set(os.environ)  # one pass; `name in os.environ` is slow on a miss
    found: dict[str, str] = {}
    for pattern in names:
        if any(ch in pattern for ch in "*?["):
            matched = [name for name in present if fnmatchcase(name, pattern)]
        else:
            matched = [pattern] if pattern in present else []
        for name in matched:
            if name in found or secret_name(name):
                continue
            value = safe_value(os.environ.get(name, ""))
            if value is not None:
                found[name] = value
    return dict(sorted(found.items()))


# --- packages ------------------------------------------------------------------------------


def normalize_name(name: str) -> str:
    """PEP 503 normalised project name: ``Scikit_Learn`` → ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_packages(
    distributions: Iterable[importlib.metadata.Distribution] | None = None,
) -> dict[str, str]:
    """Normalised name → version of every installed distribution, sorted by name.

    When a name is installed twice (two ``sys.path`` entries), the first one wins, as it
    does for ``import``.
    """
    dists = importlib.metadata.distributions() if distributions is None else distributions
    found: dict[str, str] = {}
    for dist in dists:
        name, version = _name_and_version(dist)
        if name and version:
            found.setdefault(normalize_name(name), version)
    return dict(sorted(found.items()))


def _name_and_version(dist: importlib.metadata.Distribution) -> tuple[str | None, str | None]:
    """Read the two headers directly: several times faster than parsing the whole file."""
    try:
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    except OSError:
        text = None
    name = version = None
    if text:
        for line in text.splitlines():
            if not line:
                break  # end of the headers
            if name is None and line.startswith("Name:"):
                name = line[5:].strip()
            elif version is None and line.startswith("Version:"):
                version = line[8:].strip()
            if name and version:
                break
    if not (name and version):
        try:
            meta = dist.metadata
            name, version = meta["Name"], meta["Version"]
        except Exception:  # broken metadata: leave the distribution out
            return None, None
    return name, version


def packages_digest(packages: Mapping[str, str]) -> str:
    """``sha256:`` of one ``name==version\\n`` line per package, sorted by name, UTF-8."""
    text = "".join(f"{name}=={packages[name]}\n" for name in sorted(packages))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- hardware ------------------------------------------------------------------------------


def hardware() -> dict[str, Any]:
    """Architecture, CPU model and count, memory, GPUs (keys left out when unknown)."""
    info: dict[str, Any] = {
        "machine": platform.machine() or None,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": memory_total(),
        "gpus": nvidia_gpus() or torch_gpus() or None,
    }
    return {key: value for key, value in info.items() if value is not None}


def cpu_model() -> str | None:
    """The CPU's marketing name, from ``/proc/cpuinfo`` (Linux) or ``sysctl`` (macOS)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            fields: dict[str, str] = {}
            for line in f:
                key, sep, value = line.partition(":")
                if not sep:
                    if fields:
                        break  # end of the first processor's block
                    continue
                fields.setdefault(key.strip().lower(), value.strip())
        for key in ("model name", "hardware", "model", "cpu model", "processor"):
            if fields.get(key) and not fields[key].isdigit():
                return fields[key]
    except OSError:
        pass
    if sys.platform == "darwin":
        out = _quiet_output(["sysctl", "-n", "machdep.cpu.brand_string"], timeout=1.0)
        if out:
            return out.strip()
    return platform.processor() or None


def memory_total() -> int | None:
    """Physical memory in bytes (``sysconf``; Linux and macOS)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def nvidia_gpus() -> list[dict[str, Any]]:
    """NVIDIA GPUs as ``nvidia-smi`` lists them; empty without the binary or on timeout."""
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return []
    out = _quiet_output([binary, *NVIDIA_SMI_QUERY], timeout=NVIDIA_SMI_TIMEOUT)
    gpus: list[dict[str, Any]] = []
    for line in (out or "").splitlines():
        name, _, memory = (part.strip() for part in line.rpartition(","))
        if not name:
            continue
        gpu: dict[str, Any] = {"vendor": "nvidia", "name": name}
        if memory.isdigit():
            gpu["memory_mib"] = int(memory)
        gpus.append(gpu)
    return gpus


def torch_gpus() -> list[dict[str, Any]]:
    """CUDA devices as torch sees them, only if the program already imported torch.

    Device names need an initialised CUDA context; creating one here could break a later
    ``fork``, so without one only the device count is recorded.
    """
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    if cuda is None:
        return []
    try:
        if not cuda.is_available():
            return []
        count = int(cuda.device_count())
        if not cuda.is_initialized():
            return [{"source": "torch"} for _ in range(count)]
        gpus = []
        for index in range(count):
            props = cuda.get_device_properties(index)
            gpus.append(
                {
                    "source": "torch",
                    "name": str(props.name),
                    "memory_mib": int(props.total_memory) // 2**20,
                }
            )
        return gpus
    except Exception:  # any torch/driver trouble: GPUs unknown, never a failed run
        return []


def _quiet_output(command: list[str], *, timeout: float) -> str | None:
    """A command's stdout, or ``None`` if it is missing, fails or takes too long."""
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None
