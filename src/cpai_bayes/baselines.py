"""Frequentist baselines (the seed study's Tables 4-7) for any panel, in one tidy schema.

Fixed-effects and IV fits use pyfixest (the Python port of R's fixest); the tests cross-check them
against linearmodels. Beck-Katz PCSE are in ``pcse.py`` (no library has them).

Standard-error conventions (the ``se_type`` column says which one each row uses):

- ``CRV1(<entity>)``: clustered by entity with Stata's ``xtreg, fe vce(cluster)`` small-sample factor
  ``G/(G-1) * (N-1)/(N-K)``, K counting the slopes and the year dummies but not the absorbed entity
  effects (pyfixest's default ``ssc``); t with G-1 degrees of freedom. The default.
- ``hetero``: HC1; ``iid``: classical. Both with t on the residual degrees of freedom.
- ``PCSE``: Beck-Katz, no small-sample factor, normal reference (as Stata's ``xtpcse`` prints z).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from cpai_bayes.constants import CI_LEVEL, SEED
from cpai_bayes.pcse import demean_twoway, pcse_twfe
from cpai_bayes.schema import PanelSpec

__all__ = [
    "COLUMNS",
    "BaselineResult",
    "fit_twfe",
    "fit_iv2sls",
    "winsorise",
    "fit_winsor",
    "fit_pcse",
    "fit_split",
    "fit_gap",
    "FEW_CLUSTERS",
]

COLUMNS = ["model", "outcome", "term", "estimate", "std_error", "statistic", "p_value",
           "ci_lower", "ci_upper", "nobs", "se_type"]
"""The tidy coefficient schema shared by every estimator, frequentist and Bayesian."""

FEW_CLUSTERS = 30
"""Below this many clusters a cluster-robust SE gets a warning (Cameron and Miller 2015)."""


@dataclass(frozen=True)
class BaselineResult:
    """One fitted baseline: tidy coefficient rows, fit statistics and warnings."""

    model: str
    outcome: str
    coefficients: pd.DataFrame
    stats: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def _safe(columns: Sequence[str]) -> dict[str, str]:
    """Formula-safe aliases for arbitrary column names."""
    return {c: f"v{i}_{re.sub(r'[^0-9A-Za-z_]', '_', str(c))}" for i, c in enumerate(columns)}


def _vcov_arg(vcov: str, entity: str):
    if vcov == "cluster":
        return {"CRV1": entity}
    if vcov in ("hetero", "iid"):
        return vcov
    raise ValueError(f"vcov must be 'cluster', 'hetero' or 'iid', got {vcov!r}")


def _se_label(vcov: str, entity: str, n_clusters: int | None = None) -> str:
    if vcov == "cluster":
        return (f"CRV1({entity}) Stata xtreg-fe small-sample G/(G-1)*(N-1)/(N-K), "
                f"t({(n_clusters or 0) - 1})")
    return {"hetero": "HC1, t(df resid)", "iid": "iid, t(df resid)"}[vcov]


def _pyfixest_rows(fit, alias_back: dict[str, str], *, model: str, outcome: str,
                   se_type: str) -> pd.DataFrame:
    tidy = fit.tidy(alpha=1 - CI_LEVEL)
    lo, hi = tidy.columns[-2], tidy.columns[-1]
    out = pd.DataFrame({
        "model": model,
        "outcome": outcome,
        "term": [alias_back.get(t, t) for t in tidy.index],
        "estimate": tidy["Estimate"].to_numpy(),
        "std_error": tidy["Std. Error"].to_numpy(),
        "statistic": tidy["t value"].to_numpy(),
        "p_value": tidy["Pr(>|t|)"].to_numpy(),
        "ci_lower": tidy[lo].to_numpy(),
        "ci_upper": tidy[hi].to_numpy(),
        "nobs": int(fit._N),
        "se_type": se_type,
    })
    return out[COLUMNS]


def _feols(frame: pd.DataFrame, spec: PanelSpec, outcome: str, regressors: Sequence[str], *,
           vcov: str, iv: tuple[str, str] | None = None):
    import pyfixest as pf

    cols = [outcome, *regressors, spec.entity, spec.time] + (list(iv) if iv else [])
    alias = _safe(dict.fromkeys(cols))
    data = frame[list(dict.fromkeys(cols))].rename(columns=alias)
    rhs = " + ".join(alias[r] for r in regressors) or "1"
    fml = f"{alias[outcome]} ~ {rhs} | {alias[spec.entity]} + {alias[spec.time]}"
    if iv:
        fml += f" | {alias[iv[0]]} ~ {alias[iv[1]]}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(fml, data=data, vcov=_vcov_arg(vcov, alias[spec.entity]))
    return fit, {v: k for k, v in alias.items()}


def fit_twfe(frame: pd.DataFrame, spec: PanelSpec, outcome: str, *, vcov: str = "cluster",
             model: str = "twfe") -> BaselineResult:
    """Two-way fixed effects (entity and period) OLS of ``outcome`` on the regressor and controls.

    Parameters
    ----------
    frame
        Panel rows (``Panel.frame`` or a transformed copy).
    spec
        Column roles.
    outcome
        Outcome column.
    vcov
        ``"cluster"`` (by entity, Stata convention; default), ``"hetero"`` or ``"iid"``.
    model
        Label written in the ``model`` column.
    """
    regs = [spec.regressor, *spec.controls]
    fit, back = _feols(frame, spec, outcome, regs, vcov=vcov)
    g = int(frame[spec.entity].nunique())
    rows = _pyfixest_rows(fit, back, model=model, outcome=outcome,
                          se_type=_se_label(vcov, spec.entity, g))
    warn = []
    if vcov == "cluster" and g < FEW_CLUSTERS:
        warn.append(f"{model} {outcome}: only {g} clusters; cluster-robust SEs are unreliable "
                    f"with fewer than about {FEW_CLUSTERS} (consider a wild cluster bootstrap)")
    return BaselineResult(model, outcome, rows, {
        "nobs": int(fit._N), "n_clusters": g, "r2_within": float(fit._r2_within),
        "r2_lsdv": float(fit._r2)}, tuple(warn))


def _lagged(frame: pd.DataFrame, spec: PanelSpec, column: str, name: str) -> pd.DataFrame:
    """Add the one-period lag of ``column`` within entity; rows without a lag are dropped."""
    d = frame.sort_values([spec.entity, spec.time]).copy()
    prev_t = d.groupby(spec.entity)[spec.time].shift(1)
    prev_x = d.groupby(spec.entity)[column].shift(1)
    d[name] = prev_x.where(d[spec.time] - prev_t == 1)  # a gap in periods is no lag
    return d.dropna(subset=[name]).reset_index(drop=True)


def fit_iv2sls(frame: pd.DataFrame, spec: PanelSpec, outcome: str, *, vcov: str = "cluster",
               weak_f: float = 10.0) -> tuple[BaselineResult, BaselineResult]:
    """IV-2SLS with the regressor instrumented by its own one-period lag, both fixed effects and the
    controls included; the first period of each entity is dropped.

    Returns the second stage (``iv2sls``) and the first stage (``first_stage``: the instrument's
    coefficient, the first-stage F (iid, = t^2 with one instrument) and the effective F of Montiel
    Olea and Pflueger, which with one instrument equals the clustered first-stage t^2).
    """
    lag = f"L.{spec.regressor}"
    d = _lagged(frame, spec, spec.regressor, lag)
    fit, back = _feols(d, spec, outcome, list(spec.controls), vcov=vcov,
                       iv=(spec.regressor, lag))
    g = int(d[spec.entity].nunique())
    se_type = _se_label(vcov, spec.entity, g)
    second = _pyfixest_rows(fit, back, model="iv2sls", outcome=outcome, se_type=se_type)
    fs_fit, fs_back = _feols(d, spec, spec.regressor, [lag, *spec.controls], vcov=vcov)
    first = _pyfixest_rows(fs_fit, fs_back, model="first_stage", outcome=spec.regressor,
                           se_type=se_type)
    fs_iid, _ = _feols(d, spec, spec.regressor, [lag, *spec.controls], vcov="iid")
    t_robust = float(first.loc[first.term == lag, "statistic"].iloc[0])
    t_iid = float(fs_iid.tidy()["t value"].iloc[0])
    df_resid = int(fs_iid._N - fs_iid._k - d[spec.entity].nunique() - d[spec.time].nunique() + 1)
    f_iid, f_eff = t_iid**2, t_robust**2
    extra = pd.DataFrame([
        {"model": "first_stage", "outcome": spec.regressor, "term": "F", "estimate": f_iid,
         "statistic": f_iid, "p_value": stats.f.sf(f_iid, 1, df_resid), "nobs": int(fs_iid._N),
         "se_type": f"iid first-stage F(1, {df_resid})"},
        {"model": "first_stage", "outcome": spec.regressor, "term": "effective_F",
         "estimate": f_eff, "statistic": f_eff, "p_value": stats.f.sf(f_eff, 1, g - 1),
         "nobs": int(fs_iid._N),
         "se_type": f"Montiel Olea-Pflueger effective F = clustered t^2 (one instrument), {se_type}"},
    ])
    first = pd.concat([first, extra], ignore_index=True)[COLUMNS]
    warn = []
    if min(f_iid, f_eff) < weak_f:
        warn.append(f"first stage: weak instrument (F = {f_iid:.1f}, effective F = {f_eff:.1f} "
                    f"< {weak_f:g})")
    st = {"nobs": int(fit._N), "n_clusters": g, "r2_within": float(fit._r2_within),
          "r2_lsdv": float(fit._r2)}
    fst = {"nobs": int(fs_fit._N), "n_clusters": g, "r2_within": float(fs_fit._r2_within),
           "r2_lsdv": float(fs_fit._r2), "F": f_iid, "effective_F": f_eff}
    return (BaselineResult("iv2sls", outcome, second, st, tuple(warn)),
            BaselineResult("first_stage", spec.regressor, first, fst, tuple(warn)))


def winsorise(frame: pd.DataFrame, columns: Sequence[str], *, level: float = 0.01) -> pd.DataFrame:
    """Clip each column at its ``level`` and ``1 - level`` quantiles over all rows, both sides.

    Quantiles use the inverted empirical CDF with averaging at ties (Hyndman-Fan type 2), the
    definition of Stata's ``_pctile`` that ``winsor2`` calls.
    """
    out = frame.copy()
    for col in columns:
        lo, hi = np.quantile(out[col].to_numpy(float), [level, 1 - level],
                             method="averaged_inverted_cdf")
        out[col] = out[col].clip(lo, hi)
    return out


def fit_winsor(frame: pd.DataFrame, spec: PanelSpec, outcome: str, *, level: float = 0.01,
               vcov: str = "cluster") -> BaselineResult:
    """``twfe`` after winsorising the outcome, regressor and controls at ``level`` both sides."""
    cols = [outcome, spec.regressor, *spec.controls]
    res = fit_twfe(winsorise(frame, cols, level=level), spec, outcome, vcov=vcov, model="winsor")
    rows = res.coefficients.assign(se_type=lambda d: d.se_type + f"; winsorised {level:.0%}")
    return BaselineResult("winsor", outcome, rows, res.stats, res.warnings)


def fit_pcse(frame: pd.DataFrame, spec: PanelSpec, outcome: str, *,
             ar1: bool = False) -> BaselineResult:
    """Two-way FE with Beck-Katz panel-corrected SEs (``pcse.pcse_twfe``), z statistics."""
    names = [spec.regressor, *spec.controls]
    res = pcse_twfe(frame[outcome].to_numpy(float), frame[names].to_numpy(float),
                    frame[spec.entity].to_numpy(), frame[spec.time].to_numpy(), names=names,
                    ar1=ar1)
    se = res.std_errors
    z = res.params / se
    q = stats.norm.ppf(0.5 + CI_LEVEL / 2)
    label = "PCSE Beck-Katz (contemporaneous, heteroskedastic by entity), z"
    if ar1:
        label += f"; common AR(1) Prais-Winsten, rho = {res.rho:.4f}"
    rows = pd.DataFrame({
        "model": "pcse", "outcome": outcome, "term": names, "estimate": res.params.to_numpy(),
        "std_error": se.to_numpy(), "statistic": z.to_numpy(),
        "p_value": 2 * stats.norm.sf(np.abs(z.to_numpy())),
        "ci_lower": (res.params - q * se).to_numpy(), "ci_upper": (res.params + q * se).to_numpy(),
        "nobs": res.nobs, "se_type": label})
    warn = []
    if res.rank_deficient:
        warn.append(f"pcse {outcome}: T = {res.n_periods} < N = {res.n_entities}, so the "
                    f"{res.n_entities} x {res.n_entities} contemporaneous covariance has rank at "
                    f"most {res.n_periods} and is singular; PCSEs rest on it all the same")
    return BaselineResult("pcse", outcome, rows[COLUMNS],
                          {"nobs": res.nobs, "rho": res.rho}, tuple(warn))


def fit_split(frame: pd.DataFrame, spec: PanelSpec, outcome: str, *,
              vcov: str = "cluster") -> list[BaselineResult]:
    """``twfe`` within each level of the group column, each with its own clustered SEs."""
    if spec.group is None:
        raise ValueError("split needs a group column")
    out = []
    for level, sub in frame.groupby(spec.group, sort=True):
        out.append(fit_twfe(sub, spec, outcome, vcov=vcov, model=f"split:{level}"))
    return out


def _split_slope(y: np.ndarray, x: np.ndarray, ent: np.ndarray, per: np.ndarray) -> float:
    dm = demean_twoway(np.column_stack([y, x]), ent, per)
    return float(np.linalg.lstsq(dm[:, 1:], dm[:, 0], rcond=None)[0][0])


def fit_gap(frame: pd.DataFrame, spec: PanelSpec, outcome: str, *, reference: str | None = None,
            permutations: int = 2000, seed: int = SEED, vcov: str = "cluster",
            splits: list[BaselineResult] | None = None) -> BaselineResult:
    """Tests of the difference between group slopes, which "significant in both groups" is not.

    For each non-reference level L (gap = slope in L minus slope in the reference):

    - ``interaction``: pooled TWFE with regressor x level dummies; only the slope differs between
      groups (year effects and controls are common), clustered SE;
    - ``paternoster``: ``(b_L - b_ref) / sqrt(se_L^2 + se_ref^2)`` from the two split fits
      (independent groups), normal p value;
    - ``permutation``: whole entities reassigned between the two groups keeping their sizes, the
      split-fit difference recomputed ``permutations`` times; two-sided p = (1 + #{|d*| >= |d|}) /
      (1 + B); the SE column holds the SD of the permutation distribution.
    """
    if spec.group is None:
        raise ValueError("gap needs a group column")
    levels = sorted(frame[spec.group].unique())
    if len(levels) < 2:
        raise ValueError(f"gap needs at least two levels of '{spec.group}', found {levels}")
    ref = reference if reference is not None else levels[0]
    if ref not in levels:
        raise ValueError(f"reference level {ref!r} is not among {levels}")
    others = [lv for lv in levels if lv != ref]
    splits = splits or fit_split(frame, spec, outcome, vcov=vcov)
    by_level = {s.model.split(":", 1)[1]: s for s in splits}

    d = frame.copy()
    inter_names = {}
    for lv in others:
        name = f"{spec.regressor}:{lv}"
        d[name] = d[spec.regressor] * (d[spec.group] == lv)
        inter_names[lv] = name
    fit, back = _feols(d, spec, outcome, [spec.regressor, *inter_names.values(), *spec.controls],
                       vcov=vcov)
    g = int(d[spec.entity].nunique())
    inter = _pyfixest_rows(fit, back, model="gap", outcome=outcome,
                           se_type=_se_label(vcov, spec.entity, g)
                           + "; slope-only interaction (common year effects and controls)")

    rng = np.random.default_rng(seed)
    rows = []
    q = stats.norm.ppf(0.5 + CI_LEVEL / 2)
    for lv in others:
        label = f"{lv} - {ref}"
        r = inter[inter.term == inter_names[lv]].iloc[0].to_dict()
        r["term"] = f"{label} (interaction)"
        rows.append(r)

        a = _ai_row(by_level[ref], spec.regressor)
        b = _ai_row(by_level[lv], spec.regressor)
        diff = b["estimate"] - a["estimate"]
        se = float(np.hypot(a["std_error"], b["std_error"]))
        z = diff / se
        rows.append({"model": "gap", "outcome": outcome, "term": f"{label} (paternoster)",
                     "estimate": diff, "std_error": se, "statistic": z,
                     "p_value": 2 * stats.norm.sf(abs(z)), "ci_lower": diff - q * se,
                     "ci_upper": diff + q * se, "nobs": int(a["nobs"] + b["nobs"]),
                     "se_type": "Paternoster z from the split fits' SEs (independent groups)"})

        pair = d[d[spec.group].isin([ref, lv])]
        ents = pair[spec.entity].to_numpy()
        unique_ents, codes = np.unique(ents, return_inverse=True)
        is_lv = pair.groupby(spec.entity)[spec.group].first().reindex(unique_ents).eq(lv).to_numpy()
        y = pair[outcome].to_numpy(float)
        x = pair[[spec.regressor, *spec.controls]].to_numpy(float)
        per = pair[spec.time].to_numpy()
        obs = _perm_stat(y, x, codes, per, is_lv)
        draws = np.empty(permutations)
        for k in range(permutations):
            draws[k] = _perm_stat(y, x, codes, per, rng.permutation(is_lv))
        p = (1 + np.sum(np.abs(draws) >= abs(obs) - 1e-12)) / (1 + permutations)
        sd = float(draws.std(ddof=1))
        rows.append({"model": "gap", "outcome": outcome, "term": f"{label} (permutation)",
                     "estimate": obs, "std_error": sd, "statistic": obs / sd, "p_value": p,
                     "ci_lower": np.nan, "ci_upper": np.nan, "nobs": len(pair),
                     "se_type": f"permutation of whole entities between groups, B = "
                                f"{permutations}, seed {seed}; SE = SD of permuted differences"})
    warn = [w for s in splits for w in s.warnings]
    return BaselineResult("gap", outcome, pd.DataFrame(rows)[COLUMNS],
                          {"reference": ref, "permutations": permutations}, tuple(warn))


def _ai_row(res: BaselineResult, regressor: str) -> dict:
    return res.coefficients[res.coefficients.term == regressor].iloc[0].to_dict()


def _perm_stat(y, x, codes, per, is_lv) -> float:
    in_lv = is_lv[codes]
    b1 = _split_slope(y[in_lv], x[in_lv], codes[in_lv], per[in_lv])
    b0 = _split_slope(y[~in_lv], x[~in_lv], codes[~in_lv], per[~in_lv])
    return b1 - b0
