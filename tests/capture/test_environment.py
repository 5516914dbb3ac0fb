"""environment(): packages and their digest, the variable allow-list, secrets, hardware."""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import stat
import time
from pathlib import Path

import pytest

from pedigree.capture import environment as env_mod
from pedigree.capture.environment import (
    EXTRA_VARIABLES_ENV,
    environment,
    hardware,
    installed_packages,
    nvidia_gpus,
    packages_digest,
)


@pytest.fixture(autouse=True)
def no_extra_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXTRA_VARIABLES_ENV, raising=False)


def fake_site(root: Path, *packages: tuple[str, str]) -> Path:
    """A real site directory holding one ``.dist-info`` per (name, version)."""
    root.mkdir(exist_ok=True)
    for name, version in packages:
        info = root / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: x\n\nBody\n"
        )
    return root


def distributions(site: Path) -> list[importlib.metadata.Distribution]:
    return list(importlib.metadata.distributions(path=[str(site)]))


# --- packages ------------------------------------------------------------------------------


def test_this_environment_is_described() -> None:
    env = environment()
    assert env.python and env.python.split()[1].startswith("3.")
    assert env.os
    assert {"datapedigree", "pydantic", "numpy"} <= env.packages.keys()
    assert env.packages["datapedigree"] == importlib.metadata.version("datapedigree")
    assert list(env.packages) == sorted(env.packages)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in env.packages)


def test_the_packages_digest_has_its_documented_form() -> None:
    env = environment()
    text = "".join(f"{name}=={version}\n" for name, version in sorted(env.packages.items()))
    assert env.packages_digest == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_the_packages_digest_is_stable() -> None:
    first, second = environment(), environment()
    assert first.packages_digest == second.packages_digest
    assert environment(refresh=True).packages_digest == first.packages_digest


def test_each_call_returns_its_own_containers() -> None:
    first = environment()
    first.packages["intruder"] = "1"
    first.hardware["cpu_count"] = -1
    second = environment()
    assert "intruder" not in second.packages
    assert second.hardware.get("cpu_count") != -1


def test_names_are_normalised_and_the_first_install_wins(tmp_path: Path) -> None:
    first = fake_site(tmp_path / "a", ("Alpha_Pkg", "1.0"), ("zeta.thing", "2.0"))
    second = fake_site(tmp_path / "b", ("alpha-pkg", "9.9"))
    dists = list(importlib.metadata.distributions(path=[str(first), str(second)]))
    assert installed_packages(dists) == {"alpha-pkg": "1.0", "zeta-thing": "2.0"}


def test_the_digest_changes_with_the_package_set(tmp_path: Path) -> None:
    own = environment().packages_digest
    site = fake_site(tmp_path / "site", ("alpha", "1.0"), ("beta", "2.0"))
    before = environment(distributions=distributions(site))
    assert before.packages == {"alpha": "1.0", "beta": "2.0"}
    assert before.packages_digest == packages_digest({"beta": "2.0", "alpha": "1.0"})

    fake_site(site, ("gamma", "0.1"))
    added = environment(distributions=distributions(site))
    assert added.packages_digest != before.packages_digest

    upgraded = fake_site(tmp_path / "other", ("alpha", "1.1"), ("beta", "2.0"))
    assert environment(distributions=distributions(upgraded)).packages_digest not in {
        before.packages_digest,
        added.packages_digest,
    }
    assert environment().packages_digest == own  # the process's own is untouched


# --- environment variables -----------------------------------------------------------------


def test_only_allow_listed_variables_are_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("GITHUB_SHA", "0123abc")
    monkeypatch.setenv("MY_PRIVATE_SETTING", "nope")
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    variables = environment().variables
    assert variables["CI"] == "true"
    assert variables["OMP_NUM_THREADS"] == "4"
    assert variables["GITHUB_SHA"] == "0123abc"
    assert "MY_PRIVATE_SETTING" not in variables
    assert "SLURM_JOB_ID" not in variables
    assert "PATH" not in variables and "HOME" not in variables


def test_extra_names_and_patterns_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXTRA_VARIABLES_ENV, "MY_VAR, MYAPP_*  OTHER")
    monkeypatch.setenv("MY_VAR", "1")
    monkeypatch.setenv("MYAPP_MODE", "fast")
    monkeypatch.setenv("MYAPP_SIZE", "10")
    variables = environment().variables
    assert {k: variables[k] for k in ("MY_VAR", "MYAPP_MODE", "MYAPP_SIZE")} == {
        "MY_VAR": "1",
        "MYAPP_MODE": "fast",
        "MYAPP_SIZE": "10",
    }
    assert "OTHER" not in variables
    assert list(variables) == sorted(variables)


def test_an_explicit_list_replaces_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("MY_VAR", "1")
    monkeypatch.setenv(EXTRA_VARIABLES_ENV, "CI")
    assert environment(variables=["MY_VAR"]).variables == {"MY_VAR": "1"}
    assert environment(variables=[]).variables == {}


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "DB_PASSWORD",
        "PGPASSWORD",
        "OPENAI_API_KEY",
        "MYAPP_APIKEY",
        "HF_AUTH",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "SSH_PRIVATE",
        "MYAPP_KEY",
        "NPM_PASS",
        "SESSION_COOKIE",
    ],
)
def test_secret_looking_names_are_never_recorded(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(EXTRA_VARIABLES_ENV, f"{name},MYAPP_*")
    monkeypatch.setenv(name, "plain-value")
    assert name not in environment().variables
    assert name not in environment(variables=[name]).variables


@pytest.mark.parametrize(
    ("value", "recorded"),
    [
        ("postgresql://bob:hunter2@db.internal:5432/prod", "postgresql://db.internal:5432/prod"),
        ("https://tok3n@example.com/x https://u:p@q@h/y", "https://example.com/x https://h/y"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("ghp_" + "a" * 36, None),
        ("AKIAABCDEFGHIJKLMNOP", None),
        ("-----BEGIN RSA PRIVATE KEY-----\nabc", None),
        ("42", "42"),
    ],
)
def test_credential_values_are_cut_out_or_dropped(
    monkeypatch: pytest.MonkeyPatch, value: str, recorded: str | None
) -> None:
    monkeypatch.setenv("MYAPP_SETTING", value)
    assert environment(variables=["MYAPP_SETTING"]).variables.get("MYAPP_SETTING") == recorded


def test_variables_are_read_on_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_JOB_ID", "1")
    assert environment().variables["SLURM_JOB_ID"] == "1"
    monkeypatch.setenv("SLURM_JOB_ID", "2")
    assert environment().variables["SLURM_JOB_ID"] == "2"


# --- hardware ------------------------------------------------------------------------------


def test_hardware_basics() -> None:
    info = hardware()
    assert info["machine"]
    assert isinstance(info["cpu_count"], int) and info["cpu_count"] >= 1
    assert info.get("memory_bytes", 1) > 0
    assert environment().hardware.keys() == info.keys()


def fake_binary(directory: Path, name: str, script: str) -> None:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_nvidia_gpus_are_listed_when_nvidia_smi_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_binary(
        tmp_path / "bin",
        "nvidia-smi",
        'echo "NVIDIA A100-SXM4-40GB, 40960"\necho "Tesla T4, 15360"\n',
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert nvidia_gpus() == [
        {"vendor": "nvidia", "name": "NVIDIA A100-SXM4-40GB", "memory_mib": 40960},
        {"vendor": "nvidia", "name": "Tesla T4", "memory_mib": 15360},
    ]
    assert hardware()["gpus"][0]["name"] == "NVIDIA A100-SXM4-40GB"


def test_a_hanging_nvidia_smi_is_given_up_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_binary(tmp_path / "bin", "nvidia-smi", "exec sleep 30\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(env_mod, "NVIDIA_SMI_TIMEOUT", 0.3)
    started = time.monotonic()
    assert nvidia_gpus() == []
    assert time.monotonic() - started < 10


def test_no_nvidia_smi_no_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert nvidia_gpus() == []
    assert "gpus" not in hardware() or hardware()["gpus"][0].get("source") == "torch"
