"""Analysis specs (TOML files in ``models/``): what to fit, on which data and columns.

Every key is checked before anything is read or fitted; an unknown key, a wrong type or an impossible
combination is an ``InputError`` naming the spec file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from cpai_bayes.constants import SEED
from cpai_bayes.errors import InputError
from cpai_bayes.schema import PanelSpec

__all__ = ["AnalysisSpec", "BaselineOptions", "BayesOptions", "load_spec", "ESTIMATORS"]

ESTIMATORS = ("describe", "twfe", "iv2sls", "winsor", "pcse", "split", "gap")
"""Frequentist estimators a spec may name, in the order they run."""

_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "data": {"path": str, "entity": str, "time": str, "group": str, "reference": str},
    "model": {"outcome": (str, list), "regressor": str, "controls": list},
    "baselines": {"estimators": list, "vcov": str, "winsor_level": float, "pcse_ar1": bool,
                  "permutations": int, "seed": int},
    "bayes": {"models": list, "draws": int, "tune": int, "chains": int, "seed": int,
              "sampler": str, "rope": float, "ar1": bool, "groups": list, "priors": dict,
              "compare": bool},
}
_REQUIRED = {"data": ("path",), "model": ("outcome", "regressor")}


@dataclass(frozen=True)
class BaselineOptions:
    """Options of the frequentist estimators (``[baselines]``)."""

    estimators: tuple[str, ...] = ("twfe",)
    vcov: str = "cluster"
    winsor_level: float = 0.01
    pcse_ar1: bool = False
    permutations: int = 2000
    seed: int = SEED


@dataclass(frozen=True)
class BayesOptions:
    """Options of the Bayesian models (``[bayes]``)."""

    models: tuple[str, ...] = ()
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = SEED
    sampler: str = "nutpie"
    rope: float = 0.05
    ar1: bool = False
    groups: tuple[str, ...] = ()
    priors: dict = field(default_factory=dict)
    compare: bool = False


@dataclass(frozen=True)
class AnalysisSpec:
    """A validated analysis spec.

    Attributes
    ----------
    source
        The spec file.
    data
        The data file, resolved relative to the spec file.
    panel
        Column roles.
    reference
        Reference level of the group for ``gap`` (default: the first level in sort order).
    baselines
        Frequentist estimators and their options.
    """

    source: Path
    data: Path
    panel: PanelSpec
    reference: str | None = None
    baselines: BaselineOptions = field(default_factory=BaselineOptions)
    bayes: BayesOptions = field(default_factory=BayesOptions)


def _fail(file: Path, message: str) -> InputError:
    return InputError(message, file=str(file))


def load_spec(path: str | Path, *, data: str | Path | None = None) -> AnalysisSpec:
    """Read and validate a spec; ``data`` overrides ``[data] path``."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "spec file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise _fail(path, f"is not valid TOML ({err})") from None

    for section, table in raw.items():
        if section not in _SCHEMA:
            raise _fail(path, f"unknown section [{section}] (allowed: {', '.join(_SCHEMA)})")
        if not isinstance(table, dict):
            raise _fail(path, f"[{section}] must be a table")
        for key, value in table.items():
            allowed = _SCHEMA[section]
            if key not in allowed:
                raise _fail(path, f"unknown key '{key}' in [{section}] (allowed: "
                                  f"{', '.join(allowed)})")
            kind = allowed[key]
            ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                ok = True
            if not ok:
                names = kind.__name__ if isinstance(kind, type) else " or ".join(
                    k.__name__ for k in kind)
                raise _fail(path, f"[{section}] {key} must be a {names}, got {value!r}")
    for section, keys in _REQUIRED.items():
        for key in keys:
            if key not in raw.get(section, {}):
                raise _fail(path, f"[{section}] {key} is required")

    d, m = raw["data"], raw["model"]
    outcome = m["outcome"]
    outcomes = (outcome,) if isinstance(outcome, str) else tuple(outcome)
    controls = tuple(m.get("controls", ()))
    for name, values in (("outcome", outcomes), ("controls", controls)):
        if not all(isinstance(v, str) and v for v in values):
            raise _fail(path, f"[model] {name} must hold column names")
    if not outcomes:
        raise _fail(path, "[model] outcome is empty")
    names = [*outcomes, m["regressor"], *controls]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise _fail(path, f"[model] column {sorted(dupes)[0]!r} has more than one role")
    group = d.get("group")
    if group in (d.get("entity", "province"), d.get("time", "year"), *names):
        raise _fail(path, f"[data] group {group!r} is also an identifier or model column")

    b = raw.get("baselines", {})
    estimators = tuple(b.get("estimators", ("twfe",)))
    for est in estimators:
        if est not in ESTIMATORS:
            raise _fail(path, f"unknown estimator {est!r} in [baselines] estimators (allowed: "
                              f"{', '.join(ESTIMATORS)})")
    if group is None:
        for est in ("split", "gap"):
            if est in estimators:
                raise _fail(path, f"estimator '{est}' needs [data] group")
    if "reference" in d and group is None:
        raise _fail(path, "[data] reference needs [data] group")
    vcov = b.get("vcov", "cluster")
    if vcov not in ("cluster", "hetero", "iid"):
        raise _fail(path, f"[baselines] vcov must be cluster, hetero or iid, got {vcov!r}")
    level = float(b.get("winsor_level", 0.01))
    if not 0 < level < 0.5:
        raise _fail(path, f"[baselines] winsor_level must be in (0, 0.5), got {level}")
    perms = int(b.get("permutations", 2000))
    if perms < 100:
        raise _fail(path, f"[baselines] permutations must be at least 100, got {perms}")

    bayes = _bayes_options(path, raw.get("bayes", {}), group)
    data_path = Path(data) if data is not None else (path.parent / d["path"])
    return AnalysisSpec(
        source=path,
        data=data_path,
        panel=PanelSpec(entity=d.get("entity", "province"), time=d.get("time", "year"),
                        group=group, outcomes=outcomes, regressor=m["regressor"],
                        controls=controls, extra_groups=bayes.groups),
        reference=d.get("reference"),
        baselines=BaselineOptions(estimators=tuple(e for e in ESTIMATORS if e in estimators),
                                  vcov=vcov, winsor_level=level,
                                  pcse_ar1=bool(b.get("pcse_ar1", False)), permutations=perms,
                                  seed=int(b.get("seed", SEED))),
        bayes=bayes,
    )


def _bayes_options(path: Path, b: dict, group: str | None) -> BayesOptions:
    from cpai_bayes.bayes import DEFAULT_PRIORS
    from cpai_bayes.diagnostics import SAMPLERS
    from cpai_bayes.inference import BAYES_MODELS

    models = tuple(b.get("models", ()))
    for name in models:
        if name not in BAYES_MODELS:
            raise _fail(path, f"unknown model {name!r} in [bayes] models (allowed: "
                              f"{', '.join(BAYES_MODELS)})")
    if group is None and {"bayes_region_slopes"} & set(models):
        raise _fail(path, "model 'bayes_region_slopes' needs [data] group")
    for key in ("draws", "tune", "chains"):
        if key in b and b[key] < (1 if key == "chains" else 50):
            raise _fail(path, f"[bayes] {key} is too small ({b[key]})")
    sampler = b.get("sampler", "nutpie")
    if sampler not in SAMPLERS:
        raise _fail(path, f"[bayes] sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    priors = dict(b.get("priors", {}))
    for key, value in priors.items():
        if key not in DEFAULT_PRIORS:
            raise _fail(path, f"unknown key '{key}' in [bayes.priors] (allowed: "
                              f"{', '.join(DEFAULT_PRIORS)})")
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise _fail(path, f"[bayes.priors] {key} must be a positive number, got {value!r}")
    rope = float(b.get("rope", 0.05))
    if rope < 0:
        raise _fail(path, f"[bayes] rope must be non-negative, got {rope}")
    groups = tuple(b.get("groups", ()))
    if groups and "bayes_region_slopes" not in models:
        raise _fail(path, "[bayes] groups needs 'bayes_region_slopes' in [bayes] models")
    return BayesOptions(models=models, draws=int(b.get("draws", 1000)),
                        tune=int(b.get("tune", 1000)), chains=int(b.get("chains", 4)),
                        seed=int(b.get("seed", SEED)), sampler=sampler, rope=rope,
                        ar1=bool(b.get("ar1", False)), groups=groups,
                        priors={k: float(v) for k, v in priors.items()},
                        compare=bool(b.get("compare", False)))
