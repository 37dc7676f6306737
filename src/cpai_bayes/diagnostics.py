"""Sampling and convergence diagnostics: every reported posterior carries r_hat, bulk and tail ESS,
divergences and BFMI, and a ``converged`` flag against one gate."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from cpai_bayes.constants import SEED

__all__ = ["GATE", "sample", "diagnose", "Diagnostics", "SAMPLERS"]

GATE = {"r_hat": 1.01, "ess": 400, "divergences": 0}
"""Vehtari et al. (2021): r_hat <= 1.01, bulk and tail ESS >= 400, no divergent transitions."""

SAMPLERS = ("nutpie", "pymc")


def sample(model: pm.Model, *, draws: int = 1000, tune: int = 1000, chains: int = 4,
           seed: int = SEED, sampler: str = "nutpie", log_likelihood: bool = True,
           target_accept: float = 0.9, progress: bool = False) -> az.InferenceData:
    """Draw from a model's posterior and store the pointwise log-likelihood (for LOO).

    ``sampler="nutpie"`` (default; measured faster here, ``benchmarks/``) or ``"pymc"``. nutpie's
    unconstrained copies of bounded variables (``sigma_log__``) are dropped from the posterior.
    ``target_accept`` 0.9 here (not PyMC's 0.8); ``inference.TARGET_ACCEPT`` sets it per model.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if sampler == "nutpie":
            import nutpie

            compiled = nutpie.compile_pymc_model(model)
            idata = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains,
                                  cores=min(chains, 2), seed=seed, progress_bar=progress,
                                  target_accept=target_accept)
            drop = [v for v in idata.posterior.data_vars if v.endswith("__")]
            idata.posterior = idata.posterior.drop_vars(drop)
            if "warmup_posterior" in idata.groups():
                del idata["warmup_posterior"]
            if "warmup_sample_stats" in idata.groups():
                del idata["warmup_sample_stats"]
        else:
            with model:
                idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=min(chains, 2),
                                  random_seed=seed, progressbar=progress,
                                  target_accept=target_accept,
                                  compute_convergence_checks=False)
        if log_likelihood:
            _store_log_likelihood(model, idata)
    return idata


def _store_log_likelihood(model: pm.Model, idata: az.InferenceData) -> None:
    if "log_lik_y" in idata.posterior:  # likelihood written as a Potential (AR(1) errors)
        ll = idata.posterior["log_lik_y"].rename("y")
        idata.add_groups(log_likelihood=ll.to_dataset())
        idata.posterior = idata.posterior.drop_vars("log_lik_y")
        return
    if "y" not in model.named_vars:  # marginal likelihoods: the caller adds a pointwise one
        return
    with model:
        pm.compute_log_likelihood(idata, var_names=["y"], progressbar=False)


@dataclass(frozen=True)
class Diagnostics:
    """Convergence diagnostics of one fit."""

    table: pd.DataFrame  # per parameter: r_hat, ess_bulk, ess_tail
    divergences: int
    bfmi_min: float
    draws: int
    chains: int

    @property
    def r_hat_max(self) -> float:
        return float(self.table["r_hat"].max())

    @property
    def ess_bulk_min(self) -> float:
        return float(self.table["ess_bulk"].min())

    @property
    def ess_tail_min(self) -> float:
        return float(self.table["ess_tail"].min())

    @property
    def converged(self) -> bool:
        return bool(self.r_hat_max <= GATE["r_hat"] and self.ess_bulk_min >= GATE["ess"]
                    and self.ess_tail_min >= GATE["ess"]
                    and self.divergences <= GATE["divergences"])

    def failures(self) -> list[str]:
        out = []
        if self.r_hat_max > GATE["r_hat"]:
            out.append(f"r_hat {self.r_hat_max:.3f} > {GATE['r_hat']}")
        if self.ess_bulk_min < GATE["ess"]:
            out.append(f"bulk ESS {self.ess_bulk_min:.0f} < {GATE['ess']}")
        if self.ess_tail_min < GATE["ess"]:
            out.append(f"tail ESS {self.ess_tail_min:.0f} < {GATE['ess']}")
        if self.divergences > GATE["divergences"]:
            out.append(f"{self.divergences} divergences")
        return out

    def summary_row(self) -> dict:
        return {"r_hat_max": self.r_hat_max, "ess_bulk_min": self.ess_bulk_min,
                "ess_tail_min": self.ess_tail_min, "divergences": self.divergences,
                "bfmi_min": self.bfmi_min, "chains": self.chains, "draws": self.draws,
                "converged": self.converged}


def diagnose(idata: az.InferenceData, var_names: list[str] | None = None) -> Diagnostics:
    """r_hat (rank-normalised split), bulk and tail ESS per scalar, divergences and BFMI."""
    post = idata.posterior
    names = var_names or [v for v in post.data_vars if not v.endswith("__")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.summary(idata, var_names=names, kind="diagnostics", round_to="none")
        bfmi = az.bfmi(idata) if "energy" in idata.sample_stats else np.array([np.nan])
    div = int(idata.sample_stats["diverging"].sum()) if "diverging" in idata.sample_stats else 0
    return Diagnostics(table=table[["r_hat", "ess_bulk", "ess_tail"]], divergences=div,
                       bfmi_min=float(np.min(bfmi)), draws=int(post.sizes["draw"]),
                       chains=int(post.sizes["chain"]))
