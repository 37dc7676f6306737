"""Frequentist baselines against linearmodels (an independent implementation) and hand calculations.

pyfixest (used by cpai_bayes) and linearmodels agree once their small-sample conventions are
matched: linearmodels' clustered covariance with ``debiased=False, group_debias=False`` is the plain
(HC0-type) cluster sandwich; Stata's xtreg-fe convention multiplies it by
G/(G-1) * (N-1)/(N-K) with K = slopes + year dummies + constant (the entity effects absorbed).
"""

import numpy as np
import pandas as pd
import pytest
from linearmodels.iv import IV2SLS
from linearmodels.panel import PanelOLS

from cpai_bayes.baselines import (
    fit_gap,
    fit_iv2sls,
    fit_pcse,
    fit_split,
    fit_twfe,
    fit_winsor,
    winsorise,
)
from cpai_bayes.constants import CONTROLS
from cpai_bayes.schema import PanelSpec

SPEC = PanelSpec(outcomes=("CP",), group="region")
X = ["AI", *CONTROLS]


@pytest.fixture(scope="module")
def frame(shipped_panel):
    return shipped_panel.frame


def lm_twfe(d, y, xs, entity="province", time="year"):
    """linearmodels with year dummies and a constant in the design, entity effects absorbed."""
    d = d.set_index([entity, time])
    years = pd.get_dummies(d.index.get_level_values(time), prefix="y", drop_first=True,
                           dtype=float).set_index(d.index)
    exog = pd.concat([d[xs], years], axis=1).assign(const=1.0)
    fit = PanelOLS(d[y], exog, entity_effects=True).fit(
        cov_type="clustered", cluster_entity=True, debiased=False, group_debias=False,
        count_effects=False)
    n, k, g = fit.nobs, exog.shape[1], d.index.get_level_values(0).nunique()
    stata = np.sqrt(g / (g - 1) * (n - 1) / (n - k))
    return fit.params[xs], fit.std_errors[xs] * stata


def ai(res, term="AI"):
    c = res.coefficients.set_index("term")
    return c.loc[term, "estimate"], c.loc[term, "std_error"]


def test_twfe_matches_linearmodels_stata_convention(frame):
    res = fit_twfe(frame, SPEC, "CP")
    params, se = lm_twfe(frame, "CP", X)
    c = res.coefficients.set_index("term")
    np.testing.assert_allclose(c.loc[X, "estimate"], params, rtol=1e-8)
    np.testing.assert_allclose(c.loc[X, "std_error"], se, rtol=1e-8)
    assert res.stats["n_clusters"] == 30 and res.stats["nobs"] == 270
    assert c.loc["AI", "se_type"].startswith("CRV1(province)")
    # p value on t(G - 1), as Stata reports for vce(cluster)
    from scipy import stats
    t = c.loc["AI", "statistic"]
    assert c.loc["AI", "p_value"] == pytest.approx(2 * stats.t.sf(abs(t), 29), rel=1e-6)


def test_twfe_iid_matches_linearmodels(frame):
    res = fit_twfe(frame, SPEC, "CP", vcov="iid")
    d = frame.set_index(["province", "year"])
    ref = PanelOLS(d["CP"], d[X], entity_effects=True, time_effects=True).fit(
        cov_type="unadjusted", debiased=True, count_effects=True)
    c = res.coefficients.set_index("term")
    np.testing.assert_allclose(c.loc[X, "std_error"], ref.std_errors[X], rtol=1e-8)


def test_r2_within_and_lsdv(frame):
    res = fit_twfe(frame, SPEC, "CP")
    d = frame.set_index(["province", "year"])
    ref = PanelOLS(d["CP"], d[X], entity_effects=True, time_effects=True).fit()
    assert res.stats["r2_lsdv"] == pytest.approx(ref.rsquared_inclusive, rel=1e-8)
    # within R2 of the two-way model: 1 - SSR / TSS of the two-way demeaned outcome
    assert res.stats["r2_within"] == pytest.approx(ref.rsquared, rel=1e-8)


def test_iv2sls_matches_linearmodels(frame):
    second, first = fit_iv2sls(frame, SPEC, "CP")
    d = frame.sort_values(["province", "year"]).copy()
    d["L.AI"] = d.groupby("province")["AI"].shift(1)
    d = d.dropna().reset_index(drop=True)
    dummies = pd.get_dummies(d[["province", "year"]].astype(str), drop_first=True, dtype=float)
    exog = pd.concat([pd.Series(1.0, index=d.index, name="const"), d[list(CONTROLS)], dummies],
                     axis=1)
    ref = IV2SLS(d["CP"], exog, d["AI"], d["L.AI"]).fit(cov_type="clustered",
                                                        clusters=d["province"], debiased=False)
    est, se = ai(second)
    assert second.stats["nobs"] == 240
    assert est == pytest.approx(ref.params["AI"], rel=1e-8)
    # same convention as twfe: K = exogenous slopes + endogenous + 7 year dummies + constant = 14
    n, g, k = 240, 30, len(CONTROLS) + 1 + 7 + 1
    assert se == pytest.approx(ref.std_errors["AI"] * np.sqrt(g / (g - 1) * (n - 1) / (n - k)),
                               rel=1e-8)
    fs = first.coefficients.set_index("term")
    t_fs = fs.loc["L.AI", "statistic"]
    assert fs.loc["effective_F", "estimate"] == pytest.approx(t_fs**2, rel=1e-12)
    assert first.stats["effective_F"] > 10 and not first.warnings


def test_weak_instrument_warns():
    rng = np.random.default_rng(0)
    n, t = 40, 8
    d = pd.DataFrame({"province": np.repeat([f"p{i}" for i in range(n)], t),
                      "year": np.tile(np.arange(t), n), "region": "A"})
    d["AI"] = rng.normal(size=n * t)  # no persistence: the lag is a useless instrument
    d["CP"] = 0.3 * d["AI"] + rng.normal(size=n * t)
    for c in CONTROLS:
        d[c] = rng.normal(size=n * t)
    second, first = fit_iv2sls(d, SPEC, "CP")
    assert any("weak instrument" in w for w in first.warnings)


def test_winsorise_by_hand():
    # 1..100: type-2 quantiles at 1% and 99% average the 1st/2nd and 99th/100th order statistics
    d = pd.DataFrame({"v": np.arange(1.0, 101.0)})
    w = winsorise(d, ["v"], level=0.01)["v"]
    assert (w.min(), w.max()) == (1.5, 99.5)
    assert (w.iloc[1:99] == d["v"].iloc[1:99]).all()


def test_winsor_is_twfe_on_winsorised_data(frame):
    res = fit_winsor(frame, SPEC, "CP")
    params, _ = lm_twfe(winsorise(frame, ["CP", *X], level=0.01), "CP", X)
    assert ai(res)[0] == pytest.approx(params["AI"], rel=1e-8)
    assert "winsorised 1%" in res.coefficients.se_type.iloc[0]


def test_pcse_warns_when_t_below_n(frame):
    res = fit_pcse(frame, SPEC, "CP")
    assert any("T = 9 < N = 30" in w for w in res.warnings)
    assert res.coefficients.se_type.iloc[0].startswith("PCSE")


def test_split_and_gap_against_linearmodels(frame):
    splits = fit_split(frame, SPEC, "CP")
    assert [s.model for s in splits] == ["split:East", "split:Mid-West"]
    assert all(any("clusters" in w for w in s.warnings) for s in splits)
    ref = {}
    for s in splits:
        level = s.model.split(":")[1]
        p, se = lm_twfe(frame[frame.region == level], "CP", X)
        assert ai(s)[0] == pytest.approx(p["AI"], rel=1e-8)
        assert ai(s)[1] == pytest.approx(se["AI"], rel=1e-8)
        ref[level] = (p["AI"], se["AI"])
    gap = fit_gap(frame, SPEC, "CP", reference="East", permutations=200, seed=1, splits=splits)
    g = gap.coefficients.set_index("term")
    diff = ref["Mid-West"][0] - ref["East"][0]
    z = diff / np.hypot(ref["Mid-West"][1], ref["East"][1])
    assert g.loc["Mid-West - East (paternoster)", "statistic"] == pytest.approx(z, rel=1e-8)
    assert g.loc["Mid-West - East (permutation)", "estimate"] == pytest.approx(diff, rel=1e-8)
    p = g.loc["Mid-West - East (permutation)", "p_value"]
    assert 1 / 201 <= p <= 1
    again = fit_gap(frame, SPEC, "CP", reference="East", permutations=200, seed=1, splits=splits)
    assert again.coefficients.equals(gap.coefficients)
    # interaction: pooled model with AI x Mid-West, against linearmodels
    d = frame.assign(**{"AI:Mid-West": frame["AI"] * (frame.region == "Mid-West")})
    p, se = lm_twfe(d, "CP", ["AI", "AI:Mid-West", *CONTROLS])
    assert g.loc["Mid-West - East (interaction)", "estimate"] == pytest.approx(
        p["AI:Mid-West"], rel=1e-8)
    assert g.loc["Mid-West - East (interaction)", "std_error"] == pytest.approx(
        se["AI:Mid-West"], rel=1e-8)


def test_permutation_p_is_calibrated_under_no_gap():
    # Under a true gap of zero the permutation p value should not pile up near 0.
    from dataclasses import replace

    from cpai_bayes.datasets import load_indicator_system
    from cpai_bayes.index import index_panel
    from cpai_bayes.simulate import CALIBRATED_TRUTH, simulate_panel

    truth = replace(CALIBRATED_TRUTH.with_gap(0.0), region_trend={"East": 0.0, "Mid-West": 0.0})
    ps = []
    for seed in range(6):
        sim = simulate_panel(seed=seed, truth=truth)
        panel, _, _ = index_panel(sim.raw, load_indicator_system("cp"),
                                  load_indicator_system("ai"),
                                  keep=["province", "year", "region", *CONTROLS])
        gap = fit_gap(panel, SPEC, "CP", reference="East", permutations=200, seed=seed)
        ps.append(gap.coefficients.set_index("term").loc["Mid-West - East (permutation)",
                                                          "p_value"])
    assert np.mean(np.array(ps) < 0.05) <= 0.5, ps
