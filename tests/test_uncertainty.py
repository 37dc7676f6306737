"""Weight uncertainty: draws, bands, CRITIC against pymcdm, and the linear shortcut against
refitting with pyfixest."""

import numpy as np
import pandas as pd
import pytest

from cpai_bayes.constants import CONTROLS
from cpai_bayes.datasets import load_indicator_system, load_synthetic_panel
from cpai_bayes.uncertainty import (
    LinearTWFE,
    coefficient_draws,
    critic_weights,
    rank_bands,
    rubin,
    weight_draws,
)

CP, AI = load_indicator_system("cp"), load_indicator_system("ai")


@pytest.fixture(scope="module")
def raw():
    return load_synthetic_panel().sort_values(["province", "year"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def draws(raw):
    return (weight_draws(raw, CP, name="CP", draws=400, seed=1),
            weight_draws(raw, AI, name="AI", draws=400, seed=2))


def test_weight_draws_are_labelled_and_sum_to_one(draws):
    wcp, wai = draws
    assert wcp.draws.dims == ("draw", "indicator") and wcp.draws.sizes == {"draw": 400,
                                                                          "indicator": 26}
    np.testing.assert_allclose(wcp.draws.sum("indicator"), 1.0)
    # the bootstrap is centred near the point weights
    assert np.abs(wcp.draws.mean("draw").values - wcp.point.values).max() < 0.01
    assert list(wai.draws.indicator.values) == list(AI.code)


def test_province_scheme_resamples_whole_provinces(raw):
    wd = weight_draws(raw, AI, name="AI", draws=200, seed=3, scheme="province")
    iid = weight_draws(raw, AI, name="AI", draws=200, seed=3)
    # whole-province weights are lumpier: wider weight distributions
    assert (wd.draws.std("draw") > iid.draws.std("draw")).mean() > 0.8


def test_critic_matches_pymcdm():
    pymcdm = pytest.importorskip("pymcdm")
    rng = np.random.default_rng(0)
    z = rng.uniform(size=(60, 7))
    z = (z - z.min(0)) / (z.max(0) - z.min(0))
    np.testing.assert_allclose(critic_weights(z), pymcdm.weights.critic_weights(z), rtol=1e-12)


def refit(raw, w_cp, w_ai, wd_cp, wd_ai):
    import pyfixest as pf

    d = raw[["province", "year", *CONTROLS]].copy()
    d["CP"] = wd_cp.z @ w_cp
    d["AI"] = wd_ai.z @ w_ai
    fit = pf.feols("CP ~ AI + FDI + DUP + SCS + FDS + GIL | province + year", data=d)
    return fit.coef()["AI"]


def test_linear_shortcut_equals_refitting(raw, draws):
    wcp, wai = draws
    lin = LinearTWFE(wcp.z, wai.z, raw[list(CONTROLS)].to_numpy(float), raw.province.to_numpy(),
                     raw.year.to_numpy())
    fast = lin.beta(wcp.draws.values[:5], wai.draws.values[:5])
    slow = [refit(raw, wcp.draws.values[d], wai.draws.values[d], wcp, wai) for d in range(5)]
    np.testing.assert_allclose(fast, slow, rtol=1e-8)
    # for a fixed AI index, the CP coefficient is sum_j w_j b_j over one-indicator regressions
    b = lin.indicator_coefficients(wai.point.values)
    np.testing.assert_allclose(wcp.draws.values[:5] @ b,
                               lin.beta(wcp.draws.values[:5], np.tile(wai.point.values, (5, 1))),
                               rtol=1e-12)


def test_coefficient_draws_by_group(raw, draws):
    wcp, wai = draws
    out = coefficient_draws(wcp, wai, raw, list(CONTROLS), group="region")
    assert set(out) == {"all", "East", "Mid-West"}
    assert out["all"]["point"] == pytest.approx(0.360, abs=1e-6)  # the calibrated Table 4 value
    assert out["East"]["draws"].shape == (400,)


def test_rank_bands(raw, draws):
    ranks = rank_bands(draws[0], raw[["province", "year"]])
    for _, g in ranks.groupby("year"):
        assert sorted(g["rank"]) == list(range(1, 31))
    assert (ranks.rank_lower <= ranks.rank_upper).all()


def test_rubin_by_hand():
    # estimates 1, 2, 3: B = 1, W = 0.5, D = 3: T = 0.5 + (4/3) * 1 = 1.8333, share = 1.3333/1.8333
    r = rubin(np.array([1.0, 2.0, 3.0]), 0.5)
    assert r["total_var"] == pytest.approx(11 / 6) and r["share_between"] == pytest.approx(8 / 11)


def test_index_cli_with_draws(tmp_path):
    from typer.testing import CliRunner

    from cpai_bayes.cli import app
    from cpai_bayes.datasets import data_dir

    out = tmp_path / "idx"
    res = CliRunner().invoke(app, ["index", str(data_dir() / "synthetic" / "panel_raw.csv"),
                                   "--draws", "300", "--out", str(out)])
    assert res.exit_code == 0, res.output
    prop = pd.read_csv(out / "index_propagation.csv").set_index("quantity")
    assert prop.loc["twfe AI", "se_total"] >= prop.loc["twfe AI", "se_sampling"]
    assert 0 <= prop.loc["twfe AI", "share_index"] <= 1
    sens = pd.read_csv(out / "sensitivity.csv")
    assert len(sens) == 7 and sens.ai_coefficient.iloc[0] == pytest.approx(0.360, abs=1e-6)
    res = CliRunner().invoke(app, ["index", str(data_dir() / "synthetic" / "panel_raw.csv"),
                                   "--draws", "10", "--scheme", "years", "--out", str(out)])
    assert res.exit_code == 2 and "--scheme" in res.stderr
