"""Descriptive statistics (the seed study's Table 3) for any panel, beside the published ones."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["describe", "compare_table3"]

STATS = ("mean", "sd", "min", "max")


def describe(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """N, mean, SD (n - 1 denominator, as Stata's ``summarize``), min and max per column."""
    rows = []
    for col in columns:
        x = frame[col].astype(float)
        rows.append({"variable": col, "n": int(x.notna().sum()), "mean": x.mean(), "sd": x.std(ddof=1),
                     "min": x.min(), "max": x.max()})
    return pd.DataFrame(rows)


def compare_table3(ours: pd.DataFrame, published: pd.DataFrame, *, label: str,
                   tolerance: float = 0.15) -> pd.DataFrame:
    """Table 3 as printed beside the same statistics of ``ours``.

    Parameters
    ----------
    ours
        Output of ``describe``.
    published
        The long published-tables frame (``datasets.load_published_tables``).
    label
        Name of our data in the column headers (e.g. ``"synthetic"``).
    tolerance
        Relative difference of mean and SD above which a row is flagged.
    """
    t3 = published[published["table"] == 3]
    paper = t3.pivot(index="term", columns="column", values="estimate").astype(float)
    paper_n = t3.groupby("term")["nobs"].first()
    rows = []
    for _, r in ours.iterrows():
        v = r["variable"]
        row = {"variable": v, f"n_{label}": r["n"]}
        for s in STATS:
            row[f"{s}_paper"] = paper.loc[v, s] if v in paper.index else float("nan")
            row[f"{s}_{label}"] = r[s]
        row["n_paper"] = paper_n.get(v, float("nan"))
        for s in ("mean", "sd"):
            row[f"{s}_rel_diff"] = (r[s] - row[f"{s}_paper"]) / row[f"{s}_paper"]
        row["within_tolerance"] = bool(abs(row["mean_rel_diff"]) <= tolerance
                                       and abs(row["sd_rel_diff"]) <= tolerance)
        rows.append(row)
    cols = ["variable", "n_paper", f"n_{label}"]
    for s in STATS:
        cols += [f"{s}_paper", f"{s}_{label}"]
    cols += ["mean_rel_diff", "sd_rel_diff", "within_tolerance"]
    return pd.DataFrame(rows)[cols]
