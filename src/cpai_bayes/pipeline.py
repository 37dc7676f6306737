"""The jobs behind the CLI. Each validates its inputs first, writes into a staging folder, and moves
the folder into place only when everything succeeded, so a failed run leaves no partial output."""

from __future__ import annotations

import html
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cpai_bayes import __version__
from cpai_bayes.constants import CONTROLS, PAPER_YEARS, SEED, SHIFT
from cpai_bayes.datasets import (
    SYNTHETIC_RAW,
    data_dir,
    load_indicator_system,
    load_provinces,
    load_published_tables,
)
from cpai_bayes.describe import compare_table3, describe
from cpai_bayes.errors import InputError
from cpai_bayes.report import Section, frame_html, render_report
from cpai_bayes.schema import Panel, PanelSpec, load_panel
from cpai_bayes.simulate import CALIBRATED_TRUTH, simulate_panel, write_synthetic

__all__ = ["staged_output", "replicate", "simulate", "build_indices", "fit", "run_baselines",
           "ReplicateResult", "FitResult"]


@contextmanager
def staged_output(out: str | Path) -> Iterator[Path]:
    """Yield a fresh staging folder beside ``out``; on success it replaces ``out`` in one rename,
    on any error it is removed and ``out`` is left as it was."""
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", file=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        stage.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        stage.rename(out)


def _systems() -> dict[str, pd.DataFrame]:
    return {"CP": load_indicator_system("cp"), "AI": load_indicator_system("ai")}


def _is_synthetic(path: Path) -> bool:
    with open(path, encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
    return header.split(",")[0].strip().strip('"') == "synthetic"


def _run_info(command: str, **extra) -> dict:
    return {"command": command, "cpai_bayes": __version__, "python": platform.python_version(),
            **extra}


@dataclass(frozen=True)
class ReplicateResult:
    """What ``replicate`` wrote and the objects behind it."""

    out: Path
    panel: Panel
    table3: pd.DataFrame
    weights: pd.DataFrame
    seconds: float


def replicate(out: str | Path, *, data: str | Path | None = None, quick: bool = False,
              seed: int = SEED, normalisation: str = "pooled") -> ReplicateResult:
    """Rebuild the seed study's indices and Table 3 from raw indicators and write the report.

    Parameters
    ----------
    out
        Output folder (replaced as a whole when the run succeeds).
    data
        Raw-indicator CSV/parquet laid out like ``data/synthetic/panel_raw.csv``; default: the shipped
        SYNTHETIC panel.
    quick
        Fewer draws in the sampling stages; recorded in the report.
    seed
        Seed of every random step (bootstraps and samplers); the data are not redrawn.
    normalisation
        ``"pooled"`` (default) or ``"year"`` min-max normalisation.
    """
    start = time.perf_counter()
    source = Path(data) if data is not None else data_dir() / SYNTHETIC_RAW
    synthetic = source.is_file() and _is_synthetic(source)
    systems = _systems()
    panel = load_panel(source, PanelSpec(), systems=systems, normalisation=normalisation)
    published = load_published_tables()
    label = "synthetic" if synthetic else "data"
    ours = describe(panel.frame, ["CP", "AI", *CONTROLS])
    table3 = compare_table3(ours, published, label=label)
    weights = pd.concat([panel.indices[k].weights_table(systems[k]) for k in ("CP", "AI")],
                        ignore_index=True)
    baselines = _replicate_baselines(panel, published)
    with staged_output(out) as stage:
        panel.frame.to_csv(stage / "panel.csv", index=False, float_format="%.10g")
        baselines["coefficients"].to_csv(stage / "coefficients.csv", index=False,
                                         float_format="%.10g")
        baselines["fit_stats"].to_csv(stage / "fit_stats.csv", index=False, float_format="%.10g")
        baselines["comparison"].to_csv(stage / "published_vs_ours.csv", index=False,
                                       float_format="%.6g")
        for name, (md, _) in baselines["tables"].items():
            (stage / f"{name}.md").write_text(md)
        table3.to_csv(stage / "table3.csv", index=False, float_format="%.6g")
        (stage / "table3.md").write_text(_table3_markdown(table3, label))
        weights.to_csv(stage / "weights.csv", index=False, float_format="%.10g")
        info = _run_info("replicate", data=str(source), synthetic=synthetic, quick=quick,
                         seed=seed, normalisation=normalisation, shift=SHIFT,
                         rows=len(panel.frame), entities=panel.n_entities,
                         periods=panel.n_periods)
        sections = _replicate_sections(panel, table3, weights, label)
        sections += _baseline_sections(baselines, label)
        title = "cpai_bayes re-analysis: AI and common prosperity (seed study)"
        (stage / "report.html").write_text(render_report(
            title, sections, synthetic=synthetic, source=str(source), run_info=info))
        info["seconds"] = round(time.perf_counter() - start, 3)
        (stage / "run.json").write_text(json.dumps(info, indent=2) + "\n")
    return ReplicateResult(out=Path(out), panel=panel, table3=table3, weights=weights,
                           seconds=time.perf_counter() - start)


SPEC_FILES = ("table4_twfe.toml", "table5_iv.toml", "table6_robust.toml", "table7_regions.toml")


def _replicate_baselines(panel: Panel, published: pd.DataFrame) -> dict:
    """Run the shipped specs (models/table4..7) on the replicated panel."""
    from cpai_bayes.datasets import models_dir
    from cpai_bayes.spec import load_spec
    from cpai_bayes.tables import compare_published, regression_table, to_html, to_markdown

    coefs, fstats, warns, tables = [], [], [], {}
    for name in SPEC_FILES:
        spec = load_spec(models_dir() / name)
        sub = Panel(frame=panel.frame, spec=spec.panel, source=panel.source)
        res = run_baselines(sub, spec.baselines, reference=spec.reference)
        coefs.append(res.coefficients)
        fstats.append(res.fit_stats)
        warns += list(res.warnings)
        shown = res.coefficients[res.coefficients.model != "gap"]
        table = regression_table(shown, res.fit_stats, terms=_table_terms(spec.panel))
        note = "Statistics in parentheses are t, in brackets z. * p<0.1, ** p<0.05, *** p<0.01."
        tables[name.removesuffix(".toml")] = (to_markdown(table, note=note),
                                              to_html(table, note=note))
    coefficients = pd.concat(coefs, ignore_index=True)
    return {"coefficients": coefficients, "fit_stats": pd.concat(fstats, ignore_index=True),
            "warnings": tuple(dict.fromkeys(warns)), "tables": tables,
            "comparison": compare_published(coefficients, published, label="ours")}


def _baseline_sections(b: dict, label: str) -> list[Section]:
    cmp_ = b["comparison"].copy()
    intro = (f"<p>The AI coefficient of each published column beside the same estimator on the "
             f"{label} panel. Our SEs: clustered by province with Stata's xtreg-fe small-sample "
             "factor (t with G-1 df), PCSE with z; the paper does not say which it used.</p>")
    out = [Section("Tables 4-7: published vs recomputed AI coefficients",
                   intro + frame_html(cmp_, digits=3))]
    gap = b["coefficients"][b["coefficients"].model == "gap"]
    if len(gap):
        out.append(Section("The East vs Mid-West gap (tests the paper did not run)", (
            "<p>Interaction: pooled TWFE with AI x region (slope only). Paternoster: z from the two "
            "split fits. Permutation: whole provinces reassigned between regions.</p>"
            + frame_html(gap.drop(columns=["model"]), digits=4))))
    for name, (_, table_html) in b["tables"].items():
        out.append(Section(f"{name}: {label} panel", table_html))
    if b["warnings"]:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in b["warnings"])
        out.append(Section("Warnings from the baselines", f'<ul class="flag">{items}</ul>'))
    return out


def _table3_markdown(table3: pd.DataFrame, label: str) -> str:
    lines = [f"| variable | N paper | N {label} | mean paper | mean {label} | SD paper | SD {label} "
             f"| min paper | min {label} | max paper | max {label} |",
             "|---|" + "---:|" * 10]
    for _, r in table3.iterrows():
        cells = [r["variable"], f"{r['n_paper']:.0f}", f"{r[f'n_{label}']:.0f}"]
        for s in ("mean", "sd", "min", "max"):
            cells += [f"{r[f'{s}_paper']:.4g}", f"{r[f'{s}_{label}']:.4g}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _replicate_sections(panel: Panel, table3: pd.DataFrame, weights: pd.DataFrame,
                        label: str) -> list[Section]:
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in panel.notes)
    data = Section("Data", (
        f"<p>{panel.n_entities} entities x {panel.n_periods} periods, {len(panel.frame)} rows"
        f" ({'balanced' if panel.balanced else 'unbalanced'}).</p><ul>{notes}</ul>"))
    flagged = table3.loc[~table3["within_tolerance"], "variable"].tolist()
    flag = (f'<p class="flag">Mean or SD more than 15% from the paper: {", ".join(flagged)}</p>'
            if flagged else "<p>Every mean and SD is within 15% of the paper's.</p>")
    t3 = Section("Table 3: descriptive statistics, paper vs " + label,
                 frame_html(table3, digits=4) + flag)
    wt = Section("Entropy weights (point estimates)", (
        "<p>Direction-aware min-max normalisation pooled over all province-years, shift "
        f"{SHIFT:g} before logs; dimension sub-indices reuse the global weights, so "
        "CP = CP_wealth + CP_sharing + CP_continuing.</p>" + frame_html(weights, digits=4)))
    return [data, t3, wt]


def simulate(out: str | Path, *, seed: int = SEED, n_entities: int = 30,
             years: tuple[int, ...] = PAPER_YEARS, gap: float | None = None) -> Path:
    """Draw a SYNTHETIC panel from the calibrated truth (optionally with another East vs Mid-West
    latent gap, other sizes) and write it with its truth and its ready index panel."""
    from dataclasses import replace

    if n_entities < 2 or len(years) < 2:
        raise InputError("a panel needs at least 2 entities and 2 periods")
    truth = replace(CALIBRATED_TRUTH, n_entities=n_entities, years=tuple(years))
    if gap is not None:
        truth = truth.with_gap(gap)
    sim = simulate_panel(seed=seed, truth=truth)
    systems = _systems()
    spec = PanelSpec(group="region")
    with staged_output(out) as stage:
        write_synthetic(sim, stage)
        panel = load_panel(stage / "panel_raw.csv", spec, systems=systems)
        ready = panel.frame.copy()
        ready.insert(0, "synthetic", "SYNTHETIC")
        ready.to_csv(stage / "panel.csv", index=False, float_format="%.10g")
    return Path(out)


def build_indices(data: str | Path, out: str | Path, *, spec: PanelSpec | None = None,
                  normalisation: str = "pooled", shift: float = SHIFT,
                  paper_entities: bool = False) -> Panel:
    """Build the CP and AI entropy indices from a raw-indicator file; write ``panel.csv`` and
    ``weights.csv``."""
    systems = _systems()
    known = load_provinces()["province"].tolist() if paper_entities else None
    panel = load_panel(data, spec or PanelSpec(), systems=systems, known_entities=known,
                       normalisation=normalisation, shift=shift)
    if not panel.indices:
        raise InputError("holds no raw indicators to build indices from (it already has the "
                         "index columns)", file=str(data))
    weights = pd.concat([panel.indices[k].weights_table(systems[k]) for k in panel.indices],
                        ignore_index=True)
    with staged_output(out) as stage:
        frame = panel.frame.copy()
        if _is_synthetic(Path(data)):
            frame.insert(0, "synthetic", "SYNTHETIC")
        frame.to_csv(stage / "panel.csv", index=False, float_format="%.10g")
        weights.to_csv(stage / "weights.csv", index=False, float_format="%.10g")
    return panel


@dataclass(frozen=True)
class FitResult:
    """What ``fit`` produced: the tidy coefficients, fit statistics and warnings."""

    out: Path | None
    coefficients: pd.DataFrame
    fit_stats: pd.DataFrame
    warnings: tuple[str, ...]
    descriptives: pd.DataFrame | None


def run_baselines(panel: Panel, options, *, reference: str | None = None) -> FitResult:
    """Run the spec's frequentist estimators on a validated panel (no I/O)."""
    from cpai_bayes import baselines as bl

    spec, frame = panel.spec, panel.frame
    results: list = []
    descriptives = None
    est = options.estimators
    if "describe" in est:
        descriptives = describe(frame, spec.variables)
    for outcome in spec.outcomes:
        if "twfe" in est:
            results.append(bl.fit_twfe(frame, spec, outcome, vcov=options.vcov))
        if "iv2sls" in est:
            second, first = bl.fit_iv2sls(frame, spec, outcome, vcov=options.vcov)
            results.append(second)
            if not any(r.model == "first_stage" for r in results):
                results.append(first)
        if "winsor" in est:
            results.append(bl.fit_winsor(frame, spec, outcome, level=options.winsor_level,
                                         vcov=options.vcov))
        if "pcse" in est:
            results.append(bl.fit_pcse(frame, spec, outcome, ar1=options.pcse_ar1))
        splits = None
        if "split" in est or "gap" in est:
            splits = bl.fit_split(frame, spec, outcome, vcov=options.vcov)
        if "split" in est:
            results.extend(splits)
        if "gap" in est:
            results.append(bl.fit_gap(frame, spec, outcome, reference=reference,
                                      permutations=options.permutations, seed=options.seed,
                                      vcov=options.vcov, splits=splits))
    coefs = (pd.concat([r.coefficients for r in results], ignore_index=True)
             if results else pd.DataFrame(columns=bl.COLUMNS))
    stats_rows = [{"model": r.model, "outcome": r.outcome, **r.stats} for r in results]
    warnings = tuple(dict.fromkeys(w for r in results for w in r.warnings))
    return FitResult(None, coefs, pd.DataFrame(stats_rows), warnings, descriptives)


def _check_groups(panel: Panel, spec_file: str, estimators, reference: str | None) -> None:
    group = panel.spec.group
    if group is None or not ({"split", "gap"} & set(estimators)) and reference is None:
        return
    levels = sorted(panel.frame[group].unique())
    if len(levels) < 2 and {"split", "gap"} & set(estimators):
        raise InputError(f"split/gap need at least two levels of '{group}', found {levels}",
                         file=spec_file)
    if reference is not None and reference not in levels:
        raise InputError(f"[data] reference {reference!r} is not a level of '{group}' "
                         f"({', '.join(map(str, levels))})", file=spec_file)
    small = panel.frame.groupby(group)[panel.spec.entity].nunique()
    if (small < 2).any():
        raise InputError(f"group level {small.idxmin()!r} has fewer than 2 entities, too few "
                         "for a split fit", file=spec_file)


def fit(spec_path: str | Path, out: str | Path, *, data: str | Path | None = None) -> FitResult:
    """Validate a spec and its data, run its baselines and write ``coefficients.csv``,
    ``fit_stats.csv``, ``table.md``, ``table.html`` (and ``descriptives.csv``, ``warnings.txt``)."""
    from cpai_bayes.spec import load_spec
    from cpai_bayes.tables import regression_table, to_html, to_markdown

    spec = load_spec(spec_path, data=data)
    panel = load_panel(spec.data, spec.panel, systems=_systems())
    if "iv2sls" in spec.baselines.estimators and panel.n_periods < 3:
        raise InputError("iv2sls needs at least 3 periods (one is lost to the lag)",
                         file=str(spec.source))
    _check_groups(panel, str(spec.source), spec.baselines.estimators, spec.reference)
    res = run_baselines(panel, spec.baselines, reference=spec.reference)
    note = _table_note(spec, panel, res.warnings)
    table = regression_table(res.coefficients[res.coefficients.model != "gap"], res.fit_stats,
                             terms=_table_terms(panel.spec))
    with staged_output(out) as stage:
        res.coefficients.to_csv(stage / "coefficients.csv", index=False, float_format="%.10g")
        res.fit_stats.to_csv(stage / "fit_stats.csv", index=False, float_format="%.10g")
        (stage / "table.md").write_text(to_markdown(table, note=note))
        (stage / "table.html").write_text(to_html(table, note=note))
        if res.descriptives is not None:
            res.descriptives.to_csv(stage / "descriptives.csv", index=False, float_format="%.8g")
        if res.warnings:
            (stage / "warnings.txt").write_text("\n".join(res.warnings) + "\n")
    return FitResult(Path(out), res.coefficients, res.fit_stats, res.warnings, res.descriptives)


def _table_terms(spec: PanelSpec) -> list[str]:
    return [spec.regressor, f"L.{spec.regressor}", *spec.controls]


def _table_note(spec, panel: Panel, warnings) -> str:
    synthetic = "SYNTHETIC data. " if _is_synthetic(spec.data) else ""
    return (f"{synthetic}{panel.spec.entity} and {panel.spec.time} fixed effects in every column. "
            "Statistics in parentheses are t, in brackets z. * p<0.1, ** p<0.05, *** p<0.01. "
            + " ".join(warnings))
