"""``cpai-bayes``: parses arguments and calls ``pipeline``; bad input exits 2 with one line."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from cpai_bayes.constants import SEED
from cpai_bayes.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Bayesian re-analysis of the AI and common-prosperity panel study.")


def _fail(err: Exception) -> None:
    typer.echo(f"cpai-bayes: error: {err}", err=True)
    raise typer.Exit(code=2)


@app.command()
def replicate(
    out: Annotated[Path, typer.Option(help="Output folder (replaced when the run succeeds).")] = Path(
        "results/replicate"),
    quick: Annotated[bool, typer.Option("--quick", help="Fewer draws in sampling stages.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of every random step.")] = SEED,
    data: Annotated[Path | None, typer.Option(help="Raw-indicator CSV/parquet; default: the "
                                              "shipped SYNTHETIC panel.")] = None,
    normalisation: Annotated[str, typer.Option(help="pooled or year.")] = "pooled",
) -> None:
    """Rebuild the indices, Table 3 and the report on the shipped (synthetic) data."""
    from cpai_bayes import pipeline

    try:
        res = pipeline.replicate(out, data=data, quick=quick, seed=seed,
                                 normalisation=normalisation)
    except InputError as err:
        _fail(err)
    typer.echo(f"wrote {res.out}/report.html ({res.seconds:.1f} s)")


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/simulated"),
    seed: Annotated[int, typer.Option(help="Generator seed.")] = SEED,
    n_entities: Annotated[int, typer.Option(help="30 uses the paper's provinces.")] = 30,
    first_year: Annotated[int, typer.Option()] = 2012,
    last_year: Annotated[int, typer.Option()] = 2020,
    gap: Annotated[float | None, typer.Option(help="Mid-West minus East AI slope on the CP index "
                                                   "scale; default: the calibrated one.")] = None,
) -> None:
    """Draw a SYNTHETIC panel with known truth (panel_raw.csv, panel.csv, truth.json)."""
    from cpai_bayes import pipeline

    try:
        path = pipeline.simulate(out, seed=seed, n_entities=n_entities,
                                 years=tuple(range(first_year, last_year + 1)), gap=gap)
    except InputError as err:
        _fail(err)
    typer.echo(f"wrote {path}/panel_raw.csv, panel.csv, truth.json")


@app.command()
def index(
    data: Annotated[Path, typer.Argument(help="Raw-indicator CSV or parquet.")],
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/index"),
    normalisation: Annotated[str, typer.Option(help="pooled or year.")] = "pooled",
    entity: Annotated[str, typer.Option(help="Entity column.")] = "province",
    time_col: Annotated[str, typer.Option("--time", help="Period column.")] = "year",
    group: Annotated[str, typer.Option(help="Group column.")] = "region",
    draws: Annotated[int, typer.Option(help="Bayesian-bootstrap weight draws (0: none).")] = 0,
    scheme: Annotated[str, typer.Option(help="dirichlet (province-years) or province (whole "
                                             "provinces).")] = "dirichlet",
    seed: Annotated[int, typer.Option(help="Seed of the weight draws.")] = SEED,
) -> None:
    """Build the CP and AI entropy indices from raw indicators (panel.csv, weights.csv); with
    --draws, the weights' uncertainty: weight_draws.nc, weight_intervals.csv, index and rank
    bands, sensitivity.csv, index_propagation.csv and plots."""
    from cpai_bayes import pipeline
    from cpai_bayes.schema import PanelSpec

    start = time.perf_counter()
    try:
        panel = pipeline.build_indices(data, out, normalisation=normalisation,
                                       spec=PanelSpec(entity=entity, time=time_col, group=group),
                                       draws=draws, seed=seed, scheme=scheme)
    except InputError as err:
        _fail(err)
    for note in panel.notes:
        typer.echo(f"note: {note}")
    typer.echo(f"wrote {out}/panel.csv and weights.csv ({time.perf_counter() - start:.1f} s)")


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


@app.command("fit")
def fit_cmd(
    spec: Annotated[Path, typer.Argument(help="Analysis spec (TOML), e.g. models/table4_twfe.toml.")],
    data: Annotated[Path | None, typer.Option(help="Data file overriding [data] path.")] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/fit"),
    quick: Annotated[bool, typer.Option("--quick", help="Fewer draws (2 x 300).")] = False,
) -> None:
    """Run an analysis spec: coefficients.csv, fit_stats.csv, table.md, table.html."""
    from cpai_bayes import pipeline

    try:
        res = pipeline.fit(spec, out, data=data, quick=quick)
    except InputError as err:
        _fail(err)
    for w in res.warnings:
        typer.echo(f"warning: {w}", err=True)
    typer.echo(f"wrote {out}/coefficients.csv ({len(res.coefficients)} rows) and table.md")


@app.command("audit")
def audit_cmd(
    tables: Annotated[Path, typer.Argument(help="Published tables, long CSV (data/published/"
                                                 "tables.csv layout).")],
    rules: Annotated[Path | None, typer.Option(help="Rules TOML (design, adding-up, first "
                                                     "stage, comparisons).")] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/audit"),
) -> None:
    """Check published regression tables: stars, signs, p values, first-stage F, N, adding-up,
    and the gap between subgroups re-analysed from the printed figures."""
    from cpai_bayes import pipeline

    try:
        res = pipeline.run_audit(tables, out, rules=rules)
    except InputError as err:
        _fail(err)
    counts = res.counts()
    typer.echo(f"{int(counts.errors.sum())} errors, {int(counts.warnings.sum())} warnings; "
               f"wrote {out}/findings.csv and audit.md")
