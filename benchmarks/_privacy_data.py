"""Mixed tables for the privacy benchmarks (not part of the package): numerical columns
driven by three shared latent factors plus noise, and categorical columns of 4-8 levels,
some tied to the first factor. Training, hold-out and an "independent generator"'s
synthetic table are samples of one distribution (fixed loadings, their own seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def mixed_frame(rows: int, seed: int, *, numeric: int = 8, categorical: int = 4) -> pd.DataFrame:
    loadings = np.random.default_rng(12345).normal(size=(3, numeric))
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(rows, 3))
    values = latent @ loadings + rng.normal(scale=0.5, size=(rows, numeric))
    data: dict[str, object] = {f"num_{j}": values[:, j].round(4) for j in range(numeric)}
    for j in range(categorical):
        levels = np.array([f"level_{i}" for i in range(4 + j % 5)])
        if j % 2 == 0:  # tied to the first factor
            cut = np.digitize(latent[:, 0], np.linspace(-1.5, 1.5, len(levels) - 1))
            noise = rng.random(rows) < 0.2
            cut[noise] = rng.integers(0, len(levels), noise.sum())
            data[f"cat_{j}"] = levels[cut]
        else:
            data[f"cat_{j}"] = levels[rng.integers(0, len(levels), rows)]
    return pd.DataFrame(data)


def triple(rows: int, **shape: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(training, synthetic, hold-out), all ``rows`` long."""
    return (
        mixed_frame(rows, 1, **shape),
        mixed_frame(rows, 2, **shape),
        mixed_frame(rows, 3, **shape),
    )


def metadata(frame: pd.DataFrame) -> dict:
    """SDMetrics single-table metadata of a frame of this module."""
    return {
        "columns": {
            c: {"sdtype": "numerical" if c.startswith("num_") else "categorical"}
            for c in frame.columns
        }
    }
