"""Time of the Bayesian-bootstrap entropy weight draws (issue: 4,000 draws on 270 x 26 well under a
second) and of the linear TWFE shortcut over all draws.

Run: ``.venv/bin/python benchmarks/bench_weights.py`` (best of 5; writes results/weights.json).
"""

import json
import platform
import time
from pathlib import Path

import numpy as np

from cpai_bayes.constants import CONTROLS
from cpai_bayes.datasets import load_indicator_system, load_synthetic_panel
from cpai_bayes.uncertainty import coefficient_draws, weight_draws


def best_of(fn, reps=5):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    raw = load_synthetic_panel().sort_values(["province", "year"]).reset_index(drop=True)
    cp, ai = load_indicator_system("cp"), load_indicator_system("ai")
    t_cp, wcp = best_of(lambda: weight_draws(raw, cp, name="CP", draws=4000))
    t_ai, wai = best_of(lambda: weight_draws(raw, ai, name="AI", draws=4000))
    t_coef, _ = best_of(lambda: coefficient_draws(wcp, wai, raw, list(CONTROLS), group="region"))
    res = {"cp_4000_draws_270x26_s": t_cp, "ai_4000_draws_270x12_s": t_ai,
           "twfe_and_split_coefficients_4000_draws_s": t_coef, "numpy": np.__version__,
           "python": platform.python_version(), "machine": platform.machine()}
    out = Path(__file__).parent / "results" / "weights.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    for k, v in res.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")


if __name__ == "__main__":
    main()
