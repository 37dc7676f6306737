"""Bayesian models: structure (no sampling), the marginal likelihoods against direct computation,
diagnostics on hand-built InferenceData, and one small fit checked against pyfixest."""

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cpai_bayes.bayes import build_model, make_design
from cpai_bayes.diagnostics import diagnose
from cpai_bayes.inference import BayesSettings, fit_bayes, gap_summary
from cpai_bayes.schema import PanelSpec

SPEC = PanelSpec(outcomes=("CP",), group="region")


@pytest.fixture(scope="module")
def design(shipped_panel):
    return make_design(shipped_panel.frame, SPEC, "CP", period_effects="group")


def restricted_loglik(design, mean, cov):
    """Exact log-likelihood of the data after integrating out flat effects: the density of L'y,
    L an orthonormal basis of the space the effects leave (via the SVD of M), computed with scipy."""
    m = design.project(np.eye(design.n))
    u, s, _ = np.linalg.svd(m)
    basis = u[:, s > 0.5]
    assert basis.shape[1] == design.n - design.rank
    return stats.multivariate_normal(basis.T @ mean, basis.T @ cov @ basis).logpdf(
        basis.T @ design.y)


def test_coords_and_dims(design):
    m = build_model(design, "region_slopes", reference="East")
    assert m.coords["region"] == ("East", "Mid-West")
    assert len(m.coords["entity"]) == 30 and m.coords["contrast"] == ("Mid-West - East",)
    assert m.named_vars_to_dims["beta_region"] == ("region",)
    assert m.named_vars_to_dims["gap"] == ("contrast",)
    assert {v.name for v in m.free_RVs} == {"beta_region", "tau", "gamma", "sigma"}
    nbs = make_design(design_frame(design), SPEC, "CP", group="region_nbs")
    m4 = build_model(nbs, "region_slopes", reference="East")
    assert set(m4.coords["contrast"]) == {"Central - East", "Northeast - East", "West - East"}


def design_frame(design):
    from cpai_bayes.datasets import data_dir

    return pd.read_csv(data_dir() / "synthetic" / "panel.csv")


def test_unknown_prior_key_is_rejected(design):
    with pytest.raises(ValueError, match="unknown prior keys"):
        build_model(design, "twfe", priors={"beta_sclae": 1.0})


@pytest.mark.parametrize("model", ["twfe", "region_slopes"])
def test_likelihood_equals_restricted_likelihood(design, model):
    # Differences of the model's log-likelihood terms between two parameter points must equal
    # those of the exact restricted likelihood (the effects integrated out under flat priors).
    m = build_model(design, model, reference="East")
    rng = np.random.default_rng(0)
    like_terms = [v for v in (m.observed_RVs + m.potentials)]
    fn = m.compile_fn(m.logp(vars=like_terms, jacobian=False, sum=True), point_fn=True)
    a = design.mx_entity
    vals = []
    for _ in range(2):
        gamma = rng.normal(0, 0.05, len(design.controls))
        sigma = 0.012 * rng.uniform(0.8, 1.2)
        point = {"gamma": gamma, "sigma_log__": np.log(sigma)}
        if model == "twfe":
            beta = rng.normal(0.36, 0.05)
            point["beta"] = beta
            mean = design.x * beta + design.z @ gamma
            cov = sigma**2 * np.eye(design.n)
        else:
            beta_r = rng.normal(0.4, 0.05, 2)
            tau = rng.uniform(0.05, 0.2)
            point.update({"beta_region": beta_r, "tau_log__": np.log(tau)})
            x_ent = np.zeros((design.n, len(design.entities)))
            x_ent[np.arange(design.n), design.entity_idx] = design.x
            mean = x_ent @ beta_r[design.entity_group] + design.z @ gamma
            cov = sigma**2 * np.eye(design.n) + tau**2 * x_ent @ x_ent.T
            assert np.allclose(design.project(x_ent), a)
        vals.append((fn(point), restricted_loglik(design, mean, cov)))
    assert vals[0][0] - vals[1][0] == pytest.approx(vals[0][1] - vals[1][1], rel=1e-7, abs=1e-6)


def hand_idata(offset=0.0, divergent=0, seed=0):
    rng = np.random.default_rng(seed)
    beta = rng.normal(0.3, 0.02, (4, 500))
    beta[0] += offset
    gap = rng.normal(0.08, 0.1, (4, 500, 1))
    div = np.zeros((4, 500), bool)
    div.flat[:divergent] = True
    return az.from_dict(posterior={"beta": beta, "gap": gap},
                        sample_stats={"diverging": div, "energy": rng.normal(size=(4, 500))},
                        coords={"contrast": ["Mid-West - East"]},
                        dims={"gap": ["contrast"]})


def test_diagnostics_gate_on_hand_built_idata():
    good = diagnose(hand_idata())
    assert good.converged and good.divergences == 0 and good.r_hat_max < 1.01
    shifted = diagnose(hand_idata(offset=0.05))
    assert not shifted.converged and any("r_hat" in f for f in shifted.failures())
    diverging = diagnose(hand_idata(divergent=3))
    assert not diverging.converged and diverging.failures() == ["3 divergences"]


def test_gap_summary_on_hand_built_idata(design):
    from cpai_bayes.inference import BayesResult

    idata = hand_idata(seed=4)
    res = BayesResult("bayes_region_slopes", "CP", idata, design, diagnose(idata),
                      pd.DataFrame(), 0.0)
    g = idata.posterior["gap"].values.ravel()
    row = gap_summary(res, rope=0.05).iloc[0]
    assert row["p_gap_positive"] == pytest.approx(np.mean(g > 0))
    assert row["p_in_rope"] == pytest.approx(np.mean(np.abs(g) <= 0.05))
    assert row["hdi_lower"] < np.quantile(g, 0.05) < row["hdi_upper"]
    assert row["hdi_upper"] - row["hdi_lower"] <= np.quantile(g, 0.97) - np.quantile(g, 0.03)


@pytest.fixture(scope="module")
def twfe_fit(shipped_panel):
    return fit_bayes(shipped_panel.frame, SPEC, "CP", "bayes_twfe",
                     settings=BayesSettings(draws=500, tune=500, chains=2, seed=3))


def test_bayes_twfe_matches_frequentist_twfe(twfe_fit, shipped_panel):
    import pyfixest as pf

    ref = pf.feols("CP ~ AI + FDI + DUP + SCS + FDS + GIL | province + year",
                   data=shipped_panel.frame, vcov="iid")
    post = twfe_fit.idata.posterior
    beta = post["beta"].values.ravel()
    # flat-prior posterior of beta: centred on OLS, scale = iid SE (t with n - r - k df)
    tol_mean = 0.15 * ref.tidy().loc["AI", "Std. Error"]
    assert abs(beta.mean() - ref.coef()["AI"]) < tol_mean
    assert beta.std() == pytest.approx(ref.tidy().loc["AI", "Std. Error"], rel=0.1)
    # sigma^2: E = SSR / (n - r - k - 2) under flat priors; without the dof Potential it would
    # be about 19% lower (n / (n - r - k) = 270 / 226)
    ssr = float(np.sum(ref.resid() ** 2))
    df = 270 - 38 - 6
    assert np.mean(post["sigma"].values ** 2) == pytest.approx(ssr / (df - 2), rel=0.03)
    assert twfe_fit.diagnostics.divergences == 0
    rows = twfe_fit.coefficients.set_index("term")
    assert {"converged", "r_hat", "ess_bulk", "ess_tail", "divergences"} <= set(rows.columns)
    assert list(post["gamma"].coords["control"].values) == ["FDI", "DUP", "SCS", "FDS", "GIL"]


def test_not_converged_is_flagged_in_rows(shipped_panel):
    # 2 chains x 60 draws cannot reach ESS 400: every row must say so
    res = fit_bayes(shipped_panel.frame, SPEC, "CP", "bayes_twfe",
                    settings=BayesSettings(draws=60, tune=100, chains=2, seed=1))
    assert not res.diagnostics.converged
    assert (~res.coefficients["converged"]).all()


@pytest.mark.parametrize("model, kw", [("twfe", {}), ("region_slopes", {}),
                                        ("province_slopes", {}), ("robust", {}),
                                        ("robust", {"ar1": True}), ("iv", {})])
def test_every_model_builds_with_a_finite_log_density(shipped_panel, model, kw):
    from cpai_bayes.baselines import _lagged

    frame = shipped_panel.frame
    instrument = None
    if model == "iv":
        frame = _lagged(frame, SPEC, "AI", "L.AI")
    d = make_design(frame, SPEC, "CP", period_effects="group")
    if model == "iv":
        instrument = d.project(frame.sort_values(["province", "year"])["L.AI"].to_numpy())
    m = build_model(d, model, reference="East", instrument=instrument, **kw)
    logps = m.point_logps()
    assert all(np.isfinite(v) for v in logps.values()), logps
    if model == "robust":
        # one period baseline per region set (region-specific period effects): 2 x 8 free effects
        assert len(m.coords["period_effect"]) == 16
