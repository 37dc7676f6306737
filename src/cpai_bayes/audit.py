"""Audit of published regression tables, from the printed numbers alone.

Input: the long table format of ``data/published/tables.csv`` (table, model, column, term, estimate,
statistic, statistic_kind, stars, nobs, r2; optional ``df`` and ``p`` columns) and a rules file
(TOML) saying what the printed tables should satisfy. Every check runs on every row it applies to;
each problem becomes a finding (table, column, term, check, severity, expected, printed, message).

Checks
------
``stars``        stars vs the statistic under 10/5/1% two-sided thresholds, against the normal and,
                 where a df is given or implied (clusters - 1), the t reference; an error when the
                 stars fit neither, a warning when they fit only one.
``sign``         the sign of the estimate vs the sign of its statistic.
``p_value``      a printed p value vs the one implied by the statistic.
``first_stage``  a printed first-stage F vs the square of the instrument's t or z (one instrument).
``nobs``         N vs the design: entities x periods, one period fewer with a lag, group sizes.
``adding_up``    a total outcome's coefficient vs the sum of its parts, within printed rounding.
``compare``      subgroup comparisons: the gap, its SE from the printed statistics, the Paternoster
                 z and p, and normal-approximation posteriors of the gap under a flat and a
                 sceptical prior (P(gap > 0), 94% HDI). Reported as ``info``.
"""

from __future__ import annotations

import html
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cpai_bayes.constants import HDI_PROB
from cpai_bayes.errors import InputError

__all__ = ["Rules", "load_rules", "read_tables", "audit", "AuditResult", "FINDING_COLUMNS",
           "CHECKS", "expected_stars", "decimals"]

FINDING_COLUMNS = ["table", "column", "term", "check", "severity", "expected", "printed",
                   "message"]
CHECKS = ("stars", "sign", "p_value", "first_stage", "nobs", "adding_up", "compare")
REQUIRED = ("table", "column", "term", "estimate")


@dataclass(frozen=True)
class Rules:
    """What the printed tables should satisfy (all optional)."""

    entities: int | None = None
    periods: int | None = None
    groups: dict | None = None           # group name -> number of entities
    lag_models: tuple[str, ...] = ("iv2sls", "first_stage")
    cluster_df: bool = False             # t reference with df = entities in the sample - 1
    adding_up: tuple[dict, ...] = ()     # {table, total, parts}
    first_stage: tuple[dict, ...] = ()   # {table, column, f_term, instrument}
    compare: tuple[dict, ...] = ()       # {name, table, reference, other, term, sceptical_sd}


def load_rules(path: str | Path | None) -> Rules:
    """Read a rules TOML; ``None`` gives no design rules (row-level checks only)."""
    if path is None:
        return Rules()
    path = Path(path)
    if not path.is_file():
        raise InputError("rules file not found", file=str(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"is not valid TOML ({err})", file=str(path)) from None
    allowed = {"design", "adding_up", "first_stage", "compare"}
    for key in raw:
        if key not in allowed:
            raise InputError(f"unknown section [{key}] (allowed: {', '.join(sorted(allowed))})",
                             file=str(path))
    d = raw.get("design", {})
    known = {"entities", "periods", "groups", "lag_models", "cluster_df"}
    for key in d:
        if key not in known:
            raise InputError(f"unknown key '{key}' in [design]", file=str(path))
    for section, keys in (("adding_up", {"table", "total", "parts"}),
                          ("first_stage", {"table", "column", "f_term", "instrument"}),
                          ("compare", {"name", "table", "reference", "other", "term",
                                       "sceptical_sd"})):
        for item in raw.get(section, []):
            missing = keys - set(item) - {"sceptical_sd"}
            if missing:
                raise InputError(f"[[{section}]] lacks {sorted(missing)}", file=str(path))
    return Rules(entities=d.get("entities"), periods=d.get("periods"), groups=d.get("groups"),
                 lag_models=tuple(d.get("lag_models", ("iv2sls", "first_stage"))),
                 cluster_df=bool(d.get("cluster_df", False)),
                 adding_up=tuple(raw.get("adding_up", [])),
                 first_stage=tuple(raw.get("first_stage", [])),
                 compare=tuple(raw.get("compare", [])))


def read_tables(path: str | Path) -> pd.DataFrame:
    """Read the long published-tables CSV as text (printed digits matter)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=str(path))
    try:
        t = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as err:
        raise InputError(f"cannot be read as a table ({err})", file=str(path)) from None
    for col in REQUIRED:
        if col not in t.columns:
            raise InputError("required column is missing", file=str(path), column=col)
    for col in ("estimate", "statistic", "nobs", "df", "p"):
        if col not in t.columns:
            continue
        for i, v in enumerate(t[col]):
            if v.strip() == "":
                continue
            try:
                float(v)
            except ValueError:
                raise InputError(f"non-numeric value {v!r}", file=str(path), column=col,
                                 row=i + 1) from None
    for col in ("model", "statistic_kind", "stars", "nobs", "r2", "statistic"):
        if col not in t.columns:
            t[col] = ""
    t.attrs["source"] = str(path)
    return t


def decimals(text: str) -> int:
    """Number of printed decimals of a number written as text."""
    text = text.strip()
    return len(text.split(".")[1]) if "." in text else 0


def expected_stars(stat: float, df: float | None = None) -> str:
    """Stars implied by a two-sided test of ``stat`` (normal when ``df`` is None)."""
    p = 2 * (stats.norm.sf(abs(stat)) if df is None else stats.t.sf(abs(stat), df))
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


@dataclass(frozen=True)
class AuditResult:
    """Findings, the subgroup comparisons and how many rows each check examined."""

    findings: pd.DataFrame
    comparisons: pd.DataFrame
    examined: dict

    def counts(self) -> pd.DataFrame:
        f = self.findings
        rows = []
        for check in CHECKS:
            sub = f[f.check == check]
            rows.append({"check": check, "examined": self.examined.get(check, 0),
                         "errors": int((sub.severity == "error").sum()),
                         "warnings": int((sub.severity == "warning").sum()),
                         "info": int((sub.severity == "info").sum())})
        return pd.DataFrame(rows)

    def markdown(self) -> str:
        lines = ["# Audit of published tables", "", "## Findings by check", "",
                 "| check | rows examined | errors | warnings | info |", "|---|---:|---:|---:|---:|"]
        for _, r in self.counts().iterrows():
            lines.append(f"| {r['check']} | {r['examined']} | {r['errors']} | {r['warnings']} | "
                         f"{r['info']} |")
        lines += ["", "## Findings", "", "| table | column | term | check | severity | expected "
                  "| printed | message |", "|---|---|---|---|---|---|---|---|"]
        for _, r in self.findings.iterrows():
            lines.append("| " + " | ".join(str(r[c]).replace("|", "/") for c in FINDING_COLUMNS)
                         + " |")
        if len(self.comparisons):
            lines += ["", "## Subgroup comparisons from the printed figures", ""]
            cols = list(self.comparisons.columns)
            lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            for _, r in self.comparisons.iterrows():
                lines.append("| " + " | ".join(
                    f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + " |")
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        from cpai_bayes.report import frame_html

        return ("<h3>Findings by check</h3>" + frame_html(self.counts())
                + "<h3>Findings</h3>" + frame_html(self.findings)
                + ("<h3>Subgroup comparisons from the printed figures</h3>"
                   + frame_html(self.comparisons, digits=4) if len(self.comparisons) else "")
                ).replace("<table", "<table class=\"audit\"")


def _finding(r, check, severity, expected, printed, message) -> dict:
    return {"table": r["table"], "column": r["column"], "term": r["term"], "check": check,
            "severity": severity, "expected": expected, "printed": printed,
            "message": html.unescape(message)}


def _num(v: str) -> float:
    return float(v) if str(v).strip() != "" else np.nan


def _sample_entities(r, rules: Rules) -> int | None:
    model = str(r.get("model", ""))
    if model.startswith("split:") and rules.groups:
        return rules.groups.get(model.split(":", 1)[1])
    return rules.entities


def audit(tables: pd.DataFrame, rules: Rules) -> AuditResult:
    """Run every check (module docstring) and return the findings."""
    out: list[dict] = []
    examined = dict.fromkeys(CHECKS, 0)
    for _, r in tables.iterrows():
        est, stat = _num(r["estimate"]), _num(r["statistic"])
        if np.isfinite(est) and np.isfinite(stat):
            examined["sign"] += 1
            if est != 0 and stat != 0 and np.sign(est) != np.sign(stat):
                out.append(_finding(r, "sign", "error", f"sign of {stat:g}", r["estimate"],
                                    f"estimate {r['estimate']} and statistic {r['statistic']} "
                                    "have opposite signs"))
            examined["stars"] += 1
            out += _stars(r, stat, rules)
            if "p" in tables.columns and str(r["p"]).strip():
                examined["p_value"] += 1
                out += _p_value(r, stat, rules)
        n = _num(r["nobs"])
        if np.isfinite(n) and rules.periods is not None:
            ents = _sample_entities(r, rules)
            if ents is not None:
                examined["nobs"] += 1
                periods = rules.periods - (1 if r.get("model", "") in rules.lag_models else 0)
                if int(n) != ents * periods:
                    out.append(_finding(r, "nobs", "error", str(ents * periods), r["nobs"],
                                        f"N = {r['nobs']} but the design gives {ents} entities "
                                        f"x {periods} periods = {ents * periods}"))
    for rule in rules.first_stage:
        examined["first_stage"] += 1
        out += _first_stage(tables, rule)
    for rule in rules.adding_up:
        found, n_ex = _adding_up(tables, rule)
        examined["adding_up"] += n_ex
        out += found
    comparisons = []
    for rule in rules.compare:
        examined["compare"] += 1
        row, finding = _compare(tables, rule)
        comparisons.append(row)
        out.append(finding)
    findings = pd.DataFrame(out, columns=FINDING_COLUMNS)
    return AuditResult(findings.drop_duplicates().reset_index(drop=True),
                       pd.DataFrame(comparisons), examined)


def _df_for(r, rules: Rules) -> float | None:
    if "df" in r and str(r["df"]).strip():
        return float(r["df"])
    if str(r.get("statistic_kind", "")).strip() == "t" and rules.cluster_df:
        ents = _sample_entities(r, rules)
        return None if ents is None else ents - 1
    return None


def _stars(r, stat: float, rules: Rules) -> list[dict]:
    printed = str(r["stars"]).strip()
    normal = expected_stars(stat)
    df = _df_for(r, rules)
    t_ref = expected_stars(stat, df) if df is not None else None
    refs = f"normal: '{normal}'" + (f", t({df:g}): '{t_ref}'" if df is not None else "")
    fits = [printed == normal] + ([printed == t_ref] if df is not None else [])
    if all(fits):
        return []
    severity = "error" if not any(fits) else "warning"
    return [_finding(r, "stars", severity, normal if t_ref is None else f"{normal} / {t_ref}",
                     printed or "(none)",
                     f"stars '{printed}' with statistic {r['statistic']}; expected {refs}")]


def _p_value(r, stat: float, rules: Rules) -> list[dict]:
    printed = float(r["p"])
    df = _df_for(r, rules)
    p_norm = 2 * stats.norm.sf(abs(stat))
    p_t = 2 * stats.t.sf(abs(stat), df) if df is not None else None
    tol = 0.5 * 10 ** -max(decimals(str(r["p"])), 1) + 1e-12
    candidates = [p_norm] + ([p_t] if p_t is not None else [])
    if any(abs(printed - p) <= tol or (printed == 0 and p < tol) for p in candidates):
        return []
    exp = f"{p_norm:.4f}" + (f" / t({df:g}) {p_t:.4f}" if p_t is not None else "")
    return [_finding(r, "p_value", "error", exp, r["p"],
                     f"printed p = {r['p']} but statistic {r['statistic']} implies {exp}")]


def _cell(tables, table, column, term, model=None):
    sel = ((tables["table"].astype(str) == str(table)) & (tables["column"] == column)
           & (tables["term"] == term))
    if model is not None:
        sel &= tables["model"] == model
    rows = tables[sel]
    return rows.iloc[0] if len(rows) else None


def _first_stage(tables, rule) -> list[dict]:
    f_row = _cell(tables, rule["table"], rule["column"], rule["f_term"])
    inst = _cell(tables, rule["table"], rule["column"], rule["instrument"])
    if f_row is None or inst is None:
        return [{"table": rule["table"], "column": rule["column"], "term": rule["f_term"],
                 "check": "first_stage", "severity": "warning", "expected": "",
                 "printed": "", "message": "rule names cells that are not in the tables"}]
    f = float(f_row["estimate"])
    stat = float(inst["statistic"])
    sq = stat**2
    if abs(f - sq) <= 0.02 * sq + 0.5:
        return []
    return [_finding(f_row, "first_stage", "error", f"{sq:.2f}", f_row["estimate"],
                     f"first-stage F {f_row['estimate']} but the instrument's "
                     f"{inst['statistic_kind'] or 'statistic'} {inst['statistic']} squared is "
                     f"{sq:.2f}; with one instrument they should agree (unless the F and the "
                     "statistic use different variance estimators, which the table does not say)")]


def _adding_up(tables, rule) -> tuple[list[dict], int]:
    t = tables[tables["table"].astype(str) == str(rule["table"])]
    total = t[t["column"] == rule["total"]]
    found, n = [], 0
    for _, r in total.iterrows():
        parts = [_cell(t, rule["table"], p, r["term"], r.get("model")) for p in rule["parts"]]
        if any(p is None for p in parts):
            continue
        n += 1
        s = sum(float(p["estimate"]) for p in parts)
        tol = sum(0.5 * 10 ** -decimals(p["estimate"]) for p in parts) + 0.5 * 10 ** -decimals(
            r["estimate"])
        if abs(s - float(r["estimate"])) > tol + 1e-12:
            found.append(_finding(r, "adding_up", "error", f"{s:.4g}", r["estimate"],
                                  f"{rule['total']} = {' + '.join(rule['parts'])} should hold; "
                                  f"the parts sum to {s:.4g} (rounding allows +/-{tol:.4g})"))
    return found, n


def _compare(tables, rule) -> tuple[dict, dict]:
    a = _cell(tables, rule["table"], rule["reference"], rule["term"])
    b = _cell(tables, rule["table"], rule["other"], rule["term"])
    if a is None or b is None:
        raise InputError(f"[[compare]] {rule['name']!r} names cells that are not in the tables")
    ea, sa = float(a["estimate"]), abs(float(a["estimate"]) / float(a["statistic"]))
    eb, sb = float(b["estimate"]), abs(float(b["estimate"]) / float(b["statistic"]))
    gap, se = eb - ea, float(np.hypot(sa, sb))
    z = gap / se
    q = stats.norm.ppf(0.5 + HDI_PROB / 2)  # the HDI of a normal is its central interval
    row = {"name": rule["name"], "gap": gap, "se": se, "z": z,
           "p_two_sided": 2 * stats.norm.sf(abs(z)),
           "flat_p_gap_positive": stats.norm.cdf(z), "flat_hdi_lower": gap - q * se,
           "flat_hdi_upper": gap + q * se}
    tau = rule.get("sceptical_sd")
    if tau:
        prec = 1 / se**2 + 1 / tau**2
        m, s = (gap / se**2) / prec, prec**-0.5
        row.update({"sceptical_sd": tau, "sceptical_mean": m,
                    "sceptical_p_gap_positive": stats.norm.cdf(m / s),
                    "sceptical_hdi_lower": m - q * s, "sceptical_hdi_upper": m + q * s})
    msg = (f"{rule['name']}: gap {gap:.3f}, SE {se:.3f} (from the printed statistics, independent "
           f"groups), z = {z:.2f}, p = {row['p_two_sided']:.2f}; flat prior: P(gap > 0) = "
           f"{row['flat_p_gap_positive']:.2f}, {HDI_PROB:.0%} HDI [{row['flat_hdi_lower']:.3f}, "
           f"{row['flat_hdi_upper']:.3f}]")
    if tau:
        msg += (f"; sceptical N(0, {tau:g}^2) prior: P(gap > 0) = "
                f"{row['sceptical_p_gap_positive']:.2f}")
    finding = {"table": rule["table"], "column": f"{rule['other']} vs {rule['reference']}",
               "term": rule["term"], "check": "compare", "severity": "info",
               "expected": "", "printed": f"{eb:g} vs {ea:g}", "message": msg}
    return row, finding
