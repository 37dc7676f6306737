"""Prior and posterior predictive checks, LOO and LOO-PIT, and the plots the report shows.

The effects-projected models predict the projected outcome ``My``; on the outcome's own scale a
replicate is ``y - (My - M X b) + sigma * (P z1 + z2)`` with ``P = I - M``: the fitted effects
``P (y - X b)`` plus the effects' own posterior noise (flat priors) plus the error. The robust model
predicts the raw outcome directly.
"""

from __future__ import annotations

import warnings

import arviz as az
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pymc as pm  # noqa: E402
import xarray as xr  # noqa: E402

from cpai_bayes.bayes import Design, period_slots  # noqa: E402
from cpai_bayes.constants import HDI_PROB  # noqa: E402

__all__ = ["mean_projected", "predictive_raw", "prior_predictive", "add_posterior_predictive",
           "plot_ppc", "plot_trajectories", "plot_group_statistic", "plot_loo_pit",
           "plot_prior_predictive", "loo_compare", "plot_forest", "plot_gap"]


def _stack(post: xr.Dataset, var: str) -> np.ndarray:
    v = post[var]
    return v.stack(sample=("chain", "draw")).transpose("sample", ...).values


def mean_projected(design: Design, post: xr.Dataset) -> np.ndarray:
    """``M X b`` per posterior (or prior) sample: (samples, n)."""
    gamma = _stack(post, "gamma") if "gamma" in post else np.zeros((1, 0))
    ctrl = gamma @ design.mz.T if gamma.size else 0.0
    if "slope" in post:
        return _stack(post, "slope") @ design.mx_entity.T + ctrl
    beta = _stack(post, "beta")
    return beta[:, None] * design.mx[None, :] + ctrl


def _robust_mean(design: Design, post: xr.Dataset) -> np.ndarray:
    alpha = _stack(post, "alpha")
    delta = _stack(post, "delta")
    _, slot = period_slots(design)
    delta_full = np.concatenate([delta, np.zeros((delta.shape[0], 1))], axis=1)[:, slot]
    return (alpha[:, design.entity_idx] + delta_full[:, design.fe_second]
            + mean_projected(design, post))


def predictive_raw(design: Design, post: xr.Dataset, *, draws: int = 200,
                   seed: int = 0) -> np.ndarray:
    """Replicates of the outcome on its own scale, (draws, n)."""
    rng = np.random.default_rng(seed)
    total = post.sizes["chain"] * post.sizes["draw"]
    pick = rng.choice(total, size=min(draws, total), replace=False)
    sub = post.stack(sample=("chain", "draw")).isel(sample=pick)
    sub = sub.drop_vars(["sample", "chain", "draw"]).rename({"sample": "draw"})
    sub = sub.assign_coords(draw=np.arange(len(pick))).expand_dims(chain=[0])
    sigma = _stack(sub, "sigma")[:, None]
    if "alpha" in sub:  # robust: raw scale, Student-t, entity scales
        mu = _robust_mean(design, sub)
        scale = _stack(sub, "sigma_entity")[:, design.entity_idx]
        nu = _stack(sub, "nu")[:, None]
        return mu + scale * rng.standard_t(nu, size=mu.shape)
    mu = mean_projected(design, sub)
    z1 = rng.standard_normal((design.n, len(pick)))
    pz1 = (z1 - design.project(z1)).T
    fitted = design.y[None, :] - (design.my[None, :] - mu)
    return fitted + sigma * (pz1 + rng.standard_normal(mu.shape))


def add_posterior_predictive(design: Design, idata: az.InferenceData, *, seed: int = 0) -> None:
    """Posterior predictive of the modelled (projected) outcome for every draw, matching the
    pointwise likelihood used by LOO, stored as ``posterior_predictive.y``."""
    post = idata.posterior
    rng = np.random.default_rng(seed)
    if "alpha" in post:
        mu = _robust_mean(design, post)
        scale = _stack(post, "sigma_entity")[:, design.entity_idx]
        y = mu + scale * rng.standard_t(_stack(post, "nu")[:, None], size=mu.shape)
        observed = design.y
    else:
        mu = mean_projected(design, post)
        sigma = _stack(post, "sigma")[:, None]
        if "rho_errors" in post:  # IV: the outcome given the first stage
            sigma = sigma * np.sqrt(1 - _stack(post, "rho_errors")[:, None] ** 2)
            mu = mu + (_stack(post, "rho_errors") * _stack(post, "sigma")
                       / _stack(post, "sigma_first_stage"))[:, None] * (
                design.mx[None, :] - _first_stage_mean(design, post))
        y = mu + sigma * rng.standard_normal(mu.shape)
        observed = design.my
    c, d = post.sizes["chain"], post.sizes["draw"]
    da = xr.DataArray(y.reshape(c, d, -1), dims=("chain", "draw", "obs"),
                      coords={"chain": post.chain, "draw": post.draw, "obs": np.arange(design.n)})
    for group in ("posterior_predictive", "observed_data"):
        if group in idata.groups():
            del idata[group]
    idata.add_groups(posterior_predictive=xr.Dataset({"y": da}),
                     observed_data=xr.Dataset({"y": ("obs", observed)},
                                              coords={"obs": np.arange(design.n)}))


def _first_stage_mean(design: Design, post: xr.Dataset) -> np.ndarray:
    pi = _stack(post, "pi")
    pz = _stack(post, "pi_z") if "pi_z" in post else np.zeros((len(pi), 0))
    base = pz @ design.mz.T if pz.size else 0.0
    return pi[:, None] * design.instrument[None, :] + base


def prior_predictive(model: pm.Model, design: Design, *, draws: int = 300,
                     seed: int = 0) -> tuple[xr.Dataset, np.ndarray]:
    """Draws of the parameters from the prior and the outcome replicates they imply (projected
    scale; raw scale for the robust model). Potentials (the marginal likelihoods) are ignored, as a
    prior must."""
    free = [v.name for v in model.free_RVs]
    import logging

    logging.getLogger("pymc").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = pm.sample_prior_predictive(draws=draws, model=model, var_names=free,
                                           random_seed=seed).prior
    rng = np.random.default_rng(seed)
    if "tau" in prior:
        centre = (prior["beta_region"].values[..., design.entity_group] if "beta_region" in prior
                  else np.repeat(prior["beta"].values[..., None], len(design.entities), -1))
        u = rng.standard_normal(centre.shape)
        prior["slope"] = (("chain", "draw", "entity"),
                          centre + prior["tau"].values[..., None] * u)
    if "alpha" in prior:
        prior["sigma_entity"] = prior["sigma"] * np.exp(prior["scale_dev"])
        mu = _robust_mean(design, prior)
        scale = _stack(prior, "sigma_entity")[:, design.entity_idx]
        return prior, mu + scale * rng.standard_t(_stack(prior, "nu")[:, None], size=mu.shape)
    mu = mean_projected(design, prior)
    return prior, mu + _stack(prior, "sigma")[:, None] * rng.standard_normal(mu.shape)


# --------------------------------------------------------------------------------------------
# plots: each returns the figure; the caller saves it


def plot_prior_predictive(observed: np.ndarray, reps: np.ndarray, *, title: str):
    """Prior replicates against the observed outcome (within-transformed for the projected
    models): the spread of each replicate on a log scale, and a few replicate histograms."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    sd_rep = reps.std(axis=1)
    axes[0].hist(np.log10(sd_rep[sd_rep > 0]), bins=40, color="#8fa8c8")
    axes[0].axvline(np.log10(observed.std()), color="k", lw=2, label="observed")
    axes[0].set_xlabel("log10 SD of a prior replicate")
    axes[0].legend()
    lo, hi = np.quantile(reps, [0.03, 0.97])
    for r in reps[:60]:
        axes[1].hist(r, bins=40, range=(lo, hi), histtype="step", color="#8fa8c8", alpha=0.3)
    axes[1].hist(observed, bins=40, range=(lo, hi), histtype="step", color="k", lw=2)
    axes[1].set_xlabel("prior replicates (blue) vs observed (black)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_ppc(design: Design, reps: np.ndarray, *, title: str):
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    lo, hi = np.quantile(np.r_[design.y, reps[:50].ravel()], [0.001, 0.999])
    grid = np.linspace(lo, hi, 200)
    for r in reps[:80]:
        ax.plot(grid, _kde(r, grid), color="#8fa8c8", alpha=0.25, lw=0.8)
    ax.plot(grid, _kde(design.y, grid), color="k", lw=2, label="observed")
    ax.set_xlabel(design.outcome)
    ax.set_ylabel("density")
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _kde(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    from scipy.stats import gaussian_kde

    return gaussian_kde(x)(grid)


def plot_trajectories(design: Design, reps: np.ndarray, *, title: str):
    n_ent = len(design.entities)
    cols = 6
    rows = int(np.ceil(n_ent / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(13, 1.9 * rows), sharex=True)
    lo, hi = np.quantile(reps, [(1 - HDI_PROB) / 2, (1 + HDI_PROB) / 2], axis=0)
    periods = np.asarray(design.periods)
    for j, ax in enumerate(np.ravel(axes)):
        if j >= n_ent:
            ax.axis("off")
            continue
        rows_j = design.entity_idx == j
        t = periods[design.time_idx[rows_j]]
        ax.fill_between(t, lo[rows_j], hi[rows_j], color="#8fa8c8", alpha=0.6)
        ax.plot(t, design.y[rows_j], "k.-", lw=1, ms=3)
        ax.set_title(design.entities[j], fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"{title}: observed (black) and {HDI_PROB:.0%} predictive band")
    fig.tight_layout()
    return fig


def group_statistic(design: Design, reps: np.ndarray) -> pd.DataFrame:
    """Within-group SD of the year-on-year change of the outcome: observed vs replicated, with the
    posterior predictive p value P(T(rep) >= T(obs)) per group."""
    rows = []
    prev = np.r_[-1, np.arange(design.n - 1)]
    same = np.r_[False, design.entity_idx[1:] == design.entity_idx[:-1]]
    for g, name in enumerate(design.groups):
        sel = same & (design.group_idx == g)
        t_obs = np.std(design.y[sel] - design.y[prev[sel]])
        t_rep = np.std(reps[:, sel] - reps[:, prev[sel]], axis=1)
        rows.append({"group": name, "T_observed": t_obs, "T_rep_mean": t_rep.mean(),
                     "p_value": float(np.mean(t_rep >= t_obs)), "T_rep": t_rep})
    return pd.DataFrame(rows)


def plot_group_statistic(design: Design, reps: np.ndarray, *, title: str):
    table = group_statistic(design, reps)
    fig, axes = plt.subplots(1, len(table), figsize=(4 * len(table), 3.2), squeeze=False)
    for ax, (_, r) in zip(axes[0], table.iterrows(), strict=False):
        ax.hist(r["T_rep"], bins=30, color="#8fa8c8")
        ax.axvline(r["T_observed"], color="k", lw=2)
        ax.set_title(f"{r['group']}: p = {r['p_value']:.2f}", fontsize=9)
        ax.set_xlabel("SD of year-on-year change")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loo_pit(idata: az.InferenceData, *, title: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = az.plot_loo_pit(idata, y="y", ecdf=True)
    fig = np.ravel(ax)[0].figure
    fig.suptitle(title)
    return fig


def loo_compare(fits: dict[str, az.InferenceData]) -> pd.DataFrame:
    """PSIS-LOO comparison (arviz) of fits of the same projected outcome."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.compare(fits, ic="loo")
        for name, idata in fits.items():
            loo = az.loo(idata, pointwise=True)
            table.loc[name, "pareto_k_max"] = float(np.max(loo.pareto_k.values))
    return table.reset_index(names="model")


def plot_forest(coefs: pd.DataFrame, *, title: str):
    """Frequentist estimate and 95% CI beside posterior mean and 94% HDI, one row each."""
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(coefs) + 1.2))
    y = np.arange(len(coefs))[::-1]
    bayes = coefs["model"].str.startswith("bayes")
    colours = np.where(bayes, "#c0392b", "#34495e")
    for yi, (_, r), col in zip(y, coefs.iterrows(), colours, strict=True):
        ax.plot([r["ci_lower"], r["ci_upper"]], [yi, yi], color=col, lw=2)
        marker = "o" if col == "#34495e" else "D"
        face = col if r.get("converged", True) is not False else "white"
        ax.plot(r["estimate"], yi, marker, color=col, mfc=face)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{r['model']} | {r['outcome']} | {r['term']}" +
                        ("  [NOT CONVERGED]" if r.get("converged", True) is False else "")
                        for _, r in coefs.iterrows()], fontsize=8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_title(title + "\nblack: estimate, 95% CI; red: posterior mean, 94% HDI", fontsize=9)
    fig.tight_layout()
    return fig


def plot_gap(draws: np.ndarray, *, rope: float, label: str, paternoster: tuple | None = None,
             converged: bool = True):
    """Posterior of the gap with its 94% HDI, the ROPE and P(gap > 0); the normal approximation
    from the split fits (Paternoster) overlaid when given."""
    g = np.ravel(draws)
    lo, hi = az.hdi(g, hdi_prob=HDI_PROB)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.hist(g, bins=60, density=True, color="#c0392b", alpha=0.5, label="posterior")
    ax.axvspan(-rope, rope, color="grey", alpha=0.2, label=f"ROPE +/-{rope:g}")
    ax.plot([lo, hi], [0, 0], color="k", lw=5, solid_capstyle="butt",
            label=f"{HDI_PROB:.0%} HDI [{lo:.3f}, {hi:.3f}]")
    if paternoster is not None:
        m, s = paternoster
        grid = np.linspace(g.min(), g.max(), 200)
        ax.plot(grid, np.exp(-0.5 * ((grid - m) / s) ** 2) / (s * np.sqrt(2 * np.pi)), "k--",
                label="normal approx. from split fits")
    flag = "" if converged else "  [NOT CONVERGED]"
    ax.set_title(f"{label}: P(gap > 0) = {np.mean(g > 0):.3f}{flag}", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
