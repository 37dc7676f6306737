"""Bayesian two-way-effects models (PyMC), with the fixed effects projected out.

Why projection (../shared/METHODS.md, "Fixed effects, Bayesian"): with flat priors on the entity
and period effects and Gaussian errors, integrating the effects out leaves the likelihood of the
remaining parameters ``b`` as ``sigma^-(n - r) exp(-(y - Xb)' M (y - Xb) / 2 sigma^2)``, with ``M`` the
projection that removes the effects and ``r`` their rank. So each model here is a regression of
``My`` on ``MX``, plus a ``Potential`` of ``r log sigma`` that restores the ``n - r`` degrees of
freedom. That is exact for *any* design ``X`` (region slopes, province slope deviations,
interactions), it is what FE estimates, and it removes the funnel between effects and slopes that
makes the explicit-effects version diverge. A random-effects model is not FE and is not offered as
its replication.

Models
------
``twfe``
    Common AI slope and control slopes: the Bayesian Table 4.
``region_slopes``
    ``slope_i = beta_region[r(i)] + tau * u_i``, ``u_i ~ N(0, 1)`` (non-centred): a slope per
    province, partially pooled towards its region's slope. With only two regions a variance across
    regions is not identified, so there is none: each region slope has its own weakly informative
    prior, and the pooling scale ``tau`` is learnt across the provinces within regions. The gap
    (each region minus the reference) is a deterministic of the posterior. Period effects are
    region-specific by default, as in the paper's split regressions (Table 7).
``province_slopes``
    The same with a single common mean slope: for the LOO comparison.
``iv``
    First stage (AI on its lag) and outcome equation jointly, errors bivariate normal with an LKJ
    prior on their correlation; both equations have the effects projected out (same regressors in
    both, so the projection is exact for the system) and the Potential uses ``r/2 log|Sigma|``.
``robust``
    Student-t errors, entity-specific error scales, optional AR(1) errors within entity. The
    effects do not integrate out under a Student-t likelihood, so they are explicit parameters with
    wide normal priors (still fixed effects: no pooling, no variance to learn).

Priors are weakly informative and scaled to the data (``DEFAULT_PRIORS``): slopes
``Normal(0, beta_scale * sd(My) / sd(MX_k))``, ``sigma ~ HalfNormal(sigma_scale * sd(My))``,
``tau ~ HalfNormal(tau_scale * sd(My) / sd(MX_AI))``. Any key can be overridden from a spec's
``[bayes.priors]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from cpai_bayes.pcse import demean_twoway
from cpai_bayes.schema import PanelSpec

__all__ = ["DEFAULT_PRIORS", "MODELS", "Design", "make_design", "build_model"]

DEFAULT_PRIORS: dict[str, float] = {
    "beta_scale": 2.5,    # slope prior SD, in units of sd(My)/sd(MX_k)
    "sigma_scale": 1.0,   # HalfNormal scale of sigma, in units of sd(My)
    "tau_scale": 0.5,     # HalfNormal scale of the province slope SD, in units of the AI slope scale
    "nu_alpha": 2.0,      # Student-t degrees of freedom ~ Gamma(alpha, beta) (Juarez and Steel)
    "nu_beta": 0.1,
    "lkj_eta": 2.0,       # LKJ concentration for the IV error correlation
    "effect_scale": 10.0,  # explicit effects (robust model): Normal(0, effect_scale * sd(y))
    "scale_sd": 0.5,      # entity log-scale deviations (robust model): Normal(0, scale_sd)
}

MODELS = ("twfe", "region_slopes", "province_slopes", "iv", "robust")


@dataclass(frozen=True)
class Design:
    """One outcome's data, prepared for every model: raw and projected arrays, labels, indices.

    Attributes
    ----------
    y, x, z
        Outcome, regressor and controls as in the data.
    my, mx, mz
        The same with the entity and period effects projected out.
    mx_entity
        Projected columns ``x * 1[entity = j]`` (n x N), for province slopes.
    rank
        Rank of the effects' design (entities + periods - 1 when connected).
    entity_idx, group_idx, time_idx
        Integer codes per row.
    entities, groups, periods
        Their labels; ``entity_group`` is each entity's group code.
    period_effects
        ``"common"`` or ``"group"`` (region-specific period effects).
    """

    outcome: str
    regressor: str
    controls: tuple[str, ...]
    y: np.ndarray
    x: np.ndarray
    z: np.ndarray
    my: np.ndarray
    mx: np.ndarray
    mz: np.ndarray
    mx_entity: np.ndarray
    rank: int
    entity_idx: np.ndarray
    time_idx: np.ndarray
    group_idx: np.ndarray
    entities: list[str]
    periods: list
    groups: list[str]
    entity_group: np.ndarray
    period_effects: str
    fe_second: np.ndarray = field(repr=False, default=None)
    instrument: np.ndarray | None = field(repr=False, default=None)

    @property
    def n(self) -> int:
        return len(self.y)

    def project(self, values: np.ndarray) -> np.ndarray:
        """Remove the entity and period effects from ``values`` (n,) or (n, k)."""
        out = demean_twoway(values, self.entity_idx, self.fe_second, tol=1e-13)
        return out[:, 0] if np.ndim(values) == 1 else out


def make_design(frame: pd.DataFrame, spec: PanelSpec, outcome: str, *,
                period_effects: str = "group", group: str | None = None) -> Design:
    """Prepare one outcome of a validated panel for the Bayesian models.

    ``period_effects="group"`` gives each level of the group column its own period effects (the
    split regressions of Table 7 in one model); ``"common"`` one set for all.
    """
    group = group if group is not None else spec.group
    if period_effects not in ("common", "group"):
        raise ValueError(f"period_effects must be 'common' or 'group', got {period_effects!r}")
    if period_effects == "group" and group is None:
        raise ValueError("period_effects='group' needs a group column")
    d = frame.sort_values([spec.entity, spec.time]).reset_index(drop=True)
    ent_idx, entities = pd.factorize(d[spec.entity], sort=True)
    time_idx, periods = pd.factorize(d[spec.time], sort=True)
    if group is not None:
        grp_idx, groups = pd.factorize(d[group], sort=True)
    else:
        grp_idx, groups = np.zeros(len(d), dtype=int), pd.Index(["all"])
    second = time_idx if period_effects == "common" else grp_idx * len(periods) + time_idx
    y = d[outcome].to_numpy(float)
    x = d[spec.regressor].to_numpy(float)
    z = d[list(spec.controls)].to_numpy(float).reshape(len(d), -1)
    n_ent = len(entities)
    x_ent = np.zeros((len(d), n_ent))
    x_ent[np.arange(len(d)), ent_idx] = x
    proj = demean_twoway(np.column_stack([y, x, z, x_ent]), ent_idx, second, tol=1e-13)
    k = z.shape[1]
    fe = np.column_stack([np.eye(n_ent)[ent_idx], np.eye(second.max() + 1)[second]])
    entity_group = np.zeros(n_ent, dtype=int)
    entity_group[ent_idx] = grp_idx
    return Design(
        outcome=outcome, regressor=spec.regressor, controls=tuple(spec.controls),
        y=y, x=x, z=z, my=proj[:, 0], mx=proj[:, 1], mz=proj[:, 2:2 + k],
        mx_entity=proj[:, 2 + k:], rank=int(np.linalg.matrix_rank(fe)),
        entity_idx=ent_idx, time_idx=time_idx, group_idx=grp_idx,
        entities=[str(e) for e in entities], periods=list(periods),
        groups=[str(g) for g in groups], entity_group=entity_group,
        period_effects=period_effects, fe_second=second,
    )


def _scales(design: Design, priors: dict) -> dict:
    sy = float(np.std(design.my))
    sx = float(np.std(design.mx))
    sz = np.std(design.mz, axis=0) if design.mz.size else np.ones(0)
    sz = np.where(sz > 0, sz, 1.0)
    return {"sy": sy, "beta_x": priors["beta_scale"] * sy / sx,
            "beta_z": priors["beta_scale"] * sy / sz, "sigma": priors["sigma_scale"] * sy,
            "tau": priors["tau_scale"] * priors["beta_scale"] * sy / sx}


def _coords(design: Design) -> dict:
    return {"obs": np.arange(design.n), "control": list(design.controls),
            "entity": design.entities, "region": design.groups}


def build_model(design: Design, model: str, *, priors: dict | None = None,
                reference: str | None = None, ar1: bool = False,
                instrument: np.ndarray | None = None,
                parameterisation: str = "marginal") -> pm.Model:
    """Build one of ``MODELS`` for a prepared design.

    Parameters
    ----------
    design
        From ``make_design``.
    model
        ``twfe``, ``region_slopes``, ``province_slopes``, ``iv`` or ``robust``.
    priors
        Overrides of ``DEFAULT_PRIORS``, key by key.
    reference
        Reference group for the gap (default: the first in sort order).
    ar1
        AR(1) errors within entity (``robust`` only).
    instrument
        Projected instrument values (``iv`` only; the design must already be restricted to the rows
        that have a lag).
    parameterisation
        Slope models: ``"marginal"`` (province deviations integrated out analytically, drawn
        afterwards from their conditional posterior by ``province_slope_draws``; default) or
        ``"noncentred"`` (explicit ``u``; the naive version, kept for benchmarks).
    """
    priors = {**DEFAULT_PRIORS, **(priors or {})}
    unknown = set(priors) - set(DEFAULT_PRIORS)
    if unknown:
        raise ValueError(f"unknown prior keys {sorted(unknown)} (allowed: {sorted(DEFAULT_PRIORS)})")
    s = _scales(design, priors)
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r} (allowed: {', '.join(MODELS)})")
    with pm.Model(coords=_coords(design)) as m:
        if model == "iv":
            if instrument is None:
                raise ValueError("the iv model needs the projected instrument")
            _iv(design, s, priors, instrument)
        elif model == "robust":
            _robust(design, s, priors, ar1)
        elif model == "twfe":
            _twfe(design, s)
        else:
            if parameterisation not in ("marginal", "noncentred"):
                raise ValueError("parameterisation must be 'marginal' or 'noncentred'")
            _slopes(design, s, by_region=model == "region_slopes", reference=reference,
                    parameterisation=parameterisation)
    m.name_model = model  # type: ignore[attr-defined]
    return m


def _controls_term(design: Design, s: dict):
    if not design.controls:
        return 0.0
    gamma = pm.Normal("gamma", 0.0, s["beta_z"], dims="control")
    return pt.dot(design.mz, gamma)


def _gaussian_likelihood(design: Design, mu, s: dict) -> None:
    sigma = pm.HalfNormal("sigma", s["sigma"])
    pm.Normal("y", mu, sigma, observed=design.my, dims="obs")
    # integrating out flat entity and period effects leaves n - r degrees of freedom for sigma
    pm.Potential("fe_dof", design.rank * pt.log(sigma))


def _twfe(design: Design, s: dict) -> None:
    beta = pm.Normal("beta", 0.0, s["beta_x"])
    _gaussian_likelihood(design, beta * design.mx + _controls_term(design, s), s)


def _slopes(design: Design, s: dict, *, by_region: bool, reference: str | None,
            parameterisation: str = "marginal") -> None:
    if by_region:
        beta_region = pm.Normal("beta_region", 0.0, s["beta_x"], dims="region")
        centre = beta_region[design.entity_group]
        ref = design.groups.index(reference) if reference is not None else 0
        others = [g for i, g in enumerate(design.groups) if i != ref]
        if others:
            idx = [design.groups.index(g) for g in others]
            m = pm.modelcontext(None)
            m.add_coord("contrast", [f"{g} - {design.groups[ref]}" for g in others])
            pm.Deterministic("gap", beta_region[idx] - beta_region[ref], dims="contrast")
    else:
        centre = pm.Normal("beta", 0.0, s["beta_x"])
    tau = pm.HalfNormal("tau", s["tau"])
    mean_slope = pt.ones(len(design.entities)) * centre
    mu = pt.dot(design.mx_entity, mean_slope) + _controls_term(design, s)
    if parameterisation == "noncentred":
        u = pm.Normal("u", 0.0, 1.0, dims="entity")
        pm.Deterministic("slope", mean_slope + tau * u, dims="entity")
        _gaussian_likelihood(design, mu + pt.dot(design.mx_entity, tau * u), s)
        return
    # Province deviations d = tau * u marginalised: My ~ N(mu, sigma^2 I + tau^2 A A') on the
    # n - r dimensional space left by the effects, A = M X_entity. With A'A = Q diag(lam) Q'
    # (constant, decomposed once) and c = Q'A'r, Woodbury and the determinant lemma give
    # r' S^-1 r = (r'r - sum_j k c_j^2 / (1 + k lam_j)) / sigma^2 and
    # log|S| = (n - r) log sigma^2 + sum_j log(1 + k lam_j), with k = tau^2 / sigma^2.
    sigma = pm.HalfNormal("sigma", s["sigma"])
    a = design.mx_entity
    lam, q = np.linalg.eigh(a.T @ a)
    lam = np.clip(lam, 0.0, None)
    proj = q.T @ a.T  # N x n
    r = design.my - mu
    c = pt.dot(proj, r)
    k = tau**2 / sigma**2
    quad = (pt.dot(r, r) - pt.sum(k * c**2 / (1 + k * lam))) / sigma**2
    dof = design.n - design.rank
    logdet = dof * pt.log(sigma**2) + pt.sum(pt.log1p(k * lam))
    pm.Potential("y_marginal", -0.5 * (quad + logdet + dof * np.log(2 * np.pi)))


def _iv(design: Design, s: dict, priors: dict, instrument: np.ndarray) -> None:
    sx = float(np.std(design.mx))
    pi = pm.Normal("pi", 0.0, priors["beta_scale"] * sx / float(np.std(instrument)))
    pi_z = (pm.Normal("pi_z", 0.0, priors["beta_scale"] * sx / np.std(design.mz, axis=0),
                      dims="control") if design.controls else 0.0)
    beta = pm.Normal("beta", 0.0, s["beta_x"])
    gamma = _controls_term(design, s)
    # LKJ(eta) on a 2 x 2 correlation matrix is r = 2 * Beta(eta, eta) - 1; written out so that
    # nutpie can initialise it (its numba backend fails on LKJCholeskyCov's random initial point)
    sigma_y = pm.HalfNormal("sigma", s["sigma"])
    sigma_x = pm.HalfNormal("sigma_first_stage", priors["sigma_scale"] * sx)
    r01 = pm.Beta("r01", priors["lkj_eta"], priors["lkj_eta"])
    rho_e = pm.Deterministic("rho_errors", 2 * r01 - 1)
    mu_y = beta * design.mx + gamma
    mu_x = pi * instrument + (pt.dot(design.mz, pi_z) if design.controls else 0.0)
    # the bivariate normal factored as first stage x outcome given first stage (elementwise, so
    # cheap, and the outcome's pointwise log-likelihood is what LOO gets)
    pm.Normal("first_stage", mu_x, sigma_x, observed=design.mx, dims="obs")
    cond_mu = mu_y + rho_e * sigma_y / sigma_x * (design.mx - mu_x)
    pm.Normal("y", cond_mu, sigma_y * pt.sqrt(1 - rho_e**2), observed=design.my, dims="obs")
    # n - r degrees of freedom for the 2 x 2 error covariance: (r/2) log|Sigma|
    pm.Potential("fe_dof", design.rank * (pt.log(sigma_y) + pt.log(sigma_x)
                                          + 0.5 * pt.log(1 - rho_e**2)))


def period_slots(design: Design) -> tuple[int, np.ndarray]:
    """Number of period-effect sets and, for each (set, period) code, its position in the free
    period effects; each set's first period points at a trailing zero slot (the baseline)."""
    n_t = len(design.periods)
    n_sets = int(design.fe_second.max()) // n_t + 1
    slot = np.full(n_sets * n_t, n_sets * (n_t - 1))
    for g in range(n_sets):
        slot[g * n_t + 1:(g + 1) * n_t] = np.arange(g * (n_t - 1), (g + 1) * (n_t - 1))
    return n_sets, slot


def _robust(design: Design, s: dict, priors: dict, ar1: bool) -> None:
    m = pm.modelcontext(None)
    # period effects: one set per group when period_effects == "group"; each group's first period
    # is the baseline (0), the other directions are identified against the entity effects
    n_sets, slot = period_slots(design)
    m.add_coord("period_effect", [f"{design.groups[g] if n_sets > 1 else 'all'}:{p}"
                                  for g in range(n_sets) for p in design.periods[1:]])
    sy_raw = float(np.std(design.y))
    alpha = pm.Normal("alpha", float(np.mean(design.y)), priors["effect_scale"] * sy_raw,
                      dims="entity")
    delta_free = pm.Normal("delta", 0.0, priors["effect_scale"] * sy_raw, dims="period_effect")
    delta = pt.concatenate([delta_free, pt.zeros(1)])[slot]
    beta = pm.Normal("beta", 0.0, s["beta_x"])
    gamma = (pm.Normal("gamma", 0.0, s["beta_z"], dims="control") if design.controls else 0.0)
    # regressors enter with the effects projected out: (I - M) X b lies in the span of the effects,
    # so this only relabels alpha and delta, and it makes the slopes orthogonal to the effects
    # (with raw X, persistent controls and the entity effects trade off and mix slowly)
    mu = (alpha[design.entity_idx] + delta[design.fe_second] + beta * design.mx
          + (pt.dot(design.mz, gamma) if design.controls else 0.0))
    sigma = pm.HalfNormal("sigma", s["sigma"])
    # deviations sum to zero, or sigma and their mean would trade off along a ridge
    log_dev = pm.ZeroSumNormal("scale_dev", sigma=priors["scale_sd"], dims="entity")
    sigma_i = pm.Deterministic("sigma_entity", sigma * pt.exp(log_dev), dims="entity")
    nu = pm.Gamma("nu", priors["nu_alpha"], priors["nu_beta"])
    scale = sigma_i[design.entity_idx]
    if not ar1:
        pm.StudentT("y", nu=nu, mu=mu, sigma=scale, observed=design.y, dims="obs")
        return
    rho = pm.Uniform("rho", -0.99, 0.99)
    resid = design.y - mu
    first = np.r_[True, design.entity_idx[1:] != design.entity_idx[:-1]]
    prev = np.r_[0, np.arange(design.n - 1)]
    innov = pt.where(first, resid * pt.sqrt(1 - rho**2), resid - rho * resid[prev])
    # Prais-Winsten: the first period of each entity has scale sigma / sqrt(1 - rho^2) (Jacobian)
    logp = (pm.logp(pm.StudentT.dist(nu=nu, mu=0.0, sigma=scale), innov)
            + pt.where(first, 0.5 * pt.log(1 - rho**2), 0.0))
    pm.Deterministic("log_lik_y", logp, dims="obs")
    pm.Potential("y_ar1", pt.sum(logp))


def province_slope_draws(design: Design, idata, *, seed: int) -> np.ndarray:
    """Draws of the province slopes of a marginalised slope model, from their exact conditional
    posterior ``d | rest ~ N(V A' r / sigma^2, V)``, ``V = (A'A / sigma^2 + I / tau^2)^-1``; returns
    (chain, draw, entity)."""
    post = idata.posterior
    rng = np.random.default_rng(seed)
    a = design.mx_entity
    kmat = a.T @ a
    n_ent = a.shape[1]
    if "beta_region" in post:
        centre = post["beta_region"].values[..., design.entity_group]
    else:
        centre = np.repeat(post["beta"].values[..., None], n_ent, axis=-1)
    gamma = post["gamma"].values if "gamma" in post else np.zeros(centre.shape[:2] + (0,))
    tau, sigma = post["tau"].values, post["sigma"].values
    out = np.empty(centre.shape)
    for c in range(centre.shape[0]):
        for k in range(centre.shape[1]):
            r = design.my - a @ centre[c, k] - design.mz @ gamma[c, k]
            prec = kmat / sigma[c, k] ** 2 + np.eye(n_ent) / max(tau[c, k], 1e-12) ** 2
            chol = np.linalg.cholesky(prec)
            mean = np.linalg.solve(prec, a.T @ r / sigma[c, k] ** 2)
            out[c, k] = centre[c, k] + mean + np.linalg.solve(chol.T, rng.standard_normal(n_ent))
    return out
