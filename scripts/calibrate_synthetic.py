"""Tune the synthetic panel's truth so that the shipped draw reproduces the seed study's estimates.

Run: ``python scripts/calibrate_synthetic.py [--write]``. It prints the calibration table
(paper vs panel); ``--write`` also regenerates data/synthetic/. The estimates used while tuning come
from a plain two-way within estimator (numpy, balanced panels only); the shipped file is checked
independently with linearmodels in tests/test_synthetic_calibration.py.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import numpy as np

from cpai_bayes.constants import CONTROLS, SEED
from cpai_bayes.datasets import load_indicator_system
from cpai_bayes.index import index_panel
from cpai_bayes.simulate import CALIBRATED_TRUTH, Truth, _frozen, simulate_panel

TARGETS = {"CP": 0.360, "CP_wealth": 0.058, "CP_sharing": 0.065, "CP_continuing": 0.237,
           "East": 0.378, "Mid-West": 0.461}


def within(df, y, xs, entity="province", time="year"):
    """Two-way within OLS on a balanced panel (double demeaning)."""
    cols = [y, *xs]
    m = df[cols].to_numpy(float)
    e = df[entity].to_numpy()
    t = df[time].to_numpy()
    dm = m.copy()
    for _ in range(50):  # alternating projections; exact after one pass when balanced
        for key in (e, t):
            means = {k: dm[key == k].mean(axis=0) for k in np.unique(key)}
            dm = dm - np.vstack([means[k] for k in key])
    beta, *_ = np.linalg.lstsq(dm[:, 1:], dm[:, 0], rcond=None)
    return beta[0]


def estimates(truth: Truth, seed: int = SEED):
    sim = simulate_panel(seed=seed, truth=truth)
    panel, _, _ = index_panel(sim.raw, load_indicator_system("cp"), load_indicator_system("ai"),
                              keep=["province", "year", "region", *CONTROLS])
    xs = ["AI", *CONTROLS]
    out = {y: within(panel, y, xs) for y in ("CP", "CP_wealth", "CP_sharing", "CP_continuing")}
    for r in ("East", "Mid-West"):
        out[r] = within(panel[panel.region == r], "CP", xs)
    return out, panel, sim


def moments(panel):
    return {v: (panel[v].mean(), panel[v].std(), panel[v].min(), panel[v].max())
            for v in ("CP", "AI", *CONTROLS)}


def with_params(base: Truth, x) -> Truth:
    b_east, b_mw, trend_mw, s_w, s_s = x
    return replace(
        base,
        ai_slope=_frozen({"East": b_east, "Mid-West": b_mw}),
        region_trend=_frozen({"East": 0.0, "Mid-West": trend_mw}),
        dimension_share=_frozen({"wealth": s_w, "sharing": s_s, "continuing": 1.0 - s_w - s_s}),
    )


def calibrate(base: Truth, x0) -> Truth:
    """Solve for the slopes, region trend and dimension shares that hit the five targets."""
    from scipy.optimize import least_squares

    keys = ["CP_wealth", "CP_sharing", "CP_continuing", "East", "Mid-West"]

    def resid(x):
        est, _, _ = estimates(with_params(base, x))
        return [est[k] - TARGETS[k] for k in keys]

    fit = least_squares(resid, x0, diff_step=1e-3, xtol=1e-10, ftol=1e-10)
    print("calibration residuals", np.round(fit.fun, 6), "params", np.round(fit.x, 5))
    return with_params(base, fit.x)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--solve", action="store_true", help="re-solve the calibrated truth")
    args = parser.parse_args()
    truth = CALIBRATED_TRUTH
    if args.solve:
        t = truth
        truth = calibrate(t, [t.ai_slope["East"], t.ai_slope["Mid-West"],
                              t.region_trend["Mid-West"], t.dimension_share["wealth"],
                              t.dimension_share["sharing"]])
        print(truth)
    est, panel, sim = estimates(truth)
    for k, v in est.items():
        print(f"{k:15s} target {TARGETS[k]:.3f} panel {v:.3f}")
    for k, v in moments(panel).items():
        print(f"{k:4s} mean {v[0]:.4f} sd {v[1]:.4f} min {v[2]:.4f} max {v[3]:.4f}")
    if args.write:
        from cpai_bayes.datasets import data_dir
        from cpai_bayes.simulate import write_synthetic

        ready = sim.raw[["synthetic", "province", "year", "region", "region_nbs"]].join(
            panel[["CP", "CP_wealth", "CP_sharing", "CP_continuing", "AI", *CONTROLS]])
        for path in write_synthetic(sim, data_dir() / "synthetic", ready_panel=ready):
            print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
