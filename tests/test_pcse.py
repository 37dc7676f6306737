"""Beck-Katz PCSE against R.

Reference values: tests/reference/pcse_reference.csv, written by tests/reference/pcse_reference.R
(R 4.2.2, plm 2.6.2, sandwich 3.0.2; raw console output in pcse_reference.out):
- plain: plm(model = "within", effect = "twoways") with plm::vcovBK(cluster = "time");
- ar1: Stata xtpcse correlation(ar1) steps written in R (rho, Prais-Winsten on the dummy-variable
  design) with plm::vcovBK(cluster = "time") on the transformed pooled fit.
Data: plm's Produc (48 US states x 1970-1986, a real panel, T < N), the shipped synthetic panel
(30 x 9) and that panel with 7 province-years removed (unbalanced).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpai_bayes.constants import CONTROLS
from cpai_bayes.pcse import demean_twoway, pcse_twfe

REF = Path(__file__).parent / "reference"


def load_case(dataset):
    if dataset == "produc":
        d = pd.read_csv(REF / "produc.csv")
        for v in ("gsp", "pcap", "pc", "emp"):
            d[f"l{v}"] = np.log(d[v])
        return d, "state", "lgsp", ["lpcap", "lpc", "lemp", "unemp"]
    path = (REF / "synthetic_unbalanced.csv" if dataset == "synthetic_unbalanced"
            else REF.parents[1] / "data" / "synthetic" / "panel.csv")
    return pd.read_csv(path), "province", "CP", ["AI", *CONTROLS]


@pytest.mark.parametrize("dataset", ["produc", "synthetic", "synthetic_unbalanced"])
@pytest.mark.parametrize("case", ["plain", "ar1"])
def test_pcse_matches_r(dataset, case):
    ref = pd.read_csv(REF / "pcse_reference.csv", skipinitialspace=True)
    ref = ref[(ref.dataset == dataset) & (ref.case == case)].set_index("term")
    d, entity, y, xs = load_case(dataset)
    res = pcse_twfe(d[y].to_numpy(), d[xs].to_numpy(), d[entity].to_numpy(), d["year"].to_numpy(),
                    names=xs, ar1=case == "ar1")
    np.testing.assert_allclose(res.params[xs], ref.loc[xs, "estimate"], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(res.std_errors[xs], ref.loc[xs, "std_error"], rtol=1e-8)
    if case == "ar1":
        assert res.rho == pytest.approx(ref.loc["rho", "estimate"], rel=1e-10)
    assert res.rank_deficient == (dataset != "produc" or d["year"].nunique() < d[entity].nunique())


def test_demeaning_by_alternating_projections_is_a_projection():
    rng = np.random.default_rng(0)
    ent = np.repeat(np.arange(6), 5)
    per = np.tile(np.arange(5), 6)
    keep = np.ones(30, bool)
    keep[[2, 11, 12]] = False  # unbalanced
    x = rng.normal(size=30)[keep]
    dm = demean_twoway(x, ent[keep], per[keep])
    # residual of x on entity and period dummies, by least squares
    design = np.column_stack([np.eye(6)[ent[keep]], np.eye(5)[per[keep]][:, 1:]])
    resid = x - design @ np.linalg.lstsq(design, x, rcond=None)[0]
    np.testing.assert_allclose(dm[:, 0], resid, atol=1e-10)
