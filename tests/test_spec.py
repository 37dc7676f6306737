"""Malformed specs: every problem reported before anything is fitted, naming the file and key."""

import pytest
from typer.testing import CliRunner

from cpai_bayes.cli import app
from cpai_bayes.datasets import data_dir
from cpai_bayes.errors import InputError
from cpai_bayes.spec import load_spec

DATA = (data_dir() / "synthetic" / "panel.csv").as_posix()
GOOD = f'''[data]
path = "{DATA}"
group = "region"
[model]
outcome = "CP"
regressor = "AI"
controls = ["FDI", "DUP", "SCS", "FDS", "GIL"]
[baselines]
estimators = ["twfe", "split"]
'''


def spec_error(tmp_path, text, match):
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        load_spec(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("text, match", [
    (GOOD.replace("estimators", "estimater"), r"unknown key 'estimater' in \[baselines\]"),
    (GOOD.replace('"split"', '"splitt"'), "unknown estimator 'splitt'"),
    (GOOD.replace('group = "region"\n', ""), "estimator 'split' needs \\[data\\] group"),
    (GOOD + "[bayesian]\nx = 1\n", r"unknown section \[bayesian\]"),
    (GOOD.replace('regressor = "AI"', "regressor = 3"), r"\[model\] regressor must be a str"),
    (GOOD.replace('outcome = "CP"', 'outcome = "AI"'), "column 'AI' has more than one role"),
    (GOOD.replace("[baselines]", "[baselines]\nwinsor_level = 0.7"), "winsor_level"),
    (GOOD.replace('path = ', 'pth = '), r"unknown key 'pth' in \[data\]"),
    ("[data\npath = 1", "is not valid TOML"),
])
def test_bad_specs(tmp_path, text, match):
    spec_error(tmp_path, text, match)


def test_cli_missing_data_column_reported_before_fitting(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace('"GIL"', '"GIL2"'))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["fit", str(path), "--out", str(out)])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [
        f"cpai-bayes: error: {DATA}, column 'GIL2': required column is missing (and is not an "
        "index that the indicator systems can build)"]
    assert not out.exists()


def test_cli_unknown_reference_level(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace('group = "region"', 'group = "region"\nreference = "West"'))
    res = CliRunner().invoke(app, ["fit", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "reference 'West' is not a level of 'region'" in res.stderr


def test_shipped_specs_load():
    from cpai_bayes.datasets import models_dir

    for name in ("table4_twfe", "table5_iv", "table6_robust", "table7_regions"):
        spec = load_spec(models_dir() / f"{name}.toml")
        assert spec.data.is_file() and spec.panel.regressor == "AI"
