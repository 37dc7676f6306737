"""Malformed inputs as a new user would produce them: one-line errors naming file, column, row."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cpai_bayes.cli import app
from cpai_bayes.datasets import data_dir, load_indicator_system, load_provinces
from cpai_bayes.errors import InputError
from cpai_bayes.schema import PanelSpec, load_panel

SYSTEMS = {"CP": load_indicator_system("cp"), "AI": load_indicator_system("ai")}


@pytest.fixture
def ready():
    return pd.read_csv(data_dir() / "synthetic" / "panel.csv", dtype=str)


@pytest.fixture
def raw():
    return pd.read_csv(data_dir() / "synthetic" / "panel_raw.csv", dtype=str)


def write(df, tmp_path, name="panel.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def error_of(path, **kw):
    with pytest.raises(InputError) as info:
        load_panel(path, systems=SYSTEMS, **kw)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return info.value


def test_non_numeric_cell(ready, tmp_path):
    ready.loc[4, "AI"] = "n/a*"
    err = error_of(write(ready, tmp_path))
    assert (err.column, err.row) == ("AI", 5)
    assert "non-numeric value 'n/a*'" in str(err) and "row 5 (line 6)" in str(err)


def test_missing_value(ready, tmp_path):
    ready.loc[9, "FDI"] = ""
    err = error_of(write(ready, tmp_path))
    assert (err.column, err.row) == ("FDI", 10) and "missing value" in str(err)


def test_duplicate_entity_year(ready, tmp_path):
    dup = pd.concat([ready, ready.iloc[[2]]], ignore_index=True)
    err = error_of(write(dup, tmp_path))
    assert err.row == len(dup) and "first seen in row 3" in str(err)
    assert "(Beijing, 2014)" in str(err)


def test_missing_column(ready, tmp_path):
    err = error_of(write(ready.drop(columns="GIL"), tmp_path))
    assert err.column == "GIL" and "missing" in str(err)


def test_constant_raw_indicator(raw, tmp_path):
    raw["cp05"] = "1.0"
    err = error_of(write(raw, tmp_path))
    assert err.column == "cp05" and "constant" in str(err)


def test_unknown_entity(ready, tmp_path):
    ready.loc[30, "province"] = "Tibet"
    err = error_of(write(ready, tmp_path), known_entities=load_provinces()["province"])
    assert (err.column, err.row) == ("province", 31) and "'Tibet'" in str(err)


def test_entity_in_two_groups(ready, tmp_path):
    ready.loc[3, "region"] = "Mid-West"  # Beijing 2015
    err = error_of(write(ready, tmp_path))
    assert err.column == "region" and "more than one group" in str(err)


def test_fractional_period(ready, tmp_path):
    ready.loc[0, "year"] = "2012.5"
    err = error_of(write(ready, tmp_path))
    assert (err.column, err.row) == ("year", 1)


def test_unreadable_and_missing_files(tmp_path):
    err = error_of(tmp_path / "nope.csv")
    assert "file not found" in str(err)
    (tmp_path / "empty.csv").write_text("")
    assert "cannot be read" in str(error_of(tmp_path / "empty.csv"))
    (tmp_path / "bin.parquet").write_bytes(b"\x00\x01garbage")
    assert "cannot be read" in str(error_of(tmp_path / "bin.parquet"))


def test_semicolon_separated_file(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("province;year;CP\nBeijing;2012;0.3\n")
    assert "separated by ';' instead of commas" in str(error_of(path))


def test_unbalanced_panel_is_reported_not_rejected(ready, tmp_path):
    panel = load_panel(write(ready.drop(index=[0, 1, 40]), tmp_path), systems=SYSTEMS)
    assert not panel.balanced and len(panel.frame) == 267
    assert any("unbalanced panel" in n for n in panel.notes)
    ds = panel.to_xarray()
    assert ds.sizes == {"entity": 30, "year": 9} and int(ds["CP"].isnull().sum()) == 3


def test_other_column_names_and_parquet(ready, tmp_path):
    renamed = ready.rename(columns={"province": "county", "year": "t", "region": "zone"})
    path = tmp_path / "p.parquet"
    num = renamed.drop(columns=["synthetic", "region_nbs"])
    for c in num.columns.difference(["county", "zone"]):
        num[c] = num[c].astype(float)
    num.to_parquet(path)
    spec = PanelSpec(entity="county", time="t", group="zone")
    panel = load_panel(path, spec)
    assert panel.balanced and panel.n_entities == 30
    assert list(panel.to_xarray()["CP"].dims) == ["entity", "year"]


def test_raw_and_ready_files_give_the_same_indices(shipped_panel, ready, tmp_path):
    ready_panel = load_panel(write(ready, tmp_path))
    for col in ("CP", "AI", "CP_sharing"):
        np.testing.assert_allclose(ready_panel.frame[col], shipped_panel.frame[col], rtol=1e-8)


def test_cli_bad_input_exits_2_with_one_line_and_no_output(ready, tmp_path):
    raw = pd.read_csv(data_dir() / "synthetic" / "panel_raw.csv", dtype=str)
    raw.loc[6, "ai03"] = "12,5"
    bad = write(raw, tmp_path, "raw.csv")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["index", str(bad), "--out", str(out)])
    assert res.exit_code == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "column 'ai03', row 7" in lines[0] and "Traceback" not in res.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
