"""seed() reproduces random streams and records itself; seeds_in() finds seeds."""

from __future__ import annotations

import random
import sys
import types

import numpy as np
import pytest

from pedigree.capture.seeds import current_seeds, seed, seeds_in
from pedigree.errors import RecordError


def draws(generator: np.random.Generator | None) -> tuple[float, float, float]:
    assert generator is not None
    return random.random(), float(np.random.rand()), float(generator.random())


def test_reseeding_reproduces_every_stream() -> None:
    first = draws(seed(7))
    second = draws(seed(7))
    assert first == second
    assert draws(seed(8)) != first


def test_the_returned_generator_is_numpys_default_rng() -> None:
    generator = seed(123)
    assert isinstance(generator, np.random.Generator)
    assert generator.integers(0, 1_000_000, 5).tolist() == (
        np.random.default_rng(123).integers(0, 1_000_000, 5).tolist()
    )


def test_the_seed_is_recorded_in_the_active_run() -> None:
    recorded: dict[str, int] = {}
    token = current_seeds.set(recorded)
    try:
        seed(42)
    finally:
        current_seeds.reset(token)
    expected = {"random": 42, "numpy": 42}
    if "torch" in sys.modules:
        expected["torch"] = 42
    assert recorded == expected


def test_outside_a_run_nothing_is_recorded() -> None:
    assert current_seeds.get() is None
    seed(1)  # no error, nowhere to record
    assert current_seeds.get() is None


def test_numpy_integers_are_accepted() -> None:
    recorded: dict[str, int] = {}
    token = current_seeds.set(recorded)
    try:
        seed(np.int64(5))  # type: ignore[arg-type]
    finally:
        current_seeds.reset(token)
    assert recorded["random"] == 5 and type(recorded["random"]) is int


@pytest.mark.parametrize("bad", [-1, 2**32, True, 1.5, "3", None])
def test_invalid_seeds_are_refused(bad: object) -> None:
    recorded: dict[str, int] = {}
    token = current_seeds.set(recorded)
    try:
        with pytest.raises(RecordError, match="seed"):
            seed(bad)  # type: ignore[arg-type]
    finally:
        current_seeds.reset(token)
    assert recorded == {}


class _Cuda:
    def __init__(self) -> None:
        self.seeded: list[int] = []

    def is_available(self) -> bool:
        return True

    def manual_seed_all(self, n: int) -> None:
        self.seeded.append(n)


def test_torch_is_seeded_only_when_already_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in ``torch`` in ``sys.modules`` (torch itself is not a dependency)."""
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    recorded: dict[str, int] = {}
    token = current_seeds.set(recorded)
    try:
        seed(3)
        assert "torch" not in recorded
        assert "torch" not in sys.modules  # never imported by seed()

        seeded: list[int] = []
        torch = types.ModuleType("torch")
        torch.manual_seed = seeded.append  # type: ignore[attr-defined]
        torch.cuda = _Cuda()  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "torch", torch)
        seed(4)
    finally:
        current_seeds.reset(token)
    assert seeded == [4]
    assert torch.cuda.seeded == [4]  # type: ignore[attr-defined]
    assert recorded == {"random": 4, "numpy": 4, "torch": 4}


# --- seeds in parameters -------------------------------------------------------------------


def test_seeds_in_nested_parameters() -> None:
    parameters = {
        "random_state": 1,
        "Seed": 2,
        "model": {"RANDOM_SEED": 3, "depth": 4, "inner": {"rng_seed": np.int32(5)}},
        "steps": [{"seed": 6}, {"name": "x"}],
        "sampler_seed_count": 7,
        "learning_rate": 0.1,
    }
    found = seeds_in(parameters)
    assert found == {
        "random_state": 1,
        "Seed": 2,
        "model.RANDOM_SEED": 3,
        "model.inner.rng_seed": 5,
        "steps.0.seed": 6,
    }
    assert all(type(v) is int for v in found.values())


def test_seeds_in_ignores_non_integers() -> None:
    parameters = {
        "seed": True,
        "random_state": None,
        "rng_seed": 1.0,
        "random_seed": "7",
        "model": {"random_state": np.random.RandomState(0)},
    }
    assert seeds_in(parameters) == {}
    assert seeds_in({}) == {}
