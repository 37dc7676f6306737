"""Composite indices from raw indicators: normalise -> entropy weights -> weighted sum.

``CP = CP_wealth + CP_sharing + CP_continuing`` holds exactly because each dimension's sub-index
reuses the global weights of its indicators (the seed study's Table 4 coefficients add up, so that is
what it did).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cpai_bayes.constants import SHIFT
from cpai_bayes.weights import entropy_weights, normalise, weighted_index

__all__ = ["IndexResult", "build_index"]

Normalisation = Literal["pooled", "year"]


@dataclass(frozen=True)
class IndexResult:
    """One composite index built from an indicator system.

    Attributes
    ----------
    name
        Index name, e.g. ``"CP"``.
    weights
        Entropy weight per indicator code (sums to one).
    z
        Normalised indicators, one row per unit, one column per code.
    index
        The composite index per unit.
    dimensions
        Sub-index per dimension (columns ``f"{name}_{dimension}"``), adding up to ``index``.
    normalisation, shift
        The construction choices used.
    """

    name: str
    weights: pd.Series
    z: pd.DataFrame
    index: pd.Series
    dimensions: pd.DataFrame
    normalisation: str
    shift: float

    def weights_table(self, system: pd.DataFrame) -> pd.DataFrame:
        """Weights beside the indicator system's names, dimensions and directions."""
        cols = ["code", "dimension", "subdimension", "name_en", "direction"]
        out = system[cols].merge(self.weights.rename("weight").reset_index(), on="code")
        out.insert(0, "index", self.name)
        return out


def build_index(
    raw: pd.DataFrame,
    system: pd.DataFrame,
    *,
    name: str,
    normalisation: Normalisation = "pooled",
    time: str = "year",
    shift: float = SHIFT,
) -> IndexResult:
    """Build an entropy-weighted index from the raw indicator columns named in ``system``.

    Parameters
    ----------
    raw
        One row per unit (province-year) with a column per indicator ``code`` of ``system``.
    system
        Indicator system with columns ``code``, ``dimension`` and ``direction`` (``+``/``-``).
    name
        Index name; sub-indices are named ``f"{name}_{dimension}"``.
    normalisation
        ``"pooled"``: min-max over all units (default, matches the seed study's CP range);
        ``"year"``: min-max within each value of ``raw[time]``.
    time
        Column of ``raw`` holding the period, used by ``normalisation="year"``.
    shift
        Translation before logs in the entropy step (see ``entropy_weights``).
    """
    codes = list(system["code"])
    missing = [c for c in codes if c not in raw.columns]
    if missing:
        raise ValueError(f"raw data lack indicator columns {missing}")
    if normalisation not in ("pooled", "year"):
        raise ValueError(f"normalisation must be 'pooled' or 'year', got {normalisation!r}")
    groups = raw[time].to_numpy() if normalisation == "year" else None
    z = normalise(raw[codes].to_numpy(float), system["direction"].to_numpy(), groups=groups,
                  names=codes)
    w = entropy_weights(z, shift=shift)
    z_df = pd.DataFrame(z, index=raw.index, columns=codes)
    weights = pd.Series(w, index=pd.Index(codes, name="code"), name=f"w_{name}")
    dims = {}
    for dim, members in system.groupby("dimension", sort=False)["code"]:
        cols = [codes.index(c) for c in members]
        dims[f"{name}_{dim}"] = weighted_index(z[:, cols], w[cols])
    return IndexResult(
        name=name,
        weights=weights,
        z=z_df,
        index=pd.Series(weighted_index(z, w), index=raw.index, name=name),
        dimensions=pd.DataFrame(dims, index=raw.index),
        normalisation=normalisation,
        shift=shift,
    )


def index_panel(
    raw: pd.DataFrame,
    cp_system: pd.DataFrame,
    ai_system: pd.DataFrame,
    *,
    keep: list[str],
    normalisation: Normalisation = "pooled",
    time: str = "year",
    shift: float = SHIFT,
) -> tuple[pd.DataFrame, IndexResult, IndexResult]:
    """CP (with its dimensions) and AI indices beside the ``keep`` columns of ``raw``."""
    cp = build_index(raw, cp_system, name="CP", normalisation=normalisation, time=time, shift=shift)
    ai = build_index(raw, ai_system, name="AI", normalisation=normalisation, time=time, shift=shift)
    panel = pd.concat([raw[keep], cp.index, cp.dimensions, ai.index], axis=1)
    assert np.allclose(cp.dimensions.sum(axis=1), cp.index)
    return panel, cp, ai
