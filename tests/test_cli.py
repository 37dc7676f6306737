"""The CLI end to end on the shipped data, in a temporary folder."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from cpai_bayes.cli import app
from cpai_bayes.errors import InputError
from cpai_bayes.pipeline import staged_output

runner = CliRunner()


def test_replicate_quick_writes_report_labelled_synthetic(tmp_path):
    out = tmp_path / "rep"
    res = runner.invoke(app, ["replicate", "--quick", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == {
        "panel.csv", "table3.csv", "table3.md", "weights.csv", "report.html", "run.json",
        "coefficients.csv", "fit_stats.csv", "published_vs_ours.csv", "table4_twfe.md",
        "table5_iv.md", "table6_robust.md", "table7_regions.md", "bayes.md", "diagnostics.csv",
        "gap_posterior.csv", "loo.csv", "ppc_checks.csv", "figures", "idata",
        "audit_findings.csv", "audit.md", "weight_draws.nc", "weight_intervals.csv",
        "index_bands.csv", "rank_bands.csv", "sensitivity.csv", "index_propagation.csv",
        "index_bayes_mixture.csv"}
    mix = pd.read_csv(out / "index_bayes_mixture.csv")
    assert set(mix.term) == {"gap: Mid-West - East", "AI:East", "AI:Mid-West"}
    assert "Index construction: weight uncertainty" in (out / "report.html").read_text()
    report = (out / "report.html").read_text()
    coefs = pd.read_csv(out / "coefficients.csv")
    bayes = coefs[coefs.model.str.startswith("bayes")]
    assert set(bayes.model) >= {"bayes_twfe", "bayes_iv", "bayes_robust", "bayes_region_slopes",
                                "bayes_region_slopes[region_nbs]"}
    assert bayes["converged"].notna().all()
    diag = pd.read_csv(out / "diagnostics.csv")
    # the report flags exactly the fits that missed the gate
    missed = diag.loc[~diag.converged, "model"].tolist()
    if missed:
        flagged = report.split("Missed the gate:")[1].split("</p>")[0]
        assert all(m in flagged for m in missed)
    else:
        assert "Every fit passed the gate" in report
    assert "Audit of the seed study" in report
    assert "QUICK RUN" in report and "Convergence diagnostics" in report
    gap = pd.read_csv(out / "gap_posterior.csv").iloc[0]
    assert gap["contrast"] == "Mid-West - East" and 0 <= gap["p_gap_positive"] <= 1
    import arviz as az
    nc = sorted((out / "idata").glob("*.nc"))
    assert len(nc) == 11 and "log_likelihood" in az.from_netcdf(nc[0]).groups()
    assert (out / "figures" / "forest_table7_regions.png").stat().st_size > 10_000
    assert "SYNTHETIC DATA" in report and "Table 3" in report
    run = json.loads((out / "run.json").read_text())
    assert run["synthetic"] is True and run["quick"] is True
    t3 = pd.read_csv(out / "table3.csv")
    assert t3["within_tolerance"].all()
    assert t3.loc[t3.variable == "CP", "mean_paper"].item() == 0.256
    cmp_ = pd.read_csv(out / "published_vs_ours.csv")
    assert len(cmp_) == 13 and cmp_["ours_estimate"].notna().all()
    assert "The East vs Mid-West gap" in report
    w = pd.read_csv(out / "weights.csv")
    assert w.groupby("index")["weight"].sum().round(8).to_dict() == {"AI": 1.0, "CP": 1.0}
    assert len(w) == 38


def test_replicate_replaces_old_output_only_on_success(tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    bad = tmp_path / "bad.csv"
    bad.write_text("province,year\nBeijing,2012\n")
    res = runner.invoke(app, ["replicate", "--out", str(out), "--data", str(bad)])
    assert res.exit_code == 2
    assert (out / "old.txt").read_text() == "keep me"
    with staged_output(out) as stage:
        (stage / "new.txt").write_text("new")
    assert not (out / "old.txt").exists() and (out / "new.txt").read_text() == "new"


def test_staged_output_leaves_nothing_on_error(tmp_path):
    with pytest.raises(RuntimeError), staged_output(tmp_path / "x") as stage:
        (stage / "partial.csv").write_text("1")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="not a folder"), staged_output(tmp_path / "file"):
        pass


def test_simulate_then_index_round_trip(tmp_path):
    sim = tmp_path / "sim"
    res = runner.invoke(app, ["simulate", "--out", str(sim), "--seed", "11", "--n-entities", "40",
                              "--gap", "0"])
    assert res.exit_code == 0, res.output
    truth = json.loads((sim / "truth.json").read_text())
    assert truth["label"] == "SYNTHETIC" and truth["seed"] == 11
    assert truth["truth_index_scale"]["gap"]["CP"] == 0.0
    idx = tmp_path / "idx"
    res = runner.invoke(app, ["index", str(sim / "panel_raw.csv"), "--out", str(idx)])
    assert res.exit_code == 0, res.output
    a = pd.read_csv(idx / "panel.csv")
    b = pd.read_csv(sim / "panel.csv")
    assert a.columns[0] == "synthetic"
    pd.testing.assert_series_equal(a["CP"], b["CP"], rtol=1e-9)
