"""Beck-Katz panel-corrected standard errors for the two-way fixed-effects model.

No maintained Python library has them, so they are written here and tested against R
(``tests/reference/pcse_reference.R``: ``plm::vcovBK(cluster = "time")`` for the plain case, and an
R implementation of Stata's ``xtpcse, correlation(ar1)`` steps for the AR(1) case).

Plain case (Beck and Katz 1995; ../shared/METHODS.md): with ``X`` the two-way demeaned regressors and
``e`` the within residuals laid out as a T x N matrix ``E``,
``Sigma_ij = sum_t e_it e_jt / T_ij`` over the periods ``T_ij`` that entities ``i`` and ``j`` share
(``E'E / T`` when balanced), and ``V = (X'X)^-1 [sum_t X_t' Sigma X_t] (X'X)^-1``, where ``X_t`` holds
the rows of period ``t``. By Frisch-Waugh-Lovell this is the slope block of the dummy-variable fit.

AR(1) case (Stata ``xtpcse, correlation(ar1)``, default ``rhotype(regress)``): a common ``rho`` from
regressing the within residual on its own lag (pooled, no constant), a Prais-Winsten transform of the
outcome and of the full dummy-variable design within each entity (first period scaled by
``sqrt(1 - rho^2)``), OLS on the transformed data, and the PCSE formula on the transformed design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PCSEResult", "pcse_twfe", "demean_twoway"]


@dataclass(frozen=True)
class PCSEResult:
    """Slopes, their PCSE covariance and what was assumed.

    Attributes
    ----------
    params, vcov
        Slope estimates and their covariance (index: the regressor names).
    rho
        The common AR(1) coefficient, or ``None`` without ``ar1``.
    n_entities, n_periods, nobs
        Panel size.
    rank_deficient
        ``True`` when ``T < N``: the contemporaneous covariance ``Sigma`` (N x N, estimated from T
        periods) then has rank at most T and is singular (the seed study has N = 30, T = 9).
    """

    params: pd.Series
    vcov: pd.DataFrame
    rho: float | None
    n_entities: int
    n_periods: int
    nobs: int
    rank_deficient: bool

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.vcov.to_numpy())), index=self.params.index)


def demean_twoway(values: np.ndarray, entity: np.ndarray, time: np.ndarray, *,
                  tol: float = 1e-12, maxiter: int = 10_000) -> np.ndarray:
    """Remove entity and time means by alternating projections (exact after one sweep when
    balanced)."""
    out = np.asarray(values, dtype=float).copy()
    if out.ndim == 1:
        out = out[:, None]
    e_codes = pd.factorize(entity)[0]
    t_codes = pd.factorize(time)[0]
    for _ in range(maxiter):
        before = out.copy()
        for codes in (e_codes, t_codes):
            sums = np.zeros((codes.max() + 1, out.shape[1]))
            np.add.at(sums, codes, out)
            counts = np.bincount(codes)[:, None]
            out -= (sums / counts)[codes]
        if np.max(np.abs(out - before)) < tol:
            break
    return out


def _contemporaneous_middle(x: np.ndarray, e: np.ndarray, ent: np.ndarray, per: np.ndarray,
                            n: int, t: int) -> np.ndarray:
    """``sum_t X_t' Sigma X_t`` with ``Sigma`` from pairwise-complete residual products."""
    emat = np.zeros((t, n))
    mask = np.zeros((t, n))
    emat[per, ent] = e
    mask[per, ent] = 1.0
    common = mask.T @ mask  # periods shared by each pair of entities
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.where(common > 0, (emat.T @ emat) / common, 0.0)
    k = x.shape[1]
    middle = np.zeros((k, k))
    for s in range(t):
        rows = per == s
        xs = np.zeros((n, k))
        xs[ent[rows]] = x[rows]
        middle += xs.T @ sigma @ xs
    return middle


def pcse_twfe(y: np.ndarray, x: np.ndarray, entity: np.ndarray, time: np.ndarray, *,
              names: list[str], ar1: bool = False) -> PCSEResult:
    """Two-way FE slopes with Beck-Katz PCSE, optionally after a common-AR(1) Prais-Winsten step.

    Parameters
    ----------
    y, x
        Outcome (n,) and regressors (n, k), one row per entity-period.
    entity, time
        Identifiers per row; ``time`` must be sortable (consecutive periods are adjacent years).
    names
        Regressor names.
    ar1
        Apply Stata's ``correlation(ar1)`` steps (module docstring).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    ent = pd.factorize(entity, sort=True)[0]
    periods = np.sort(pd.unique(time))
    per = np.searchsorted(periods, time)
    n, t = ent.max() + 1, len(periods)
    dm = demean_twoway(np.column_stack([y, x]), entity, time)
    yd, xd = dm[:, 0], dm[:, 1:]
    beta = np.linalg.lstsq(xd, yd, rcond=None)[0]
    rho = None
    if not ar1:
        e = yd - xd @ beta
        bread = np.linalg.inv(xd.T @ xd)
        vcov = bread @ _contemporaneous_middle(xd, e, ent, per, n, t) @ bread
    else:
        e = yd - xd @ beta
        order = np.lexsort((per, ent))
        ent_o, per_o, e_o = ent[order], per[order], e[order]
        lagged = (np.r_[False, ent_o[1:] == ent_o[:-1]]) & (np.r_[False, np.diff(per_o) == 1])
        prev = np.r_[np.nan, e_o[:-1]]
        rho = float(np.sum(e_o[lagged] * prev[lagged]) / np.sum(prev[lagged] ** 2))
        design = np.column_stack([x, np.eye(n)[ent], np.eye(t)[per][:, 1:]])  # LSDV
        yo, do = y[order], design[order]
        ys, ds = yo.copy(), do.copy()
        ys[lagged] = yo[lagged] - rho * yo[np.flatnonzero(lagged) - 1]
        ds[lagged] = do[lagged] - rho * do[np.flatnonzero(lagged) - 1]
        first = ~lagged
        scale = np.sqrt(1.0 - rho**2)
        ys[first] *= scale
        ds[first] *= scale
        coef = np.linalg.lstsq(ds, ys, rcond=None)[0]
        resid = ys - ds @ coef
        beta = coef[: x.shape[1]]
        bread = np.linalg.inv(ds.T @ ds)
        full = bread @ _contemporaneous_middle(ds, resid, ent_o, per_o, n, t) @ bread
        vcov = full[: x.shape[1], : x.shape[1]]
    return PCSEResult(
        params=pd.Series(beta, index=names),
        vcov=pd.DataFrame(vcov, index=names, columns=names),
        rho=rho,
        n_entities=int(n),
        n_periods=int(t),
        nobs=len(y),
        rank_deficient=t < n,
    )
