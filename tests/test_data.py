"""The shipped reference data: counts and groupings that the paper states."""

import pandas as pd

from cpai_bayes.datasets import load_indicator_system, load_provinces, load_published_tables


def test_provinces_and_groupings():
    p = load_provinces()
    assert len(p) == 30 and p["province"].is_unique
    assert p["region"].value_counts().to_dict() == {"Mid-West": 19, "East": 11}
    assert p["region_nbs"].value_counts().to_dict() == {"East": 10, "West": 11, "Central": 6,
                                                        "Northeast": 3}
    # footnote 1: Liaoning is East in the paper, Northeast for the NBS
    row = p.set_index("province").loc["Liaoning"]
    assert (row["region"], row["region_nbs"]) == ("East", "Northeast")


def test_indicator_systems_as_printed():
    cp, ai = load_indicator_system("cp"), load_indicator_system("ai")
    assert cp["dimension"].value_counts().to_dict() == {"continuing": 10, "sharing": 9,
                                                       "wealth": 7}
    assert set(cp.loc[cp["direction"] == "-", "code"]) == {"cp16", "cp20"}
    assert len(ai) == 12 and set(ai.loc[ai["direction"] == "-", "code"]) == {"ai02"}
    assert ai.loc[ai.code == "ai02", "name_zh"].item() == "第二、三产业比重"


def test_published_tables_keep_the_printed_text():
    t = load_published_tables()
    assert t.groupby("table").size().to_dict() == {3: 28, 4: 28, 5: 12, 6: 4, 7: 4}
    t4 = t[(t.table == 4) & (t.term == "AI")].set_index("column")
    assert t4.loc["CP", "printed"] == "0.360*** (5.6)"
    dims = t4.loc[["CP_wealth", "CP_sharing", "CP_continuing"], "estimate"].astype(float).sum()
    assert abs(dims - float(t4.loc["CP", "estimate"])) < 1e-9  # 0.058 + 0.065 + 0.237
    # misprints are kept, not corrected
    gil = t[(t.table == 4) & (t.term == "GIL") & (t.column == "CP")].iloc[0]
    assert (gil["estimate"], gil["statistic"]) == ("0.020", "-0.26")
    assert "[16.86[" in t["printed"].str.cat()
    assert pd.api.types.is_string_dtype(t["estimate"])
