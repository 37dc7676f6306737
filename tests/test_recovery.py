"""Parameter recovery on panels simulated with known truth (cpai_bayes.simulate).

The truth compared with is the index-scale truth of each draw (``SimulatedPanel.realised``). The
fast test checks one panel; the slow one measures the coverage of the 94% HDI over repeated
simulations for three truths (gap 0, gap 0.1, the calibrated one) and writes the figures to
benchmarks/results/recovery.json.
"""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cpai_bayes.constants import CONTROLS
from cpai_bayes.datasets import load_indicator_system
from cpai_bayes.index import index_panel
from cpai_bayes.inference import BayesSettings, fit_bayes
from cpai_bayes.schema import PanelSpec
from cpai_bayes.simulate import CALIBRATED_TRUTH, simulate_panel

SPEC = PanelSpec(outcomes=("CP",), group="region")


def simulated(seed, truth):
    sim = simulate_panel(seed=seed, truth=truth)
    panel, _, _ = index_panel(sim.raw, load_indicator_system("cp"), load_indicator_system("ai"),
                              keep=["province", "year", "region", *CONTROLS])
    return panel, sim.realised


def covered(res, realised):
    rows = res.coefficients.set_index("term")
    out = {}
    for term, truth in (("AI:East", realised["ai_slope"]["CP"]["East"]),
                        ("AI:Mid-West", realised["ai_slope"]["CP"]["Mid-West"]),
                        ("gap: Mid-West - East", realised["gap"]["CP"])):
        out[term] = bool(rows.loc[term, "ci_lower"] <= truth <= rows.loc[term, "ci_upper"])
    return out


def test_region_slopes_recover_one_simulated_panel():
    truth = CALIBRATED_TRUTH.with_index_gap(0.1, seed=101)
    panel, realised = simulated(101, truth)
    res = fit_bayes(panel, SPEC, "CP", "bayes_region_slopes", reference="East",
                    settings=BayesSettings(draws=500, tune=500, chains=2, seed=101))
    assert realised["gap"]["CP"] == pytest.approx(0.1, abs=1e-3)
    assert all(covered(res, realised).values())
    assert res.diagnostics.r_hat_max < 1.02 and res.diagnostics.divergences == 0


@pytest.mark.slow
def test_hdi_coverage_over_repeated_simulations():
    reps = 20
    truths = {"gap 0": lambda s: CALIBRATED_TRUTH.with_index_gap(0.0, seed=s),
              "gap 0.1": lambda s: CALIBRATED_TRUTH.with_index_gap(0.1, seed=s),
              "calibrated": lambda s: CALIBRATED_TRUTH}
    report = {}
    for label, make in truths.items():
        hits, gates = [], []
        for k in range(reps):
            seed = 1000 + k
            panel, realised = simulated(seed, make(seed))
            res = fit_bayes(panel, SPEC, "CP", "bayes_region_slopes", reference="East",
                            settings=BayesSettings(seed=seed))
            hits.append(covered(res, realised))
            gates.append(res.diagnostics.converged)
        cov = {t: float(np.mean([h[t] for h in hits])) for t in hits[0]}
        report[label] = {"reps": reps, "coverage": cov, "converged": float(np.mean(gates))}
    out = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "recovery.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    pooled = [c for r in report.values() for c in r["coverage"].values()]
    # 94% nominal; with 20 reps a single coverage below 0.75 has probability < 1%
    assert min(pooled) >= 0.75, report
    assert 0.85 <= float(np.mean(pooled)) <= 1.0, report
    assert all(r["converged"] >= 0.9 for r in report.values()), report


def test_quiet_truth_has_no_region_trend():
    t = replace(CALIBRATED_TRUTH, region_trend={"East": 0.0, "Mid-West": 0.0})
    assert simulated(3, t)[1]["region_trend"]["CP"] == {"East": 0.0, "Mid-West": 0.0}
