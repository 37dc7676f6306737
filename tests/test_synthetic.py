"""The shipped SYNTHETIC panel: calibration tolerances, reproducibility, and the returned truth.

Targets are the seed study's printed numbers (data/published/tables.csv); the estimates on the
shipped file are computed with linearmodels (PanelOLS, IV2SLS), not with cpai_bayes code.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from linearmodels.iv import IV2SLS
from linearmodels.panel import PanelOLS

from cpai_bayes.constants import CONTROLS, SEED
from cpai_bayes.datasets import data_dir, load_indicator_system, load_published_tables
from cpai_bayes.index import index_panel
from cpai_bayes.simulate import CALIBRATED_TRUTH, Truth, simulate_panel

X = ["AI", *CONTROLS]
TOL_TABLE4_CP = 0.04
TOL_TABLE4_DIMS = 0.03
TOL_TABLE7 = 0.06
TOL_TABLE5 = 0.05


def paper(table, column, term, stat="estimate"):
    t = load_published_tables()
    row = t[(t.table == table) & (t.column == column) & (t.term == term)]
    return float(row[stat].iloc[0])


def twfe(df, y):
    d = df.set_index(["province", "year"])
    return PanelOLS(d[y], d[X], entity_effects=True, time_effects=True).fit().params["AI"]


@pytest.fixture(scope="module")
def frame(shipped_panel):
    return shipped_panel.frame


def test_label_is_first_column_everywhere():
    for name in ("panel_raw.csv", "panel.csv", "truth_effects.csv"):
        df = pd.read_csv(data_dir() / "synthetic" / name)
        assert df.columns[0] == "synthetic" and (df["synthetic"] == "SYNTHETIC").all(), name


@pytest.mark.parametrize("var", ["CP", "AI", *CONTROLS])
def test_table3_moments_within_15_percent(frame, var):
    for stat, fn in (("mean", np.mean), ("sd", lambda x: np.std(x, ddof=1))):
        ours, printed = fn(frame[var]), paper(3, stat, var)
        assert abs(ours / printed - 1) <= 0.15, (var, stat, ours, printed)


def test_table4_twfe_coefficients(frame):
    assert abs(twfe(frame, "CP") - paper(4, "CP", "AI")) <= TOL_TABLE4_CP
    for dim in ("CP_wealth", "CP_sharing", "CP_continuing"):
        assert abs(twfe(frame, dim) - paper(4, dim, "AI")) <= TOL_TABLE4_DIMS, dim


def test_table7_split_coefficients(frame):
    for region, column in (("East", "CPe"), ("Mid-West", "CPwm")):
        sub = frame[frame.region == region]
        assert sub.province.nunique() == {"East": 11, "Mid-West": 19}[region]
        assert abs(twfe(sub, "CP") - paper(7, column, "AI")) <= TOL_TABLE7, region


def test_table5_iv_with_lagged_ai(frame):
    d = frame.sort_values(["province", "year"]).copy()
    d["L_AI"] = d.groupby("province")["AI"].shift(1)
    d = d.dropna().reset_index(drop=True)
    assert len(d) == 240
    dummies = pd.get_dummies(d[["province", "year"]].astype(str), drop_first=True, dtype=float)
    exog = pd.concat([pd.Series(1.0, index=d.index, name="const"), d[list(CONTROLS)], dummies],
                     axis=1)
    fit = IV2SLS(d["CP"], exog, d["AI"], d["L_AI"]).fit(cov_type="unadjusted")
    assert abs(fit.params["AI"] - paper(5, "CP", "L.AI")) <= TOL_TABLE5


def test_shipped_file_is_the_generator_output():
    sim = simulate_panel(seed=SEED, truth=CALIBRATED_TRUTH)
    shipped = pd.read_csv(data_dir() / "synthetic" / "panel_raw.csv")
    pd.testing.assert_frame_equal(sim.raw.reset_index(drop=True), shipped, check_dtype=False,
                                  rtol=1e-8)


def quiet(truth: Truth) -> Truth:
    """No structural noise, no measurement noise, no region-specific trends."""
    zero = {d: 0.0 for d in truth.noise_share}
    return replace(truth, noise_share=zero, indicator_noise=0.0,
                   region_trend={r: 0.0 for r in truth.region_trend})


@pytest.mark.parametrize("gap", [0.0, 1.5])
def test_realised_truth_is_what_twfe_estimates_without_noise(gap):
    # Without noise the CP index is exactly affine in the latent score, so the region split TWFE
    # must return the index-scale truth (up to floating point), whatever the gap.
    sim = simulate_panel(seed=7, truth=quiet(CALIBRATED_TRUTH).with_gap(gap))
    panel, _, _ = index_panel(sim.raw, load_indicator_system("cp"), load_indicator_system("ai"),
                              keep=["province", "year", "region", *CONTROLS])
    for region in ("East", "Mid-West"):
        sub = panel[panel.region == region]
        for y in ("CP", "CP_wealth", "CP_sharing", "CP_continuing"):
            assert twfe(sub, y) == pytest.approx(sim.realised["ai_slope"][y][region], rel=1e-7)
    if gap == 0.0:
        assert sim.realised["gap"]["CP"] == 0.0
    else:
        assert sim.realised["gap"]["CP"] > 0


def test_truth_parameters_scale_to_other_panels():
    truth = replace(CALIBRATED_TRUTH, n_entities=120, years=tuple(range(2001, 2021)))
    sim = simulate_panel(seed=3, truth=truth)
    assert sim.raw.shape[0] == 120 * 20
    assert sim.raw.groupby("region")["province"].nunique().to_dict() == {"East": 44,
                                                                        "Mid-West": 76}
    assert set(sim.effects["outcome"]) == {"CP", "CP_wealth", "CP_sharing", "CP_continuing"}
    assert Truth.from_dict(truth.to_dict()) == truth
