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

import numpy as np
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
    header = pd.read_csv(source, nrows=0).columns if source.suffix == ".csv" and \
        source.is_file() else []
    extra = tuple(g for g in ("region_nbs",) if g in header)
    panel = load_panel(source, PanelSpec(extra_groups=extra), systems=systems,
                       normalisation=normalisation)
    published = load_published_tables()
    label = "synthetic" if synthetic else "data"
    ours = describe(panel.frame, ["CP", "AI", *CONTROLS])
    table3 = compare_table3(ours, published, label=label)
    weights = pd.concat([panel.indices[k].weights_table(systems[k]) for k in ("CP", "AI")],
                        ignore_index=True)
    baselines = _replicate_baselines(panel, published)
    with staged_output(out) as stage:
        panel.frame.to_csv(stage / "panel.csv", index=False, float_format="%.10g")
        bayes = _replicate_bayes(panel, baselines, stage, quick=quick, seed=seed)
        unc = _replicate_uncertainty(source, panel, baselines, bayes, stage, quick=quick,
                                     seed=seed)
        coefficients = _full_schema(_with_bayes(baselines["coefficients"], bayes) if bayes
                                    else baselines["coefficients"])
        coefficients.to_csv(stage / "coefficients.csv", index=False, float_format="%.10g")
        if bayes:
            _write_bayes(stage, bayes)
            (stage / "bayes.md").write_text(bayes_markdown(bayes.coefficients))
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
        sections.append(_audit_section(stage))
        sections += _baseline_sections(baselines, label)
        if bayes:
            sections += _bayes_sections(bayes, baselines, published, label, quick, stage)
        sections.append(_uncertainty_section(unc, quick))
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

    coefs, fstats, warns, tables, specs = [], [], [], {}, {}
    for name in SPEC_FILES:
        spec = load_spec(models_dir() / name)
        specs[name.removesuffix(".toml")] = spec
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
            "warnings": tuple(dict.fromkeys(warns)), "tables": tables, "specs": specs,
            "comparison": compare_published(coefficients, published, label="ours")}


def _replicate_uncertainty(source: Path, panel: Panel, baselines: dict, bayes, stage: Path, *,
                           quick: bool, seed: int) -> IndexUncertainty:
    from dataclasses import replace as dc_replace

    from cpai_bayes.inference import BayesSettings

    spec7 = baselines["specs"]["table7_regions"]
    sub = Panel(frame=panel.frame, spec=dc_replace(spec7.panel, extra_groups=()),
                source=panel.source)
    point_fit = None
    if bayes:
        point_fit = next((r for r in bayes.results if r.name == "bayes_region_slopes"
                          and r.outcome == "CP"), None)
    settings = BayesSettings.quick_settings(seed=seed) if quick else BayesSettings(seed=seed)
    return index_uncertainty(source, sub, stage, draws=1000 if quick else 4000, seed=seed,
                             baseline_coefs=baselines["coefficients"],
                             bayes_fits=4 if quick else 10, bayes_settings=settings,
                             point_fit=point_fit, reference=spec7.reference)


def _uncertainty_section(u: IndexUncertainty, quick: bool) -> Section:
    imgs = "".join(f'<img src="figures/{v}" style="max-width:48%">' for v in u.figures.values())
    mix = ""
    if u.bayes_mixture is not None:
        mix = ("<h3>Bayesian region slopes mixed over index draws</h3><p>The region-slopes model "
               f"refitted on {int(u.bayes_mixture['fits'].iloc[0])} index draws (CP and AI "
               "rebuilt with bootstrap weights) and the posteriors mixed with equal weight, as "
               "multiple imputation does; width_ratio is the mixed 94% HDI over the HDI at the "
               "point weights." + (" Quick run: few fits." if quick else "") + "</p>"
               + frame_html(u.bayes_mixture, digits=4))
    return Section("Index construction: weight uncertainty and its propagation", (
        f"<p>Bayesian-bootstrap entropy weights (Dirichlet(1) over province-years; "
        f"{u.seconds_draws:.2f} s for the draws of both systems). 90% intervals:</p>"
        + frame_html(u.weights, digits=4)
        + "<h3>Sensitivity of the Table 4 AI coefficient to construction choices</h3>"
        + frame_html(u.sensitivity, digits=4)
        + "<h3>Intervals with index uncertainty (Rubin's rules)</h3><p>se_total combines the "
          "sampling SE (clustered TWFE; Paternoster for the gap) with the spread over weight "
          "draws; share_index is the share of the total variance due to index construction.</p>"
        + frame_html(u.propagation, digits=4) + mix + imgs))


def _audit_section(stage: Path) -> Section:
    """The audit of the seed study's printed tables (real, not synthetic)."""
    from cpai_bayes.audit import audit, load_rules, read_tables

    tables = data_dir() / "published" / "tables.csv"
    res = audit(read_tables(tables), load_rules(data_dir() / "published" / "rules_seed.toml"))
    res.findings.to_csv(stage / "audit_findings.csv", index=False)
    (stage / "audit.md").write_text(res.markdown())
    return Section("Audit of the seed study's printed tables (the paper's real numbers)", (
        "<p>Checks of Tables 3-7 as printed (data/published/tables.csv) against the rules in "
        "data/published/rules_seed.toml. These use the published figures only, not the synthetic "
        "panel.</p>" + res.html()))


def _replicate_bayes(panel: Panel, baselines: dict, stage: Path, *, quick: bool,
                     seed: int) -> BayesRun | None:
    """The shipped specs' Bayesian models on the replicated panel, with the forest plots."""
    from dataclasses import replace as dc_replace

    runs = []
    for name, spec in baselines["specs"].items():
        if not spec.bayes.models:
            continue
        groups = tuple(g for g in spec.bayes.groups if g in panel.frame.columns)
        sub = Panel(frame=panel.frame, spec=dc_replace(spec.panel, extra_groups=groups),
                    source=panel.source)
        runs.append(run_bayes(sub, dc_replace(spec.bayes, seed=seed, groups=groups), stage,
                              reference=spec.reference, quick=quick,
                              baseline_coefs=baselines["coefficients"], label=name))
    if not runs:
        return None
    loo = next((r.loo for r in runs if r.loo is not None), None)
    merged = BayesRun(
        results=[x for r in runs for x in r.results],
        coefficients=pd.concat([r.coefficients for r in runs], ignore_index=True),
        diagnostics=pd.concat([r.diagnostics for r in runs], ignore_index=True),
        gaps=pd.concat([r.gaps for r in runs if len(r.gaps)], ignore_index=True)
        if any(len(r.gaps) for r in runs) else pd.DataFrame(),
        loo=loo,
        checks=pd.concat([r.checks for r in runs if len(r.checks)], ignore_index=True),
        figures={k: v for r in runs for k, v in r.figures.items()},
        warnings=tuple(w for r in runs for w in r.warnings))
    _forest_plots(merged, baselines, stage)
    return merged


FOREST_MODELS = {
    "table4_twfe": (["twfe"], ["bayes_twfe"]),
    "table5_iv": (["iv2sls"], ["bayes_iv"]),
    "table6_robust": (["winsor", "pcse", "twfe"], ["bayes_robust"]),
    "table7_regions": (["split:East", "split:Mid-West", "gap"], ["bayes_region_slopes"]),
}


def _forest_plots(bayes: BayesRun, baselines: dict, stage: Path) -> None:
    import matplotlib.pyplot as plt

    from cpai_bayes.ppc import plot_forest

    freq = baselines["coefficients"]
    for name, (fmodels, bmodels) in FOREST_MODELS.items():
        f = freq[freq.model.isin(fmodels) & ((freq.term == "AI")
                                            | freq.term.str.endswith("(interaction)"))]
        if name == "table6_robust":
            f = f[f.model != "twfe"]
        b = bayes.coefficients[bayes.coefficients.model.isin(bmodels)
                               & (bayes.coefficients.term.isin(["AI"])
                                  | bayes.coefficients.term.str.startswith(("AI:", "gap:")))]
        rows = pd.concat([f, b], ignore_index=True)
        if rows.empty:
            continue
        fig = plot_forest(rows, title=name)
        fig.savefig(stage / "figures" / f"forest_{name}.png", dpi=90)
        plt.close(fig)
        bayes.figures[f"forest_{name}"] = f"forest_{name}.png"


def _img(stage: Path, name: str | None) -> str:
    if not name:
        return ""
    return f'<img src="figures/{html.escape(name)}" style="max-width:100%">'


def _bayes_sections(bayes: BayesRun, baselines: dict, published: pd.DataFrame, label: str,
                    quick: bool, stage: Path) -> list[Section]:
    from cpai_bayes.diagnostics import GATE

    figs = bayes.figures
    quick_note = ("<p class=\"flag\">QUICK RUN: 4 chains x 300 draws after 400 tuning steps. "
                  "Fits that miss the gate are flagged; rerun without --quick before citing "
                  "any number.</p>" if quick else "")
    c = bayes.coefficients
    ai = c[(c.term == "AI") | c.term.str.startswith(("AI:", "gap:")) | (c.term == "L.AI")]
    freq = baselines["coefficients"]
    lines = []
    for _, r in ai.iterrows():
        fm = {"bayes_twfe": "twfe", "bayes_iv": "iv2sls", "bayes_robust": "winsor",
              "bayes_iv_first_stage": "first_stage"}.get(r["model"])
        f = freq[(freq.model == fm) & (freq.outcome == r["outcome"])
                 & (freq.term == r["term"])] if fm else freq.iloc[0:0]
        if r["model"] == "bayes_region_slopes" and r["term"].startswith("AI:"):
            f = freq[(freq.model == "split:" + r["term"][3:]) & (freq.outcome == r["outcome"])
                     & (freq.term == "AI")]
        if r["model"] == "bayes_region_slopes" and r["term"].startswith("gap:"):
            f = freq[(freq.model == "gap") & (freq.outcome == r["outcome"])
                     & (freq.term == r["term"][5:] + " (paternoster)")]
        lines.append({"model": r["model"], "outcome": r["outcome"], "term": r["term"],
                      "posterior_mean": r["estimate"], "hdi_lower": r["ci_lower"],
                      "hdi_upper": r["ci_upper"],
                      "frequentist": f["estimate"].iloc[0] if len(f) else np.nan,
                      "freq_model": f["model"].iloc[0] if len(f) else "",
                      "ci_lower": f["ci_lower"].iloc[0] if len(f) else np.nan,
                      "ci_upper": f["ci_upper"].iloc[0] if len(f) else np.nan,
                      "converged": "yes" if r["converged"] else "NO"})
    side = pd.DataFrame(lines)
    out = [Section("Bayesian re-analysis: AI posteriors beside the frequentist estimates",
                   quick_note + "<p>Posterior mean and 94% HDI; frequentist estimate and 95% CI "
                   "of the matching baseline (region slopes: the split fits; gap: the "
                   "Paternoster difference). Rows of fits that missed the gate say NO.</p>"
                   + frame_html(side, digits=4)
                   + "".join(_img(stage, figs.get(f"forest_{n}")) for n in FOREST_MODELS))]
    if len(bayes.gaps):
        gap_figs = "".join(_img(stage, v) for k, v in figs.items() if "_gap_" in f"_{k}")
        out.append(Section("The East vs Mid-West gap as a posterior", quick_note + (
            "<p>P(gap > 0), the 94% HDI and the posterior mass inside the region of practical "
            "equivalence (ROPE). The dashed curve is the normal approximation from the two split "
            "fits (Paternoster).</p>") + frame_html(bayes.gaps, digits=4) + gap_figs))
    diag = bayes.diagnostics.copy()
    gate = (f"Gate: r_hat <= {GATE['r_hat']}, bulk and tail ESS >= {GATE['ess']}, "
            f"{GATE['divergences']} divergences.")
    flagged = diag.loc[~diag["converged"], "model"].tolist()
    flag = (f'<p class="flag">Missed the gate: {", ".join(flagged)}. Their rows in '
            "coefficients.csv have converged = False.</p>" if flagged else
            "<p>Every fit passed the gate.</p>")
    out.append(Section("Convergence diagnostics of every fit", f"<p>{gate}</p>" + flag
                       + frame_html(diag, digits=3)))
    if bayes.loo is not None:
        out.append(Section("Model comparison (PSIS-LOO): common vs region vs province slopes", (
            "<p>All three with region-specific year effects and the effects projected out; the "
            "pointwise likelihood is that of the within-transformed outcome given the province "
            "slopes. pareto_k_max above 0.7 makes that model's LOO unreliable.</p>"
            + frame_html(bayes.loo, digits=3))))
    ppc_figs = "".join(_img(stage, v) for k, v in figs.items()
                       if k.split("_", 2)[-1].startswith(("ppc_", "groupstat_", "loopit_",
                                                           "prior_")))
    traj = "".join(_img(stage, v) for k, v in figs.items() if "trajectories_" in k
                   and "region_slopes_CP" in k and "region_nbs" not in k)
    out.append(Section("Prior and posterior predictive checks", (
        "<p>Prior predictive (does the prior allow the data's scale?), posterior predictive "
        "density, per-province trajectories with 94% bands (region-slopes model), the SD of "
        "year-on-year changes by region with its posterior predictive p value, and LOO-PIT.</p>"
        + frame_html(bayes.checks, digits=4) + traj + ppc_figs)))
    return out


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
        truth = truth.with_index_gap(gap, seed=seed)
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
                  paper_entities: bool = False, draws: int = 0, seed: int = SEED,
                  scheme: str = "dirichlet") -> Panel:
    """Build the CP and AI entropy indices from a raw-indicator file; write ``panel.csv`` and
    ``weights.csv``; with ``draws`` also the weight uncertainty (``index_uncertainty``)."""
    if scheme not in ("dirichlet", "province"):
        raise InputError(f"--scheme must be dirichlet or province, got {scheme!r}")
    if draws < 0:
        raise InputError(f"--draws must be positive, got {draws}")
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
        if draws:
            from cpai_bayes.spec import BaselineOptions

            (stage / "figures").mkdir()
            opts = BaselineOptions(estimators=("twfe", "gap") if panel.spec.group else ("twfe",),
                                   permutations=200, seed=seed)
            base = run_baselines(panel, opts)
            index_uncertainty(Path(data), panel, stage, draws=draws, seed=seed, scheme=scheme,
                              baseline_coefs=base.coefficients)
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


def fit(spec_path: str | Path, out: str | Path, *, data: str | Path | None = None,
        quick: bool = False) -> FitResult:
    """Validate a spec and its data, run its baselines and Bayesian models, and write
    ``coefficients.csv`` (frequentist and Bayesian rows, diagnostics columns), ``fit_stats.csv``,
    ``table.md``/``table.html``, and for Bayesian models ``diagnostics.csv``, ``gap_posterior.csv``,
    ``ppc_checks.csv``, ``loo.csv``, ``idata/*.nc`` and ``figures/*.png``."""
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
        coefs = res.coefficients
        warns = list(res.warnings)
        if spec.bayes.models:
            brun = run_bayes(panel, spec.bayes, stage, reference=spec.reference, quick=quick,
                             baseline_coefs=coefs)
            coefs = _with_bayes(coefs, brun)
            _write_bayes(stage, brun)
            warns += list(brun.warnings)
            note += " " + " ".join(brun.warnings)
            (stage / "bayes.md").write_text(bayes_markdown(brun.coefficients))
        coefs = _full_schema(coefs)
        res = FitResult(None, coefs, res.fit_stats, tuple(warns), res.descriptives)
        coefs.to_csv(stage / "coefficients.csv", index=False, float_format="%.10g")
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


@dataclass(frozen=True)
class BayesRun:
    """Everything the Bayesian stage produced for one spec."""

    results: list
    coefficients: pd.DataFrame
    diagnostics: pd.DataFrame
    gaps: pd.DataFrame
    loo: pd.DataFrame | None
    checks: pd.DataFrame
    figures: dict
    warnings: tuple[str, ...]


def run_bayes(panel: Panel, options, stage: Path, *, reference: str | None = None,
              quick: bool = False, baseline_coefs: pd.DataFrame | None = None,
              label: str = "") -> BayesRun:
    """Fit the spec's Bayesian models, save InferenceData (netCDF) and the check plots under
    ``stage``, and return the tidy rows with diagnostics."""
    import matplotlib.pyplot as plt

    from cpai_bayes import ppc
    from cpai_bayes.bayes import build_model
    from cpai_bayes.inference import BayesSettings, fit_bayes, gap_summary

    base = dict(seed=options.seed, sampler=options.sampler, priors=dict(options.priors),
                ar1=options.ar1, rope=options.rope)
    settings = (BayesSettings.quick_settings(**base) if quick else
                BayesSettings(draws=options.draws, tune=options.tune, chains=options.chains,
                              **base))
    spec = panel.spec
    (stage / "idata").mkdir(exist_ok=True)
    (stage / "figures").mkdir(exist_ok=True)
    results, gaps, diag_rows, checks, figures, warns = [], [], [], [], {}, []
    jobs = [(name, outcome, None) for name in options.models for outcome in spec.outcomes]
    jobs += [("bayes_region_slopes", spec.outcomes[0], g) for g in options.groups]
    prefix = f"{label}_" if label else ""

    def save(fig, key: str) -> None:
        path = stage / "figures" / f"{prefix}{key}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        figures[f"{prefix}{key}"] = path.name

    for name, outcome, group in jobs:
        ref = reference
        if group is not None and reference not in set(panel.frame[group]):
            ref = None  # the reference level of the main grouping is not a level here
        res = fit_bayes(panel.frame, spec, outcome, name, settings=settings, reference=ref,
                        group=group)
        tag = name if group is None else f"{name}[{group}]"
        if group is not None:
            res = replace_result(res, tag)
        results.append(res)
        diag_rows.append({"model": tag, "outcome": outcome, **res.diagnostics.summary_row(),
                          "seconds": round(res.seconds, 2)})
        if not res.diagnostics.converged:
            warns.append(f"{tag} {outcome}: NOT CONVERGED ({'; '.join(res.diagnostics.failures())})"
                          " - its rows are flagged converged = False")
        key = f"{tag}_{outcome}".replace("[", "_").replace("]", "")
        if "gap" in res.idata.posterior:
            gaps.append(gap_summary(res, rope=options.rope).assign(model=tag))
        ppc.add_posterior_predictive(res.design, res.idata, seed=settings.seed)
        res.idata.to_netcdf(stage / "idata" / f"{prefix}{key}.nc")
        if outcome == spec.outcomes[0]:
            reps = ppc.predictive_raw(res.design, res.idata.posterior, seed=settings.seed)
            model_obj = build_model(res.design, _core_model(name), priors=settings.priors,
                                    reference=ref, ar1=settings.ar1,
                                    instrument=res.design.instrument)
            _, prior_reps = ppc.prior_predictive(model_obj, res.design, seed=settings.seed)
            observed = res.design.y if name == "bayes_robust" else res.design.my
            save(ppc.plot_prior_predictive(observed, prior_reps, title=f"Prior predictive: {tag}"),
                 f"prior_{key}")
            save(ppc.plot_ppc(res.design, reps, title=f"Posterior predictive: {tag}"), f"ppc_{key}")
            save(ppc.plot_trajectories(res.design, reps, title=tag), f"trajectories_{key}")
            stat = ppc.group_statistic(res.design, reps).drop(columns="T_rep")
            checks.append(stat.assign(model=tag, outcome=outcome))
            save(ppc.plot_group_statistic(res.design, reps, title=f"{tag}: test statistic by "
                                          "group"), f"groupstat_{key}")
            save(ppc.plot_loo_pit(res.idata, title=f"LOO-PIT: {tag}"), f"loopit_{key}")
            if "gap" in res.idata.posterior:
                for c in res.idata.posterior["contrast"].values:
                    pat = _paternoster(baseline_coefs, outcome, str(c))
                    save(ppc.plot_gap(res.idata.posterior["gap"].sel(contrast=c).values,
                                      rope=options.rope, label=f"{tag}: {c}", paternoster=pat,
                                      converged=res.diagnostics.converged),
                         f"gap_{key}_{str(c).replace(' ', '')}")

    loo = None
    if options.compare and spec.group is not None:
        loo = _loo_comparison(panel, settings, reference, results)
    coefs = pd.concat([r.coefficients for r in results], ignore_index=True)
    return BayesRun(results, coefs, pd.DataFrame(diag_rows),
                    pd.concat(gaps, ignore_index=True) if gaps else pd.DataFrame(), loo,
                    pd.concat(checks, ignore_index=True) if checks else pd.DataFrame(), figures,
                    tuple(warns))


def _core_model(name: str) -> str:
    from cpai_bayes.inference import BAYES_MODELS

    return BAYES_MODELS[name][0]


def replace_result(res, tag: str):
    """The same fit relabelled (e.g. ``bayes_region_slopes[region_nbs]``)."""
    from dataclasses import replace as dc_replace

    coefs = res.coefficients.assign(model=res.coefficients["model"].str.replace(
        res.name, tag, regex=False))
    return dc_replace(res, name=tag, coefficients=coefs)


def _paternoster(coefs: pd.DataFrame | None, outcome: str, contrast: str):
    if coefs is None or coefs.empty:
        return None
    row = coefs[(coefs.model == "gap") & (coefs.outcome == outcome)
                & (coefs.term == f"{contrast} (paternoster)")]
    if row.empty:
        return None
    return float(row["estimate"].iloc[0]), float(row["std_error"].iloc[0])


def _loo_comparison(panel: Panel, settings, reference, results) -> pd.DataFrame:
    """Common slope vs region slopes vs province slopes, all with region-specific period effects
    (so that they model the same projected outcome) on the first outcome."""
    from cpai_bayes.bayes import build_model, make_design, province_slope_draws
    from cpai_bayes.diagnostics import diagnose, sample
    from cpai_bayes.inference import TARGET_ACCEPT, _conditional_log_likelihood
    from cpai_bayes.ppc import loo_compare

    spec = panel.spec
    outcome = spec.outcomes[0]
    design = make_design(panel.frame, spec, outcome, period_effects="group")
    fits = {}
    rows = []
    done = next((r for r in results if r.name == "bayes_region_slopes" and r.outcome == outcome
                 and r.design.period_effects == "group"), None)
    for label, model in (("common slope", "twfe"), ("region slopes", "region_slopes"),
                         ("province slopes", "province_slopes")):
        if model == "region_slopes" and done is not None:  # the main fit: same design, settings
            d = done.diagnostics
            rows.append({"model": label, "converged": d.converged, "r_hat_max": d.r_hat_max,
                         "ess_bulk_min": d.ess_bulk_min, "divergences": d.divergences})
            fits[label] = done.idata
            continue
        m = build_model(design, model, priors=settings.priors, reference=reference)
        idata = sample(m, draws=settings.draws, tune=settings.tune, chains=settings.chains,
                       seed=settings.seed, sampler=settings.sampler,
                       target_accept=settings.target_accept or TARGET_ACCEPT[model])
        if model != "twfe":
            import xarray as xr

            idata.posterior["slope"] = xr.DataArray(
                province_slope_draws(design, idata, seed=settings.seed),
                dims=("chain", "draw", "entity"),
                coords={"chain": idata.posterior.chain, "draw": idata.posterior.draw,
                        "entity": design.entities})
            _conditional_log_likelihood(design, idata)
        core = [v for v in ("beta", "beta_region", "tau", "sigma", "gamma") if v in idata.posterior]
        d = diagnose(idata, var_names=core)
        rows.append({"model": label, "converged": d.converged, "r_hat_max": d.r_hat_max,
                     "ess_bulk_min": d.ess_bulk_min, "divergences": d.divergences})
        fits[label] = idata
    table = loo_compare(fits)
    return table.merge(pd.DataFrame(rows), on="model")


def _full_schema(coefs: pd.DataFrame) -> pd.DataFrame:
    """Every coefficients.csv has the tidy columns and the diagnostics columns (empty for
    frequentist rows)."""
    from cpai_bayes.baselines import COLUMNS
    from cpai_bayes.inference import DIAG_COLUMNS

    return coefs.reindex(columns=COLUMNS + DIAG_COLUMNS)


def _with_bayes(coefs: pd.DataFrame, brun: BayesRun) -> pd.DataFrame:
    from cpai_bayes.inference import DIAG_COLUMNS

    freq = coefs.reindex(columns=list(coefs.columns) + DIAG_COLUMNS)
    return pd.concat([freq, brun.coefficients], ignore_index=True) if len(freq) else \
        brun.coefficients.copy()


def _write_bayes(stage: Path, brun: BayesRun) -> None:
    brun.diagnostics.to_csv(stage / "diagnostics.csv", index=False, float_format="%.6g")
    if len(brun.gaps):
        brun.gaps.to_csv(stage / "gap_posterior.csv", index=False, float_format="%.6g")
    if len(brun.checks):
        brun.checks.to_csv(stage / "ppc_checks.csv", index=False, float_format="%.6g")
    if brun.loo is not None:
        brun.loo.to_csv(stage / "loo.csv", index=False, float_format="%.6g")


def bayes_markdown(coefs: pd.DataFrame) -> str:
    """Posterior mean [94% HDI] per row, flagged where the fit missed the gate."""
    lines = ["| model | outcome | term | mean | SD | 94% HDI | r_hat | ESS bulk | ESS tail | "
             "converged |", "|---|---|---|---:|---:|---|---:|---:|---:|---|"]
    for _, r in coefs.iterrows():
        flag = "yes" if r["converged"] else "**NO**"
        lines.append(f"| {r['model']} | {r['outcome']} | {r['term']} | {r['estimate']:.4f} | "
                     f"{r['std_error']:.4f} | [{r['ci_lower']:.4f}, {r['ci_upper']:.4f}] | "
                     f"{r['r_hat']:.3f} | {r['ess_bulk']:.0f} | {r['ess_tail']:.0f} | {flag} |")
    return "\n".join(lines) + "\n"


def run_audit(tables: str | Path, out: str | Path, *, rules: str | Path | None = None):
    """Audit published tables (``audit.audit``) and write ``findings.csv``, ``comparisons.csv``,
    ``audit.md`` and ``audit.html``."""
    from cpai_bayes.audit import audit, load_rules, read_tables

    res = audit(read_tables(tables), load_rules(rules))
    with staged_output(out) as stage:
        res.findings.to_csv(stage / "findings.csv", index=False)
        res.counts().to_csv(stage / "counts.csv", index=False)
        if len(res.comparisons):
            res.comparisons.to_csv(stage / "comparisons.csv", index=False, float_format="%.6g")
        (stage / "audit.md").write_text(res.markdown())
        (stage / "audit.html").write_text(render_report(
            "Audit of published tables", [Section("Audit", res.html())], synthetic=False,
            source=str(tables), run_info=_run_info("audit", rules=str(rules))))
    return res


@dataclass(frozen=True)
class IndexUncertainty:
    """Weight draws, index and rank bands, sensitivity, and widened coefficient intervals."""

    weights: pd.DataFrame
    bands: pd.DataFrame
    ranks: pd.DataFrame
    sensitivity: pd.DataFrame
    propagation: pd.DataFrame
    seconds_draws: float
    figures: dict
    bayes_mixture: pd.DataFrame | None = None


def index_uncertainty(raw_path: Path, panel: Panel, stage: Path, *, draws: int = 4000,
                      seed: int = SEED, scheme: str = "dirichlet",
                      baseline_coefs: pd.DataFrame | None = None, bayes_fits: int = 0,
                      bayes_settings=None, point_fit=None,
                      reference: str | None = None) -> IndexUncertainty:
    """The index section: weight draws (netCDF), intervals, index and rank bands, the sensitivity
    table and the TWFE/gap intervals with index uncertainty (Rubin's rules)."""
    import matplotlib.pyplot as plt
    import xarray as xr

    from cpai_bayes import uncertainty as unc

    spec = panel.spec
    systems = _systems()
    raw = pd.read_csv(raw_path) if raw_path.suffix == ".csv" else pd.read_parquet(raw_path)
    raw = raw.sort_values([spec.entity, spec.time]).reset_index(drop=True)
    frame = panel.frame.sort_values([spec.entity, spec.time]).reset_index(drop=True)
    start = time.perf_counter()
    wd = {k: unc.weight_draws(raw, systems[k], name=k, draws=draws, seed=seed + i, scheme=scheme,
                              entity=spec.entity, time=spec.time)
          for i, k in enumerate(("CP", "AI"))}
    seconds = time.perf_counter() - start
    xr.Dataset({f"w_{k}": v.draws.rename({"indicator": f"indicator_{k}"})
                for k, v in wd.items()}).to_netcdf(stage / "weight_draws.nc")
    weights = pd.concat([wd[k].intervals(systems[k]) for k in wd], ignore_index=True)
    keys = frame[[spec.entity, spec.time]]
    bands = pd.concat([unc.index_bands(wd[k], keys).rename(columns={k: "index"}).assign(name=k)
                       for k in wd], ignore_index=True)
    ranks = unc.rank_bands(wd["CP"], keys, time=spec.time)
    sens = unc.sensitivity(raw, systems["CP"], systems["AI"], frame, list(spec.controls),
                           entity=spec.entity, time=spec.time)
    coef = unc.coefficient_draws(wd["CP"], wd["AI"], frame, list(spec.controls),
                                 entity=spec.entity, time=spec.time, group=spec.group)
    rows = []
    freq = baseline_coefs if baseline_coefs is not None else pd.DataFrame(columns=["model"])

    def se_of(model, term="AI"):
        r = freq[(freq.model == model) & (freq.outcome == "CP") & (freq.term == term)]
        return float(r["std_error"].iloc[0]) if len(r) else np.nan

    targets = [("twfe AI", coef["all"], se_of("twfe"))]
    groups = [g for g in coef if g != "all"]
    if len(groups) == 2:
        a, b = groups
        gap = {"draws": coef[b]["draws"] - coef[a]["draws"],
               "point": coef[b]["point"] - coef[a]["point"]}
        targets.append((f"gap {b} - {a}", gap,
                        se_of("gap", f"{b} - {a} (paternoster)")))
    for label, c, se in targets:
        rub = unc.rubin(c["draws"], se**2)
        rows.append({"quantity": label, "point": c["point"],
                     "se_sampling": se, "sd_index_draws": float(np.std(c["draws"], ddof=1)),
                     "se_total": float(np.sqrt(rub["total_var"])),
                     "width_ratio": float(np.sqrt(rub["total_var"]) / se),
                     "share_index": rub["share_between"]})
    figures = {}
    for k in wd:
        fig = unc.plot_weight_distributions(wd[k], systems[k])
        fig.savefig(stage / "figures" / f"weights_{k}.png", dpi=90)
        plt.close(fig)
        figures[f"weights_{k}"] = f"weights_{k}.png"
    fig = unc.plot_rank_bands(ranks, entity=spec.entity, time=spec.time)
    fig.savefig(stage / "figures" / "rank_bands_CP.png", dpi=90)
    plt.close(fig)
    figures["rank_bands_CP"] = "rank_bands_CP.png"
    weights.to_csv(stage / "weight_intervals.csv", index=False, float_format="%.6g")
    bands.to_csv(stage / "index_bands.csv", index=False, float_format="%.6g")
    ranks.to_csv(stage / "rank_bands.csv", index=False, float_format="%.6g")
    sens.to_csv(stage / "sensitivity.csv", index=False, float_format="%.6g")
    prop = pd.DataFrame(rows)
    prop.to_csv(stage / "index_propagation.csv", index=False, float_format="%.6g")
    mixture = None
    if bayes_fits and spec.group is not None:
        mixture = _bayes_index_mixture(wd, frame, spec, bayes_fits, bayes_settings, point_fit,
                                       reference, seed)
        mixture.to_csv(stage / "index_bayes_mixture.csv", index=False, float_format="%.6g")
    return IndexUncertainty(weights, bands, ranks, sens, prop, seconds, figures, mixture)


def _bayes_index_mixture(wd, frame, spec, k, settings, point_fit, reference, seed):
    """Region-slopes posteriors over ``k`` index draws, mixed with equal weight (the multiple-
    imputation treatment of the indices), against the fit at the point weights."""
    import arviz as az

    from cpai_bayes.constants import HDI_PROB
    from cpai_bayes.inference import fit_bayes

    rng = np.random.default_rng(seed)
    pick = rng.choice(wd["CP"].draws.sizes["draw"], size=k, replace=False)
    gaps, slopes, converged = [], {}, []
    for d in pick:
        f = frame.copy()
        f[spec.outcomes[0]] = wd["CP"].z @ wd["CP"].draws.values[d]
        f[spec.regressor] = wd["AI"].z @ wd["AI"].draws.values[d]
        res = fit_bayes(f, spec, spec.outcomes[0], "bayes_region_slopes", settings=settings,
                        reference=reference)
        post = res.idata.posterior
        gaps.append(post["gap"].values[..., 0].ravel())
        for g in post["region"].values:
            slopes.setdefault(str(g), []).append(post["beta_region"].sel(region=g).values.ravel())
        converged.append(res.diagnostics.converged)
    rows = []
    point_post = point_fit.idata.posterior if point_fit is not None else None
    contrast = str(point_post["contrast"].values[0]) if point_post is not None else "gap"
    series = [(f"gap: {contrast}", np.concatenate(gaps),
               point_post["gap"].values[..., 0].ravel() if point_post is not None else None)]
    for g, vals in slopes.items():
        series.append((f"AI:{g}", np.concatenate(vals),
                       point_post["beta_region"].sel(region=g).values.ravel()
                       if point_post is not None else None))
    for term, mixed, point in series:
        lo, hi = az.hdi(mixed, hdi_prob=HDI_PROB)
        row = {"term": term, "fits": k, "all_converged": all(converged),
               "mixed_mean": mixed.mean(), "mixed_hdi_lower": lo, "mixed_hdi_upper": hi,
               "mixed_p_positive": float(np.mean(mixed > 0))}
        if point is not None:
            plo, phi = az.hdi(point, hdi_prob=HDI_PROB)
            row.update({"point_mean": point.mean(), "point_hdi_lower": plo,
                        "point_hdi_upper": phi, "width_ratio": (hi - lo) / (phi - plo)})
        rows.append(row)
    return pd.DataFrame(rows)
