"""Read and validate a user's panel: a CSV or parquet file of raw indicators or of a ready panel.

Every problem is an ``InputError`` naming the file, the column and the row, raised before anything is
fitted. Rows are counted as data rows from 1 (the header is line 1 of the file, so data row ``r`` is
line ``r + 1``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cpai_bayes.constants import CONTROLS, SHIFT
from cpai_bayes.errors import InputError
from cpai_bayes.index import IndexResult, build_index

__all__ = ["PanelSpec", "Panel", "read_table", "load_panel"]

LABEL_COLUMNS = ("synthetic",)
"""Columns that label a file (e.g. SYNTHETIC) and carry no data."""


@dataclass(frozen=True)
class PanelSpec:
    """Which columns of a panel file mean what.

    Attributes
    ----------
    entity, time
        Panel identifiers (e.g. ``province``, ``year``).
    group
        Optional grouping column for heterogeneity (e.g. ``region``).
    outcomes
        Outcome column(s); the first is the main one.
    regressor
        The regressor of interest (e.g. ``AI``).
    controls
        Control variables.
    extra_groups
        Further grouping columns kept with the panel (e.g. ``region_nbs`` for a second grouping).
    """

    entity: str = "province"
    time: str = "year"
    group: str | None = "region"
    outcomes: tuple[str, ...] = ("CP", "CP_wealth", "CP_sharing", "CP_continuing")
    regressor: str = "AI"
    controls: tuple[str, ...] = CONTROLS
    extra_groups: tuple[str, ...] = ()

    @property
    def variables(self) -> list[str]:
        """Numeric model variables, outcome(s) first."""
        return [*self.outcomes, self.regressor, *self.controls]


@dataclass(frozen=True)
class Panel:
    """A validated panel, sorted by entity and time.

    Attributes
    ----------
    frame
        Tidy frame with the spec's identifier, group and model columns.
    spec
        The column roles.
    source
        The file it was read from.
    notes
        Things the user should know that are not errors (unbalanced panel, indices built here).
    indices
        The ``IndexResult`` of each index built from raw indicators, if any.
    """

    frame: pd.DataFrame
    spec: PanelSpec
    source: str
    notes: tuple[str, ...] = ()
    indices: dict[str, IndexResult] = field(default_factory=dict)

    @property
    def n_entities(self) -> int:
        return int(self.frame[self.spec.entity].nunique())

    @property
    def n_periods(self) -> int:
        return int(self.frame[self.spec.time].nunique())

    @property
    def balanced(self) -> bool:
        return len(self.frame) == self.n_entities * self.n_periods

    def to_xarray(self) -> xr.Dataset:
        """The model variables as an ``(entity, year)`` Dataset; missing cells of an unbalanced
        panel are NaN."""
        s = self.spec
        ds = self.frame.set_index([s.entity, s.time])[s.variables].to_xarray()
        ds = ds.rename({s.entity: "entity", s.time: "year"})
        if s.group is not None:
            groups = self.frame.groupby(s.entity)[s.group].first()
            ds = ds.assign_coords(region=("entity", groups.reindex(ds["entity"].values).values))
        ds.attrs["source"] = self.source
        return ds


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or parquet file, or raise a one-line ``InputError`` naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=str(path))
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"cannot be read as a table ({first})", file=str(path)) from None
    if df.empty:
        raise InputError("has no data rows", file=str(path))
    df.columns = [str(c).strip() for c in df.columns]
    if len(df.columns) == 1:
        sep = next((d for d in (";", "\t", "|") if d in df.columns[0]), None)
        hint = f" separated by {sep!r} instead of commas" if sep else ""
        raise InputError(f"has a single column{hint}; write it as a comma-separated CSV",
                         file=str(path))
    dupes = pd.Index(df.columns)[pd.Index(df.columns).duplicated()]
    if len(dupes):
        raise InputError("appears twice in the header", file=str(path), column=dupes[0])
    return df


def _numeric(df: pd.DataFrame, columns: Sequence[str], file: str) -> pd.DataFrame:
    out = df.copy()
    for col in columns:
        raw = df[col]
        if pd.api.types.is_numeric_dtype(raw):
            values = raw.astype(float)
        else:
            text = raw.astype(str).str.strip()
            empty = text.isin(["", "NA", "NaN", "nan", "null", "NULL", "None", "."])
            values = pd.to_numeric(text.where(~empty), errors="coerce")
            bad = values.isna() & ~empty
            if bad.any():
                r = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(f"non-numeric value {text.iloc[r]!r}", file=file, column=col,
                                 row=r + 1)
        missing = values.isna().to_numpy()
        if missing.any():
            r = int(np.flatnonzero(missing)[0])
            raise InputError("missing value", file=file, column=col, row=r + 1)
        inf = ~np.isfinite(values.to_numpy())
        if inf.any():
            r = int(np.flatnonzero(inf)[0])
            raise InputError("infinite value", file=file, column=col, row=r + 1)
        out[col] = values.to_numpy()
    return out


def load_panel(
    path: str | Path,
    spec: PanelSpec | None = None,
    *,
    systems: dict[str, pd.DataFrame] | None = None,
    known_entities: Sequence[str] | None = None,
    normalisation: str = "pooled",
    shift: float = SHIFT,
) -> Panel:
    """Read, validate and tidy a panel file.

    The file holds either the ready model variables (``spec.variables``), or raw indicators from
    which the indices named in ``systems`` are built (e.g. ``{"CP": cp_system, "AI": ai_system}``):
    columns that the spec needs and the file lacks must then be producible from ``systems``.

    Parameters
    ----------
    path
        CSV or parquet file, one row per entity-period.
    spec
        Column roles; default: the seed study's.
    systems
        Indicator systems for raw-indicator files, by index name.
    known_entities
        If given, an entity outside this list is an error (e.g. the paper's 30 provinces).
    normalisation, shift
        Index construction choices (``build_index``).

    Raises
    ------
    InputError
        For a missing file or column, a non-numeric, missing or infinite cell, a duplicated
        entity-period, an unknown entity, a constant indicator, or a panel too small to fit.
    """
    spec = spec or PanelSpec()
    file = str(path)
    df = read_table(path)
    df = df.drop(columns=[c for c in LABEL_COLUMNS if c in df.columns])

    groups = ([spec.group] if spec.group else []) + [g for g in spec.extra_groups
                                                     if g != spec.group]
    ids = [spec.entity, spec.time] + groups
    for col in ids:
        if col not in df.columns:
            raise InputError("required column is missing", file=file, column=col)
        blank = df[col].astype(str).str.strip().isin(["", "nan", "NA", "None"]).to_numpy()
        if blank.any():
            raise InputError("missing value", file=file, column=col,
                             row=int(np.flatnonzero(blank)[0]) + 1)
    df[spec.entity] = df[spec.entity].astype(str).str.strip()
    df = _numeric(df, [spec.time], file)
    frac = df[spec.time] % 1 != 0
    if frac.any():
        r = int(np.flatnonzero(frac.to_numpy())[0])
        raise InputError(f"period {df[spec.time].iloc[r]!r} is not a whole number", file=file,
                         column=spec.time, row=r + 1)
    df[spec.time] = df[spec.time].astype(int)
    for grp in groups:
        df[grp] = df[grp].astype(str).str.strip()
        per_entity = df.groupby(spec.entity)[grp].nunique()
        if (per_entity > 1).any():
            ent = per_entity.index[per_entity > 1][0]
            r = int(np.flatnonzero((df[spec.entity] == ent).to_numpy())[0])
            raise InputError(f"entity {ent!r} belongs to more than one group", file=file,
                             column=grp, row=r + 1)

    dup = df.duplicated([spec.entity, spec.time], keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        first, second = rows[0], rows[1:][
            (df[spec.entity].iloc[rows[1:]] == df[spec.entity].iloc[rows[0]]).to_numpy()
            & (df[spec.time].iloc[rows[1:]] == df[spec.time].iloc[rows[0]]).to_numpy()][0]
        raise InputError(
            f"duplicate {spec.entity}-{spec.time} pair ({df[spec.entity].iloc[first]}, "
            f"{df[spec.time].iloc[first]}), first seen in row {first + 1}",
            file=file, column=spec.entity, row=int(second) + 1)

    if known_entities is not None:
        unknown = ~df[spec.entity].isin(list(known_entities)).to_numpy()
        if unknown.any():
            r = int(np.flatnonzero(unknown)[0])
            raise InputError(f"unknown entity {df[spec.entity].iloc[r]!r}", file=file,
                             column=spec.entity, row=r + 1)

    notes: list[str] = []
    indices: dict[str, IndexResult] = {}
    needed = [c for c in spec.variables if c not in df.columns]
    if needed:
        df, indices = _build_indices(df, needed, spec, systems, file, normalisation, shift)
        notes.append(
            f"indices {', '.join(indices)} built from {sum(len(r.weights) for r in indices.values())}"
            f" raw indicators (entropy weights, {normalisation} min-max, shift {shift:g})")
    df = _numeric(df, spec.variables, file)
    for col in spec.variables:
        if df[col].nunique() <= 1:
            raise InputError("is constant in every row, so it cannot enter a regression",
                             file=file, column=col)

    df = df.sort_values([spec.entity, spec.time]).reset_index(drop=True)
    keep = ids + spec.variables
    frame = df[keep]
    counts = frame.groupby(spec.entity)[spec.time].size()
    n_e, n_t = len(counts), frame[spec.time].nunique()
    if n_e < 2 or n_t < 2:
        raise InputError(f"needs at least 2 entities and 2 periods, found {n_e} and {n_t}",
                         file=file)
    if len(frame) != n_e * n_t:
        short = counts[counts < n_t]
        notes.append(
            f"unbalanced panel: {len(frame)} rows for {n_e} entities x {n_t} periods; "
            f"{len(short)} entities have fewer periods (e.g. {short.index[0]}: {short.iloc[0]})")
    singletons = counts[counts == 1]
    if len(singletons):
        notes.append(f"{len(singletons)} entities have a single period and carry no within "
                     f"variation (e.g. {singletons.index[0]})")
    return Panel(frame=frame, spec=spec, source=file, notes=tuple(notes), indices=indices)


def _build_indices(df, needed, spec, systems, file, normalisation, shift):
    systems = systems or {}
    buildable = [c for c in needed if c in systems or c.split("_")[0] in systems]
    missing = [c for c in needed if c not in buildable]
    if missing:
        raise InputError("required column is missing (and is not an index that the indicator "
                         "systems can build)", file=file, column=missing[0])
    indices = {}
    for name in dict.fromkeys(c.split("_")[0] for c in buildable):
        system = systems[name]
        codes = list(system["code"])
        absent = [c for c in codes if c not in df.columns]
        if absent:
            raise InputError(f"raw indicator of the {name} index is missing", file=file,
                             column=absent[0])
        num = _numeric(df, codes, file)
        for code in codes:
            if num[code].nunique() <= 1:
                raise InputError("indicator is constant in every row, so the entropy method "
                                 "gives it no weight and min-max normalisation is undefined",
                                 file=file, column=code)
        try:
            result = build_index(num, system, name=name, normalisation=normalisation,
                                 time=spec.time, shift=shift)
        except ValueError as err:
            raise InputError(str(err), file=file) from None
        indices[name] = result
        df = df.assign(**{name: result.index.to_numpy()},
                       **{c: result.dimensions[c].to_numpy() for c in result.dimensions})
    return df, indices
