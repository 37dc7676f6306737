"""Audit checks: each one fires on a planted error and stays silent on a clean table; the seed
paper's findings. Expected values are hand calculations written out in the comments."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from cpai_bayes.audit import Rules, audit, expected_stars, load_rules, read_tables
from cpai_bayes.cli import app
from cpai_bayes.datasets import data_dir

HEADER = "table,model,column,term,estimate,statistic,statistic_kind,stars,nobs,r2,p\n"
CLEAN = HEADER + "\n".join([
    # 2 entities-groups design: 10 entities x 5 periods; total = a + b
    "1,twfe,Y,X,0.300,3.00,t,***,50,0.9,0.0027",      # normal p = 0.0027
    "1,twfe,Ya,X,0.100,2.10,t,**,50,0.9,",            # p = 0.036
    "1,twfe,Yb,X,0.200,1.70,t,*,50,0.9,",             # p = 0.089
    "2,first_stage,X,L.X,0.900,4.00,z,***,40,0.9,",
    "2,first_stage,X,F,16.00,,,,40,0.9,",             # 4.00^2 = 16
    "3,split:A,YA,X,0.300,3.00,t,***,20,0.9,",        # group A: 4 entities x 5
    "3,split:B,YB,X,0.500,2.50,t,**,30,0.9,",         # group B: 6 entities x 5
])
RULES = Rules(entities=10, periods=5, groups={"A": 4, "B": 6},
              adding_up=({"table": 1, "total": "Y", "parts": ["Ya", "Yb"]},),
              first_stage=({"table": 2, "column": "X", "f_term": "F", "instrument": "L.X"},),
              compare=({"name": "B - A", "table": 3, "reference": "YA", "other": "YB",
                        "term": "X", "sceptical_sd": 0.1},))


def run(tmp_path, text, rules=RULES):
    path = tmp_path / "t.csv"
    path.write_text(text)
    return audit(read_tables(path), rules)


def problems(res):
    return res.findings[res.findings.severity != "info"]


def test_clean_table_is_silent(tmp_path):
    res = run(tmp_path, CLEAN)
    assert problems(res).empty, res.findings
    ex = res.examined
    assert ex["stars"] == 6 and ex["sign"] == 6 and ex["p_value"] == 1 and ex["nobs"] == 7
    assert ex["adding_up"] == 1 and ex["first_stage"] == 1 and ex["compare"] == 1


@pytest.mark.parametrize("old, new, check", [
    ("0.300,3.00,t,***,50", "0.300,3.00,t,**,50", "stars"),           # too few stars
    ("0.200,1.70,t,*,50", "0.200,1.70,t,,50", "stars"),               # missing star
    ("0.100,2.10,t,**,50", "0.100,-2.10,t,**,50", "sign"),             # sign flipped
    ("0.9,0.0027", "0.9,0.03", "p_value"),                            # p inconsistent with t
    ("16.00,,,,40", "160.00,,,,40", "first_stage"),                   # F != t^2
    ("0.900,4.00,z,***,40", "0.900,4.00,z,***,50", "nobs"),           # lag not dropped
    ("0.500,2.50,t,**,30", "0.500,2.50,t,**,33", "nobs"),             # group size wrong
    ("0.300,3.00,t,***,50,0.9,0.0027", "0.330,3.00,t,***,50,0.9,0.0027", "adding_up"),
])
def test_each_check_fires_on_a_planted_error(tmp_path, old, new, check):
    assert old in CLEAN
    found = problems(run(tmp_path, CLEAN.replace(old, new, 1)))
    assert list(found.check) == [check], found


def test_t_reference_with_clusters():
    # |t| = 2.10: normal p = 0.036 (**); t(3) p = 0.127 (none)
    assert expected_stars(2.10) == "**" and expected_stars(2.10, 3) == ""


def test_adding_up_allows_printed_rounding(tmp_path):
    # 0.10 (2 decimals, +/-0.005) + 0.200 (+/-0.0005) vs 0.304 (+/-0.0005): |0.300 - 0.304| <= 0.006
    text = CLEAN.replace("0.300,3.00,t,***,50,0.9,0.0027", "0.304,3.00,t,***,50,0.9,0.0027")
    text = text.replace("0.100,2.10", "0.10,2.10")
    assert "adding_up" not in set(problems(run(tmp_path, text)).check)


def test_compare_from_printed_statistics(tmp_path):
    # se_A = 0.3/3 = 0.1, se_B = 0.5/2.5 = 0.2; gap 0.2, SE sqrt(0.05) = 0.22361, z = 0.89443
    c = run(tmp_path, CLEAN).comparisons.iloc[0]
    assert c["gap"] == pytest.approx(0.2) and c["se"] == pytest.approx(0.223607, rel=1e-5)
    assert c["z"] == pytest.approx(0.894427, rel=1e-5)
    assert c["p_two_sided"] == pytest.approx(0.371093, rel=1e-4)
    assert c["flat_p_gap_positive"] == pytest.approx(0.814453, rel=1e-4)
    # sceptical N(0, 0.1^2): precision 1/0.05 + 1/0.01 = 120, mean = (0.2/0.05)/120 = 0.033333
    assert c["sceptical_mean"] == pytest.approx(1 / 30, rel=1e-6)


def test_seed_paper_audit():
    res = audit(read_tables(data_dir() / "published" / "tables.csv"),
                load_rules(data_dir() / "published" / "rules_seed.toml"))
    counts = res.counts().set_index("check")
    assert counts.loc["stars", "errors"] == 8 and counts.loc["sign", "errors"] == 1
    assert counts.loc["first_stage", "errors"] == 1 and counts.loc["nobs", "errors"] == 0
    assert counts.loc["adding_up", "errors"] == 0
    gil = res.findings[(res.findings.check == "sign")].iloc[0]
    assert (gil["table"], gil["column"], gil["term"]) == ("4", "CP", "GIL")
    # ../shared/METHODS.md: from Table 7 alone, gap 0.083, SE 0.126, z = 0.66, p = 0.51
    c = res.comparisons.iloc[0]
    assert round(c["gap"], 3) == 0.083 and round(c["se"], 3) == 0.126
    assert round(c["z"], 2) == 0.66 and round(c["p_two_sided"], 2) == 0.51


def test_cli_audit_and_bad_input(tmp_path):
    out = tmp_path / "a"
    res = CliRunner().invoke(app, ["audit", str(data_dir() / "published" / "tables.csv"),
                                   "--rules", str(data_dir() / "published" / "rules_seed.toml"),
                                   "--out", str(out)])
    assert res.exit_code == 0 and "10 errors" in res.output
    assert len(pd.read_csv(out / "findings.csv")) == 11
    bad = tmp_path / "bad.csv"
    bad.write_text(CLEAN.replace("0.200,1.70", "0.2O0,1.70"))
    res = CliRunner().invoke(app, ["audit", str(bad), "--out", str(tmp_path / "b")])
    assert res.exit_code == 2 and "column 'estimate', row 3" in res.stderr
    rules = tmp_path / "r.toml"
    rules.write_text("[desing]\nentities = 3\n")
    good = tmp_path / "good.csv"
    good.write_text(CLEAN)
    res = CliRunner().invoke(app, ["audit", str(good), "--rules", str(rules), "--out",
                                   str(tmp_path / "c")])
    assert res.exit_code == 2 and "unknown section [desing]" in res.stderr
