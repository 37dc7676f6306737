"""Benchmark: the Bayesian region-slopes model, ``cpai_bayes`` against a naive PyMC model and bambi.

What is measured
----------------
One model, fitted to the shipped synthetic panel (``data/synthetic/panel.csv``, 30 provinces x 9
years), outcome ``CP``::

    CP_it = alpha_i + delta_{region(i), t} + slope_i * AI_it + Z_it' gamma + e_it,
    slope_i = beta_region[region(i)] + tau * u_i,   u_i ~ N(0, 1),   e_it ~ N(0, sigma^2)

with province effects ``alpha``, region-specific year effects ``delta`` and the five controls
``Z = (FDI, DUP, SCS, FDS, GIL)``. Variants, all run in one process, one after another:

``cpai_bayes (nutpie)``, ``cpai_bayes (pymc)``
    ``fit_bayes(..., "bayes_region_slopes", reference="East", settings=BayesSettings(sampler=...))``
    as shipped: effects projected out (flat priors, exact), ``u`` integrated out analytically,
    target_accept 0.9. The time includes what ``fit_bayes`` does after sampling (province slope
    draws, pointwise log-likelihood, summary).
``naive PyMC``
    The same model with explicit effects, written here (``naive_model``): ``alpha_i ~ N(0, 10 sd(CP))``,
    ``delta`` (first year of each region fixed at 0) ``~ N(0, 10 sd(CP))``, ``beta_region ~ N(0, 2.5
    sd(CP)/sd(AI))``, ``tau ~ HalfNormal(0.5 * 2.5 sd(CP)/sd(AI))`` (the package's ``tau_scale``),
    non-centred ``u``, ``gamma_k ~ N(0, 2.5 sd(CP)/sd(Z_k))``, ``sigma ~ HalfNormal(sd(CP))``; raw
    (not projected) data; ``pm.sample`` defaults (NUTS, jitter+adapt_diag, target_accept 0.8).
``bambi``
    bambi's default priors and sampler (PyMC NUTS) on ``BAMBI_FORMULA``. ``region_year`` is a
    categorical column whose first level, ``base``, is the first year of *both* regions, so that the
    reduced (treatment) coding gives exactly 16 region-by-year effects with each region's first year
    at 0: 30 + 16 = 46 effect columns, full rank, the same column space as the other variants.
``bambi, literal formula``
    The formula as first written, ``... + province + region:year_f + ...``. formulae codes it as a
    year main effect (8) plus ``region[Mid-West]:year_f`` (9): 47 effect columns of rank 46, i.e.
    one direction identified by the priors only. Shown to document what that formula does.
    (``C(year)`` inside the interaction fails in formulae 0.6 with "cannot pickle 'module' object",
    so the year factor is a string column ``year_f``.)

All variants: 4 chains x 1000 draws after 1000 tuning steps, 2 cores, the package's seed
(``cpai_bayes.constants.SEED``). The wall time is ``time.perf_counter`` around model building,
compilation and sampling (the data are read once, before). pytensor's on-disk compile cache is
whatever it is on the machine (warm after a first run); nutpie's numba compilation is not cached.

Diagnostics are computed here, the same way for every variant, with arviz (``az.summary(...,
kind="diagnostics")``: rank-normalised split r_hat, bulk and tail ESS) over the comparable scalars:
``beta_region[East]``, ``beta_region[Mid-West]``, ``gap`` (Mid-West - East, computed per draw),
``tau``, ``sigma`` and the five ``gamma``. nutpie's ``*__`` variables are dropped. For the package
variants the package's own ``r.diagnostics`` are stored beside them in the JSON as a cross-check.

Run (from the repository root, with the benchmark venv)::

    .venv-bench/bin/python benchmarks/bench_region_slopes.py

It prints a Markdown table and writes ``benchmarks/results/region_slopes.json`` and
``benchmarks/results/region_slopes.md``. ``--variants`` picks a subset, ``--draws``/``--tune`` make a
smoke test and ``--out`` a different results stem. Several minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
import traceback
import warnings
from importlib import metadata
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "synthetic" / "panel.csv"
RESULTS = ROOT / "benchmarks" / "results"
OUTCOME = "CP"
REGIONS = ["East", "Mid-West"]  # reference first
CHAINS, CORES = 4, 2

BAMBI_FORMULA = ("CP ~ 0 + AI:region + FDI + DUP + SCS + FDS + GIL + province + region_year"
                 " + (0 + AI | province)")
BAMBI_LITERAL_FORMULA = ("CP ~ 0 + AI:region + FDI + DUP + SCS + FDS + GIL + province + region:year_f"
                         " + (0 + AI | province)")

VARIANTS = {
    "cpai_nutpie": "cpai_bayes (nutpie)",
    "cpai_pymc": "cpai_bayes (pymc)",
    "naive_pymc": "naive PyMC, explicit effects",
    "bambi": "bambi (defaults)",
    "bambi_literal": "bambi, literal formula (rank-deficient)",
}


# ------------------------------------------------------------------------------------------------
# common output: one posterior dataset per variant with the comparable parameters


def standard_posterior(beta: np.ndarray, tau: np.ndarray, sigma: np.ndarray, gamma: np.ndarray,
                       controls: list[str]) -> xr.Dataset:
    """``beta`` (chain, draw, 2) in ``REGIONS`` order, ``gamma`` (chain, draw, k)."""
    beta = np.asarray(beta, float)
    return xr.Dataset(
        {"beta_region": (("chain", "draw", "region"), beta),
         "gap": (("chain", "draw"), beta[..., 1] - beta[..., 0]),
         "tau": (("chain", "draw"), np.asarray(tau, float)),
         "sigma": (("chain", "draw"), np.asarray(sigma, float)),
         "gamma": (("chain", "draw", "control"), np.asarray(gamma, float))},
        coords={"chain": np.arange(beta.shape[0]), "draw": np.arange(beta.shape[1]),
                "region": REGIONS, "control": controls},
    )


def diagnostics(post: xr.Dataset, divergences: int, seconds: float) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.summary(az.InferenceData(posterior=post), kind="diagnostics", round_to="none")
        ess_bulk = az.ess(post, method="bulk")  # same numbers as the summary; kept as a check
    bulk_min = float(table["ess_bulk"].min())
    assert np.isclose(bulk_min, min(float(ess_bulk[v].min()) for v in ess_bulk.data_vars))
    means = {f"beta_region[{r}]": float(post["beta_region"].sel(region=r).mean()) for r in REGIONS}
    means["gap"] = float(post["gap"].mean())
    means["tau"] = float(post["tau"].mean())
    means["sigma"] = float(post["sigma"].mean())
    means.update({f"gamma[{c}]": float(post["gamma"].sel(control=c).mean())
                  for c in post["control"].values})
    sds = {"gap": float(post["gap"].std(ddof=1)),
           **{f"beta_region[{r}]": float(post["beta_region"].sel(region=r).std(ddof=1))
              for r in REGIONS}}
    return {
        "seconds": seconds,
        "ess_bulk_min": bulk_min,
        "ess_tail_min": float(table["ess_tail"].min()),
        "r_hat_max": float(table["r_hat"].max()),
        "divergences": int(divergences),
        "ess_bulk_min_per_s": bulk_min / seconds,
        "worst_bulk_parameter": str(table["ess_bulk"].idxmin()),
        "chains": int(post.sizes["chain"]),
        "draws": int(post.sizes["draw"]),
        "posterior_mean": means,
        "posterior_sd": sds,
        "per_parameter": {k: {c: float(v) for c, v in row.items()}
                          for k, row in table[["r_hat", "ess_bulk", "ess_tail"]].iterrows()},
    }


def n_divergent(idata) -> int:
    ss = idata.sample_stats
    return int(ss["diverging"].sum()) if "diverging" in ss else 0


# ------------------------------------------------------------------------------------------------
# (a) the package


def run_cpai(panel, sampler: str, draws: int, tune: int, seed: int) -> dict:
    from cpai_bayes.inference import BayesSettings, fit_bayes

    settings = BayesSettings(sampler=sampler, draws=draws, tune=tune, chains=CHAINS, seed=seed)
    start = time.perf_counter()
    r = fit_bayes(panel.frame, panel.spec, OUTCOME, "bayes_region_slopes", reference="East",
                  settings=settings)
    seconds = time.perf_counter() - start
    post = r.idata.posterior
    post = post.drop_vars([v for v in post.data_vars if v.endswith("__")])
    controls = [str(c) for c in post["control"].values]
    std = standard_posterior(post["beta_region"].sel(region=REGIONS).values, post["tau"].values,
                             post["sigma"].values, post["gamma"].values, controls)
    out = diagnostics(std, n_divergent(r.idata), seconds)
    gap_pkg = post["gap"].sel(contrast="Mid-West - East").values
    assert np.allclose(gap_pkg, std["gap"].values)
    d = r.diagnostics
    out["package"] = {"seconds": r.seconds, "ess_bulk_min": d.ess_bulk_min,
                      "ess_tail_min": d.ess_tail_min, "r_hat_max": d.r_hat_max,
                      "divergences": d.divergences, "converged": d.converged,
                      "bfmi_min": d.bfmi_min}
    out["settings"] = {"sampler": sampler, "target_accept": settings.target_accept,
                       "draws": draws, "tune": tune, "chains": CHAINS, "cores": min(CHAINS, 2)}
    return out


# ------------------------------------------------------------------------------------------------
# (b) naive PyMC, explicit effects


def naive_model(frame: pd.DataFrame, controls: list[str]):
    import pymc as pm
    import pytensor.tensor as pt

    d = frame.sort_values(["province", "year"]).reset_index(drop=True)
    ent_idx, entities = pd.factorize(d["province"], sort=True)
    years = sorted(d["year"].unique())
    reg_idx = d["region"].map({r: i for i, r in enumerate(REGIONS)}).to_numpy()
    ent_region = np.zeros(len(entities), dtype=int)
    ent_region[ent_idx] = reg_idx
    # free region-by-year effects: every year but each region's first; slot 0 is the zero baseline
    first = [d.loc[reg_idx == g, "year"].min() for g in range(len(REGIONS))]
    free = [(g, yr) for g in range(len(REGIONS)) for yr in years if yr != first[g]]
    labels = [f"{REGIONS[g]}:{yr}" for g, yr in free]
    position = {key: i + 1 for i, key in enumerate(free)}
    slot = np.array([position.get((g, yr), 0) for g, yr in zip(reg_idx, d["year"], strict=True)])
    y = d[OUTCOME].to_numpy(float)
    x = d["AI"].to_numpy(float)
    z = d[controls].to_numpy(float)
    sy, sx, sz = np.std(y), np.std(x), np.std(z, axis=0)
    coords = {"entity": [str(e) for e in entities], "region": REGIONS, "control": controls,
              "region_year": labels, "obs": np.arange(len(d))}
    with pm.Model(coords=coords) as m:
        alpha = pm.Normal("alpha", 0.0, 10 * sy, dims="entity")
        delta_free = pm.Normal("delta", 0.0, 10 * sy, dims="region_year")
        delta = pt.concatenate([pt.zeros(1), delta_free])
        beta_region = pm.Normal("beta_region", 0.0, 2.5 * sy / sx, dims="region")
        pm.Deterministic("gap", beta_region[1] - beta_region[0])
        tau = pm.HalfNormal("tau", 0.5 * 2.5 * sy / sx)
        u = pm.Normal("u", 0.0, 1.0, dims="entity")
        slope = beta_region[ent_region] + tau * u
        gamma = pm.Normal("gamma", 0.0, 2.5 * sy / sz, dims="control")
        sigma = pm.HalfNormal("sigma", sy)
        mu = alpha[ent_idx] + delta[slot] + slope[ent_idx] * x + pt.dot(z, gamma)
        pm.Normal("y", mu, sigma, observed=y, dims="obs")
    return m


def run_naive(panel, draws: int, tune: int, seed: int) -> dict:
    import pymc as pm

    controls = list(panel.spec.controls)
    start = time.perf_counter()
    m = naive_model(panel.frame, controls)
    built = time.perf_counter()
    with m:
        idata = pm.sample(draws=draws, tune=tune, chains=CHAINS, cores=CORES, random_seed=seed,
                          progressbar=False)
    seconds = time.perf_counter() - start
    post = idata.posterior
    std = standard_posterior(post["beta_region"].sel(region=REGIONS).values, post["tau"].values,
                             post["sigma"].values, post["gamma"].sel(control=controls).values,
                             controls)
    out = diagnostics(std, n_divergent(idata), seconds)
    out["build_seconds"] = built - start
    out["settings"] = {"sampler": "pymc NUTS (pm.sample defaults)", "target_accept": 0.8,
                       "draws": draws, "tune": tune, "chains": CHAINS, "cores": CORES}
    return out


# ------------------------------------------------------------------------------------------------
# (c) bambi


def bambi_frame(frame: pd.DataFrame) -> pd.DataFrame:
    df = frame.copy()
    for c in ("province", "region"):
        df[c] = df[c].astype(str)
    df["year_f"] = df["year"].astype(str)
    first = df.groupby("region")["year"].transform("min")
    lab = np.where(df["year"] == first, "base", df["region"] + ":" + df["year"].astype(str))
    df["region_year"] = pd.Categorical(lab, categories=["base"] + sorted(set(lab) - {"base"}))
    return df


def bambi_structure(model) -> dict:
    design = model.components[model.family.likelihood.parent].design
    common = design.common
    mat = np.asarray(common.design_matrix)
    terms = {name: len(common.terms[name].labels) for name in common.terms}
    group = list(design.group.terms) if design.group is not None else []
    return {"common_columns": int(mat.shape[1]), "common_rank": int(np.linalg.matrix_rank(mat)),
            "common_terms": terms, "group_terms": group}


def run_bambi(panel, formula: str, draws: int, tune: int, seed: int) -> dict:
    import bambi as bmb

    df = bambi_frame(panel.frame)
    controls = list(panel.spec.controls)
    start = time.perf_counter()
    model = bmb.Model(formula, df)
    model.build()
    built = time.perf_counter()
    idata = model.fit(draws=draws, tune=tune, chains=CHAINS, cores=CORES, random_seed=seed,
                      progressbar=False)
    seconds = time.perf_counter() - start
    post = idata.posterior
    slope_dim = [d for d in post["AI:region"].dims if d not in ("chain", "draw")][0]
    beta = post["AI:region"].sel({slope_dim: REGIONS}).values
    gamma = np.stack([post[c].values for c in controls], axis=-1)
    std = standard_posterior(beta, post["AI|province_sigma"].values, post["sigma"].values, gamma,
                             controls)
    out = diagnostics(std, n_divergent(idata), seconds)
    out["build_seconds"] = built - start
    out["formula"] = formula
    out["structure"] = bambi_structure(model)
    out["priors"] = str(model)
    out["settings"] = {"sampler": "bambi default (inference_method='pymc': PyMC NUTS, "
                                  "init='auto', target_accept 0.8)",
                       "draws": draws, "tune": tune, "chains": CHAINS, "cores": CORES}
    return out


# ------------------------------------------------------------------------------------------------
# report


def versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("pymc", "pytensor", "nutpie", "bambi", "formulae", "arviz", "numpy", "numba",
                "xarray", "pandas", "cpai_bayes"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def machine() -> dict:
    def sh(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True,
                                  cwd=ROOT).stdout.strip()
        except Exception:  # noqa: BLE001
            return None
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import pytensor

    return {"nproc": sh("nproc"), "cpu": cpu, "platform": platform.platform(),
            "pytensor_blas_ldflags": pytensor.config.blas__ldflags,
            "memory": sh("sh", "-c", "free -g | awk '/Mem:/{print $2\" GiB\"}'")}


def source_state() -> dict:
    def sh(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True,
                                  cwd=ROOT).stdout.rstrip()
        except Exception:  # noqa: BLE001
            return None
    files = ["src/cpai_bayes/bayes.py", "src/cpai_bayes/inference.py",
             "src/cpai_bayes/diagnostics.py"]
    return {"git_head": sh("git", "rev-parse", "HEAD"),
            "src_modified": sh("git", "status", "--porcelain", "--", "src") or "",
            "sha256": {f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:16] for f in files}}


def fmt(x, spec):
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, spec)


def markdown_table(results: dict) -> str:
    head = ("| Variant | Wall s | min bulk ESS | min tail ESS | max r_hat | Divergences "
            "| bulk ESS/s | beta East | beta Mid-West | gap (MW - E) | tau | sigma |")
    lines = [head, "|" + "---|" * 12]
    for key, res in results.items():
        label = VARIANTS[key]
        if "error" in res:
            lines.append(f"| {label} | failed: {res['error'].splitlines()[-1][:80]} |"
                         + " |" * 10)
            continue
        m = res["posterior_mean"]
        lines.append(
            f"| {label} | {res['seconds']:.1f} | {res['ess_bulk_min']:.0f} | "
            f"{res['ess_tail_min']:.0f} | {res['r_hat_max']:.3f} | {res['divergences']} | "
            f"{res['ess_bulk_min_per_s']:.1f} | {m['beta_region[East]']:.4f} | "
            f"{m['beta_region[Mid-West]']:.4f} | {m['gap']:.4f} | {m['tau']:.4f} | "
            f"{m['sigma']:.4f} |")
    return "\n".join(lines)


def ratios(results: dict) -> dict:
    out = {}
    for ours in ("cpai_nutpie", "cpai_pymc"):
        for other in ("naive_pymc", "bambi", "bambi_literal"):
            a, b = results.get(ours, {}), results.get(other, {})
            if "ess_bulk_min_per_s" in a and "ess_bulk_min_per_s" in b:
                out[f"{ours} / {other}"] = a["ess_bulk_min_per_s"] / b["ess_bulk_min_per_s"]
    return out


def write_markdown(path: Path, payload: dict) -> str:
    v, mach = payload["versions"], payload["machine"]
    parts = [
        "# Region-slopes model: cpai_bayes vs naive PyMC vs bambi",
        "",
        f"- Date: {payload['date']}",
        f"- Machine: nproc = {mach['nproc']}, {mach['cpu']}, {mach['memory']}, {mach['platform']}",
        f"- Versions: pymc {v['pymc']}, pytensor {v['pytensor']}, nutpie {v['nutpie']}, "
        f"bambi {v['bambi']}, formulae {v['formulae']}, arviz {v['arviz']}, numpy {v['numpy']}, "
        f"python {v['python']}",
        f"- Source: git {str(payload['source']['git_head'])[:10]}"
        + (" with uncommitted changes under src/" if payload["source"]["src_modified"] else ""),
        f"- Data: `data/synthetic/panel.csv`, outcome {OUTCOME}, {payload['n_obs']} rows; "
        f"{payload['settings']['chains']} chains x {payload['settings']['draws']} draws after "
        f"{payload['settings']['tune']} tuning, cores = {CORES}, seed = {payload['settings']['seed']}",
        "- Wall s: build + compile + sampling (perf_counter; for cpai_bayes the whole `fit_bayes`).",
        "  ESS / r_hat: arviz over beta_region[East], beta_region[Mid-West], gap, tau, sigma and the"
        " five control slopes. Last five columns: posterior means.",
        f"- bambi formula: `{BAMBI_FORMULA}` (`region_year`: one categorical, first level `base` ="
        " first year of both regions; full-rank design).",
        f"- bambi literal formula: `{BAMBI_LITERAL_FORMULA}` (`year_f` = year as string).",
        "",
        payload["table"],
        "",
        "Ratios of min-bulk-ESS per second:",
        "",
        *[f"- {k}: {r:.1f}" for k, r in payload["ratios"].items()],
        "",
    ]
    notes = payload.get("notes") or []
    if notes:
        parts += ["Notes:", "", *[f"- {n}" for n in notes], ""]
    text = "\n".join(parts)
    path.write_text(text)
    return text


def auto_notes(results: dict) -> list[str]:
    notes = []
    ok = {k: r for k, r in results.items() if "error" not in r}
    for k, r in results.items():
        if "error" in r:
            notes.append(f"{VARIANTS[k]} failed: {r['error'].splitlines()[-1]}")
    for k, r in ok.items():
        if r["divergences"]:
            notes.append(f"{VARIANTS[k]}: {r['divergences']} divergent transitions.")
        if r["r_hat_max"] > 1.01 or r["ess_bulk_min"] < 400 or r["ess_tail_min"] < 400:
            notes.append(f"{VARIANTS[k]}: misses the r_hat <= 1.01 / ESS >= 400 gate "
                         f"(worst bulk ESS: {r['worst_bulk_parameter']}).")
        if "structure" in r:
            s = r["structure"]
            notes.append(f"{VARIANTS[k]}: {s['common_columns']} common columns, rank "
                         f"{s['common_rank']}; terms {s['common_terms']}; group {s['group_terms']}.")
    if len(ok) > 1:
        ref = ok.get("cpai_nutpie") or next(iter(ok.values()))
        for k, r in ok.items():
            for p in ("beta_region[East]", "beta_region[Mid-West]", "gap"):
                diff = r["posterior_mean"][p] - ref["posterior_mean"][p]
                sd = ref["posterior_sd"][p]
                if abs(diff) > 0.25 * sd:
                    notes.append(f"{VARIANTS[k]}: posterior mean of {p} differs from cpai_bayes "
                                 f"(nutpie) by {diff:+.4f} = {diff / sd:+.2f} posterior SD.")
    return notes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=RESULTS / "region_slopes",
                    help="results stem: writes STEM.json and STEM.md")
    args = ap.parse_args(argv)

    logging.getLogger("pymc").setLevel(logging.ERROR)
    logging.getLogger("bambi").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")

    source = source_state()  # before importing the package: the code that the run uses

    from cpai_bayes.constants import SEED
    from cpai_bayes.schema import load_panel

    panel = load_panel(DATA)
    results: dict[str, dict] = {}
    for key in args.variants:
        print(f"[{dt.datetime.now():%H:%M:%S}] {VARIANTS[key]} ...", file=sys.stderr, flush=True)
        try:
            if key == "cpai_nutpie":
                res = run_cpai(panel, "nutpie", args.draws, args.tune, SEED)
            elif key == "cpai_pymc":
                res = run_cpai(panel, "pymc", args.draws, args.tune, SEED)
            elif key == "naive_pymc":
                res = run_naive(panel, args.draws, args.tune, SEED)
            elif key == "bambi":
                res = run_bambi(panel, BAMBI_FORMULA, args.draws, args.tune, SEED)
            else:
                res = run_bambi(panel, BAMBI_LITERAL_FORMULA, args.draws, args.tune, SEED)
        except Exception:  # noqa: BLE001 - a failed variant is a result too
            res = {"error": traceback.format_exc()}
        results[key] = res
        if "error" in res:
            print(f"    failed: {res['error'].splitlines()[-1]}", file=sys.stderr, flush=True)
        else:
            print(f"    {res['seconds']:.1f} s, min bulk ESS {res['ess_bulk_min']:.0f}, "
                  f"divergences {res['divergences']}", file=sys.stderr, flush=True)

    table = markdown_table(results)
    payload = {
        "benchmark": "region_slopes",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "source": source,
        "data": str(DATA.relative_to(ROOT)),
        "n_obs": int(len(panel.frame)),
        "settings": {"draws": args.draws, "tune": args.tune, "chains": CHAINS, "cores": CORES,
                     "seed": SEED, "parameters": ["beta_region[East]", "beta_region[Mid-West]",
                                                  "gap", "tau", "sigma", "gamma[5]"]},
        "bambi_formula": BAMBI_FORMULA,
        "bambi_literal_formula": BAMBI_LITERAL_FORMULA,
        "results": results,
        "ratios": ratios(results),  # min-bulk-ESS per second, ours / theirs
    }
    payload["notes"] = auto_notes(results)
    payload["table"] = table
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_markdown(args.out.with_suffix(".md"), payload)
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(table)
    print()
    for k, r in payload["ratios"].items():
        print(f"min-bulk-ESS/s ratio {k}: {r:.1f}")
    for n in payload["notes"]:
        print(f"note: {n}")
    print(f"\nwrote {args.out.with_suffix('.json')} and {args.out.with_suffix('.md')}")
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
