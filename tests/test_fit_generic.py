"""The spec machinery on a panel that is not the paper's: linearmodels' wage_panel (Vella and
Verbeek 1998, 545 men x 1980-1987), other column names, a three-level group, an unbalanced version.
Reference values come from linearmodels on the same data."""

import numpy as np
import pandas as pd
import pytest
from linearmodels.panel import PanelOLS
from typer.testing import CliRunner

from cpai_bayes.cli import app

pytest.importorskip("linearmodels.datasets.wage_panel")


@pytest.fixture(scope="module")
def wages(tmp_path_factory):
    from linearmodels.datasets import wage_panel

    d = wage_panel.load()
    d["ethnicity"] = np.select([d.black == 1, d.hisp == 1], ["black", "hispanic"], "other")
    d = d[["nr", "year", "ethnicity", "lwage", "union", "married", "hours", "expersq"]]
    folder = tmp_path_factory.mktemp("wages")
    d.to_csv(folder / "wages.csv", index=False)
    d.drop(index=d.index[::37]).to_csv(folder / "wages_unbalanced.csv", index=False)
    (folder / "spec.toml").write_text(
        '[data]\npath = "wages.csv"\nentity = "nr"\ntime = "year"\ngroup = "ethnicity"\n'
        'reference = "other"\n[model]\noutcome = "lwage"\nregressor = "union"\n'
        'controls = ["married", "hours", "expersq"]\n'
        '[baselines]\nestimators = ["describe", "twfe", "iv2sls", "winsor", "pcse", "split", '
        '"gap"]\npermutations = 200\n')
    return folder


def lm_params(d, xs):
    d = d.set_index(["nr", "year"])
    return PanelOLS(d["lwage"], d[xs], entity_effects=True, time_effects=True).fit().params


@pytest.mark.parametrize("name", ["wages.csv", "wages_unbalanced.csv"])
def test_fit_runs_every_estimator_on_another_panel(wages, name, tmp_path):
    out = tmp_path / "fit"
    res = CliRunner().invoke(app, ["fit", str(wages / "spec.toml"), "--data", str(wages / name),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    c = pd.read_csv(out / "coefficients.csv")
    assert list(c.columns) == ["model", "outcome", "term", "estimate", "std_error", "statistic",
                               "p_value", "ci_lower", "ci_upper", "nobs", "se_type", "converged",
                               "r_hat", "ess_bulk", "ess_tail", "divergences"]
    assert c["converged"].isna().all()  # frequentist rows carry no MCMC diagnostics
    assert set(c.model) == {"twfe", "iv2sls", "first_stage", "winsor", "pcse", "split:black",
                            "split:hispanic", "split:other", "gap"}
    gaps = c[c.model == "gap"].term.tolist()
    assert len(gaps) == 6 and "black - other (permutation)" in gaps
    d = pd.read_csv(wages / name)
    xs = ["union", "married", "hours", "expersq"]
    twfe = c[(c.model == "twfe")].set_index("term").loc[xs, "estimate"]
    np.testing.assert_allclose(twfe, lm_params(d, xs)[xs], rtol=1e-7)
    for level in ("black", "hispanic", "other"):
        sub = c[c.model == f"split:{level}"].set_index("term").loc["union", "estimate"]
        assert sub == pytest.approx(lm_params(d[d.ethnicity == level], xs)["union"], rel=1e-7)
    assert (out / "table.md").read_text().count("split:") == 3
    assert len(pd.read_csv(out / "descriptives.csv")) == 5
