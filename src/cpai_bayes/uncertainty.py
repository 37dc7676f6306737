"""Uncertainty of the entropy weights and its propagation into the indices and the regressions.

Weight draws: a Bayesian bootstrap of the entropy functional. The min-max normalisation is kept at
the full data's (it fixes the units); each draw reweights the units with Dirichlet(1) weights and
recomputes the entropy weights (``weights.entropy_weights`` with ``obs_weights``; entropy normalised
by ``H(pi)``, ../shared/METHODS.md). ``scheme="province"`` draws one Dirichlet weight per province,
shared by its years, since years within a province are not independent.

Propagation. The TWFE coefficient is linear in the outcome, and the indices are linear in the
weights, so with ``M`` the two-way projection and ``R`` the residual maker of the projected controls,
``beta(w_cp, w_ai) = (w_ai' A'Y w_cp) / (w_ai' A'A w_ai)`` with ``A = R M Z_ai`` and ``Y = R M Z_cp``
(``Z`` the normalised indicators): one projection of the 38 indicator columns gives the coefficient
for every pair of weight draws. For a fixed AI index this is ``sum_j w_j b_j`` with ``b_j`` the
coefficient of indicator ``j`` alone (the linear shortcut of the issue), tested against refitting.
Total uncertainty combines the within-draw sampling variance and the between-draw variance as in
multiple imputation (Rubin's rules: T = W + (1 + 1/D) B).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from cpai_bayes.constants import SEED, SHIFT
from cpai_bayes.pcse import demean_twoway
from cpai_bayes.weights import entropy_weights, normalise, weighted_index

__all__ = ["weight_draws", "WeightDraws", "index_bands", "rank_bands", "critic_weights",
           "sensitivity", "coefficient_draws", "LinearTWFE", "rubin"]


@dataclass(frozen=True)
class WeightDraws:
    """Entropy weight draws of one indicator system, with the point weights and normalised data."""

    name: str
    draws: xr.DataArray          # (draw, indicator)
    point: pd.Series
    z: np.ndarray                # (unit, indicator), normalised at the full data
    scheme: str

    def intervals(self, system: pd.DataFrame, prob: float = 0.90) -> pd.DataFrame:
        lo, hi = (1 - prob) / 2, (1 + prob) / 2
        q = self.draws.quantile([lo, hi], dim="draw").values
        out = system[["code", "dimension", "name_en", "direction"]].copy()
        out.insert(0, "index", self.name)
        out["weight"] = self.point.to_numpy()
        out["mean"] = self.draws.mean("draw").values
        out[f"q{lo:.2f}"] = q[0]
        out[f"q{hi:.2f}"] = q[1]
        return out


def _obs_weights(rng, entity_codes: np.ndarray, draws: int, scheme: str) -> np.ndarray:
    if scheme == "dirichlet":
        return rng.dirichlet(np.ones(len(entity_codes)), size=draws)
    if scheme == "province":
        per = rng.dirichlet(np.ones(entity_codes.max() + 1), size=draws)
        return per[:, entity_codes]
    raise ValueError(f"scheme must be 'dirichlet' or 'province', got {scheme!r}")


def weight_draws(raw: pd.DataFrame, system: pd.DataFrame, *, name: str, draws: int = 4000,
                 seed: int = SEED, scheme: str = "dirichlet", entity: str = "province",
                 time: str = "year", normalisation: str = "pooled", shift: float = SHIFT,
                 chunk: int = 500) -> WeightDraws:
    """``draws`` Bayesian-bootstrap draws of the entropy weights of one indicator system."""
    codes = list(system["code"])
    groups = raw[time].to_numpy() if normalisation == "year" else None
    z = normalise(raw[codes].to_numpy(float), system["direction"].to_numpy(), groups=groups,
                  names=codes)
    rng = np.random.default_rng(seed)
    ent = pd.factorize(raw[entity])[0]
    pi = _obs_weights(rng, ent, draws, scheme)
    w = np.concatenate([entropy_weights(z, obs_weights=pi[i:i + chunk], shift=shift)
                        for i in range(0, draws, chunk)])
    da = xr.DataArray(w, dims=("draw", "indicator"),
                      coords={"draw": np.arange(draws), "indicator": codes}, name=f"w_{name}")
    da.attrs.update({"scheme": scheme, "seed": seed, "normalisation": normalisation,
                     "shift": shift})
    point = pd.Series(entropy_weights(z, shift=shift), index=codes)
    return WeightDraws(name, da, point, z, scheme)


def index_bands(wd: WeightDraws, keys: pd.DataFrame, *, prob: float = 0.90) -> pd.DataFrame:
    """Point index and its ``prob`` band per unit (rows of ``keys``)."""
    draws = wd.z @ wd.draws.values.T  # (unit, draw)
    lo, hi = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=1)
    out = keys.reset_index(drop=True).copy()
    out[wd.name] = weighted_index(wd.z, wd.point.to_numpy())
    out["lower"], out["upper"] = lo, hi
    return out


def rank_bands(wd: WeightDraws, keys: pd.DataFrame, *, time: str = "year",
               prob: float = 0.90) -> pd.DataFrame:
    """Each unit's rank within its period (1 = highest index): point rank and ``prob`` band."""
    draws = wd.z @ wd.draws.values.T
    point = weighted_index(wd.z, wd.point.to_numpy())
    out = keys.reset_index(drop=True).copy()
    out["rank"] = 0
    out["rank_lower"] = 0.0
    out["rank_upper"] = 0.0
    for _, rows in out.groupby(time).groups.items():
        rows = np.asarray(rows)
        ranks = (-draws[rows]).argsort(axis=0).argsort(axis=0) + 1
        out.loc[rows, "rank"] = (-point[rows]).argsort().argsort() + 1
        out.loc[rows, "rank_lower"] = np.quantile(ranks, (1 - prob) / 2, axis=1)
        out.loc[rows, "rank_upper"] = np.quantile(ranks, (1 + prob) / 2, axis=1)
    return out


def critic_weights(z: np.ndarray) -> np.ndarray:
    """CRITIC weights (Diakoulaki et al. 1995): ``C_j = sd_j * sum_k (1 - r_jk)``, normalised."""
    sd = z.std(axis=0, ddof=1)
    r = np.corrcoef(z, rowvar=False)
    c = sd * (1 - r).sum(axis=0)
    return c / c.sum()


class LinearTWFE:
    """The two-way FE coefficient of an index outcome on an index regressor, for any weights.

    One projection of every indicator column (and the controls) is done at construction; after
    that each (w_cp, w_ai) pair costs a few small matrix products.
    """

    def __init__(self, z_cp: np.ndarray, z_ai: np.ndarray, controls: np.ndarray,
                 entity: np.ndarray, time: np.ndarray) -> None:
        k_cp = z_cp.shape[1]
        proj = demean_twoway(np.column_stack([z_cp, z_ai, controls]), entity, time, tol=1e-13)
        mz = proj[:, k_cp + z_ai.shape[1]:]
        q, _ = np.linalg.qr(mz)
        resid = proj[:, :k_cp + z_ai.shape[1]] - q @ (q.T @ proj[:, :k_cp + z_ai.shape[1]])
        self.y = resid[:, :k_cp]   # R M Z_cp
        self.a = resid[:, k_cp:]   # R M Z_ai
        self.aty = self.a.T @ self.y
        self.ata = self.a.T @ self.a
        self.b_indicator = None

    def beta(self, w_cp: np.ndarray, w_ai: np.ndarray) -> np.ndarray:
        """Coefficients for weight draws ``w_cp`` (D, k_cp) and ``w_ai`` (D, k_ai), or single
        vectors."""
        w_cp, w_ai = np.atleast_2d(w_cp), np.atleast_2d(w_ai)
        num = np.einsum("di,ij,dj->d", w_ai, self.aty, w_cp)
        den = np.einsum("di,ij,dj->d", w_ai, self.ata, w_ai)
        return num / den

    def indicator_coefficients(self, w_ai: np.ndarray) -> np.ndarray:
        """``b_j``: the coefficient with indicator ``j`` of the outcome system alone as outcome,
        for a fixed AI index; ``beta(w_cp, w_ai) = sum_j w_cp_j b_j``."""
        a = self.a @ w_ai
        return (a @ self.y) / (a @ a)


def coefficient_draws(wd_cp: WeightDraws, wd_ai: WeightDraws, frame: pd.DataFrame,
                      controls: list[str], *, entity: str = "province", time: str = "year",
                      group: str | None = None) -> dict:
    """TWFE AI coefficient per weight draw (CP and AI weights drawn jointly, draw by draw); with
    ``group``, the coefficient within each group (its own period effects) and their differences."""
    out = {}
    subsets = {"all": np.ones(len(frame), bool)}
    if group is not None:
        subsets.update({g: (frame[group] == g).to_numpy() for g in sorted(frame[group].unique())})
    for label, sel in subsets.items():
        lin = LinearTWFE(wd_cp.z[sel], wd_ai.z[sel], frame.loc[sel, controls].to_numpy(float),
                         frame.loc[sel, entity].to_numpy(), frame.loc[sel, time].to_numpy())
        out[label] = {"draws": lin.beta(wd_cp.draws.values, wd_ai.draws.values),
                      "point": float(lin.beta(wd_cp.point.to_numpy(), wd_ai.point.to_numpy())[0])}
    return out


def rubin(estimates: np.ndarray, within_var: float | np.ndarray) -> dict:
    """Rubin's rules: total variance ``W + (1 + 1/D) B`` and the share due to the draws."""
    d = len(estimates)
    b = float(np.var(estimates, ddof=1))
    w = float(np.mean(within_var))
    total = w + (1 + 1 / d) * b
    return {"mean": float(np.mean(estimates)), "within_var": w, "between_var": b,
            "total_var": total, "share_between": (1 + 1 / d) * b / total}


def sensitivity(raw: pd.DataFrame, cp_system: pd.DataFrame, ai_system: pd.DataFrame,
                frame: pd.DataFrame, controls: list[str], *, entity: str = "province",
                time: str = "year") -> pd.DataFrame:
    """The Table 4 AI coefficient under construction choices the paper fixed silently."""
    def build(system, normalisation="pooled", shift=SHIFT, scheme="entropy", flip=None):
        sysx = system.copy()
        if flip is not None:
            sysx.loc[sysx.code == flip, "direction"] = "+"
        codes = list(sysx["code"])
        groups = raw[time].to_numpy() if normalisation == "year" else None
        z = normalise(raw[codes].to_numpy(float), sysx["direction"].to_numpy(), groups=groups)
        if scheme == "entropy":
            w = entropy_weights(z, shift=shift)
        elif scheme == "equal":
            w = np.full(z.shape[1], 1 / z.shape[1])
        else:
            w = critic_weights(z)
        return z, w

    ent, per = frame[entity].to_numpy(), frame[time].to_numpy()
    ctrl = frame[controls].to_numpy(float)
    choices = [
        ("paper: entropy, pooled min-max, shift 1e-4", {}),
        ("per-year min-max", {"normalisation": "year"}),
        ("shift 1e-2", {"shift": 1e-2}),
        ("shift 1e-6", {"shift": 1e-6}),
        ("secondary/tertiary share as '+'", {"flip": "ai02"}),
        ("equal weights", {"scheme": "equal"}),
        ("CRITIC weights", {"scheme": "critic"}),
    ]
    rows = []
    for label, kw in choices:
        z_cp, w_cp = build(cp_system, **{k: v for k, v in kw.items() if k != "flip"})
        z_ai, w_ai = build(ai_system, **kw)
        lin = LinearTWFE(z_cp, z_ai, ctrl, ent, per)
        rows.append({"choice": label, "ai_coefficient": float(lin.beta(w_cp, w_ai)[0]),
                     "cp_mean": float((z_cp @ w_cp).mean()),
                     "ai_mean": float((z_ai @ w_ai).mean())})
    return pd.DataFrame(rows)


def plot_weight_distributions(wd: WeightDraws, system: pd.DataFrame):
    """Each indicator's weight draws (box: 50%, whiskers: 90%) with the point weight marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = wd.draws.values
    order = np.argsort(wd.point.to_numpy())
    fig, ax = plt.subplots(figsize=(7, 0.28 * w.shape[1] + 1.2))
    ax.boxplot(w[:, order], orientation="horizontal", whis=(5, 95), showfliers=False, widths=0.6)
    ax.plot(wd.point.to_numpy()[order], np.arange(1, w.shape[1] + 1), "rD", ms=4,
            label="point weight")
    names = system.set_index("code").loc[np.asarray(wd.point.index)[order], "name_en"]
    ax.set_yticks(np.arange(1, w.shape[1] + 1))
    ax.set_yticklabels([f"{c} {n[:38]}" for c, n in zip(names.index, names, strict=True)],
                       fontsize=7)
    ax.set_xlabel(f"entropy weight ({wd.draws.sizes['draw']} {wd.scheme} bootstrap draws)")
    ax.legend(fontsize=7)
    ax.set_title(f"{wd.name} weights")
    fig.tight_layout()
    return fig


def plot_rank_bands(ranks: pd.DataFrame, *, entity: str = "province", time: str = "year",
                    name: str = "CP"):
    """Rank of each entity in the last period with its 90% band (the COINr-style rank plot)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    last = ranks[ranks[time] == ranks[time].max()].sort_values("rank")
    fig, ax = plt.subplots(figsize=(6, 0.25 * len(last) + 1.2))
    y = np.arange(len(last))[::-1]
    ax.hlines(y, last["rank_lower"], last["rank_upper"], color="#8fa8c8", lw=4)
    ax.plot(last["rank"], y, "k|", ms=10)
    ax.set_yticks(y)
    ax.set_yticklabels(last[entity], fontsize=7)
    ax.set_xlabel(f"rank in {int(ranks[time].max())} (1 = highest); bar: 90% band")
    ax.set_title(f"{name} ranks under weight uncertainty")
    fig.tight_layout()
    return fig
