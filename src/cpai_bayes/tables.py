"""Tables built from the tidy coefficient frame: paper-style regression tables (Markdown, HTML)
and the side-by-side comparison with the published tables."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

__all__ = ["is_z", "short_se", "stars", "regression_table", "to_markdown", "to_html", "compare_published"]


def is_z(se_type: str) -> bool:
    """Whether a row's statistic is z (normal reference) rather than t."""
    s = str(se_type)
    return s.startswith("PCSE") or "Paternoster z" in s


def short_se(se_type: str) -> str:
    """The first word of an SE description, for table footers (``CRV1(province)``, ``PCSE``)."""
    return str(se_type).split(" ")[0].rstrip(",")


def stars(p: float) -> str:
    """The usual 10/5/1% stars of a p value."""
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def regression_table(coefs: pd.DataFrame, fit_stats: pd.DataFrame, *,
                     terms: list[str] | None = None, digits: int = 3) -> pd.DataFrame:
    """One column per (model, outcome): coefficient with stars over its statistic in brackets,
    then N, within R2, LSDV R2 and the SE type, as the seed study prints them."""
    keys = list(dict.fromkeys(zip(coefs["model"], coefs["outcome"], strict=True)))
    keys.sort(key=lambda k: k[0] != "first_stage")
    present = set(coefs["term"])
    terms = [t for t in (terms or list(dict.fromkeys(coefs["term"]))) if t in present]
    cols = {}
    for model, outcome in keys:
        sub = coefs[(coefs.model == model) & (coefs.outcome == outcome)].set_index("term")
        cells = []
        for t in terms:
            if t in sub.index:
                r = sub.loc[t]
                bracket = "[{:.2f}]" if is_z(r["se_type"]) else "({:.2f})"
                cells += [f"{r['estimate']:.{digits}f}{stars(r['p_value'])}",
                          bracket.format(r["statistic"])]
            else:
                cells += ["", ""]
        st = fit_stats[(fit_stats.model == model) & (fit_stats.outcome == outcome)]
        st = st.iloc[0] if len(st) else pd.Series(dtype=object)
        cells += [f"{int(st['nobs'])}" if "nobs" in st and pd.notna(st["nobs"]) else "",
                  f"{st['r2_within']:.4f}" if pd.notna(st.get("r2_within", np.nan)) else "",
                  f"{st['r2_lsdv']:.4f}" if pd.notna(st.get("r2_lsdv", np.nan)) else "",
                  short_se(sub["se_type"].iloc[0]) if len(sub) else ""]
        cols[f"{model}\n{outcome}"] = cells
    index = [x for t in terms for x in (t, "")] + ["N", "R2 within", "R2 LSDV", "SE"]
    return pd.DataFrame(cols, index=index)


def to_markdown(table: pd.DataFrame, *, note: str = "") -> str:
    heads = [c.replace("\n", " ") for c in table.columns]
    lines = ["| | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
    for label, row in table.iterrows():
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def to_html(table: pd.DataFrame, *, note: str = "") -> str:
    head = "".join(f"<th>{html.escape(c).replace(chr(10), '<br>')}</th>" for c in table.columns)
    body = "".join(
        f"<tr><td>{html.escape(str(label))}</td>"
        + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for label, row in table.iterrows())
    foot = f"<p class=\"note\">{html.escape(note)}</p>" if note else ""
    return f"<table><tr><th></th>{head}</tr>{body}</table>{foot}"


_PAPER_MODEL = {"twfe": "twfe", "iv2sls": "iv2sls", "first_stage": "first_stage",
                "winsor": "winsor", "pcse": "pcse"}


def compare_published(coefs: pd.DataFrame, published: pd.DataFrame, *, regressor: str = "AI",
                      label: str = "ours") -> pd.DataFrame:
    """Each published coefficient of the regressor (Tables 4-7) beside ours for the same model and
    outcome: estimate, statistic and stars, printed and recomputed."""
    pub = published[published["table"].isin([4, 5, 6, 7])
                    & published["term"].isin([regressor, f"L.{regressor}"])].copy()
    outcome_of = {"CPe": "CP", "CPwm": "CP", "AI": regressor}
    rows = []
    for _, p in pub.iterrows():
        outcome = outcome_of.get(p["column"], p["column"])
        term = f"L.{regressor}" if p["model"] == "first_stage" else regressor
        mine = coefs[(coefs.model == p["model"]) & (coefs.outcome == outcome)
                     & (coefs.term == term)]
        r = mine.iloc[0] if len(mine) else None
        rows.append({
            "table": int(p["table"]), "model": p["model"], "outcome": outcome,
            "paper_estimate": float(p["estimate"]),
            "paper_statistic": float(p["statistic"]) if pd.notna(p["statistic"]) else np.nan,
            "paper_stars": p["stars"] if isinstance(p["stars"], str) else "",
            f"{label}_estimate": r["estimate"] if r is not None else np.nan,
            f"{label}_std_error": r["std_error"] if r is not None else np.nan,
            f"{label}_statistic": r["statistic"] if r is not None else np.nan,
            f"{label}_stars": stars(r["p_value"]) if r is not None else "",
            f"{label}_se_type": r["se_type"] if r is not None else "",
        })
    return pd.DataFrame(rows)
