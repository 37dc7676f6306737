"""Entropy weight method, vectorised over a leading draw axis.

Formulas (../shared/METHODS.md, "Entropy weight method"): for indicator ``j`` over ``n`` units,
``p_ij = pi_i z_ij / sum_i pi_i z_ij``, ``e_j = -sum_i p_ij ln p_ij / H(pi)``, ``d_j = 1 - e_j``,
``w_j = d_j / sum_k d_k``, with observation weights ``pi`` summing to one. Unweighted, ``pi_i = 1/n``
and ``H(pi) = ln n``, the textbook method. Normalising by ``H(pi)`` rather than ``ln n`` keeps a
constant indicator at weight zero when ``pi`` is a Bayesian-bootstrap draw.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cpai_bayes.constants import SHIFT

__all__ = ["normalise", "entropy_weights", "weighted_index"]


def normalise(
    x: ArrayLike,
    direction: ArrayLike,
    *,
    groups: ArrayLike | None = None,
    names: list[str] | None = None,
) -> NDArray[np.float64]:
    """Direction-aware min-max normalisation of an ``(n, m)`` indicator matrix.

    Parameters
    ----------
    x
        Raw indicators, one row per unit (province-year), one column per indicator.
    direction
        ``+1`` (more is better) or ``-1`` per column; also accepts the strings ``"+"`` and ``"-"``.
    groups
        Optional length-``n`` labels (e.g. years): min and max are taken within each group
        (per-year normalisation). ``None`` pools all rows, as the seed study's 0.07-0.70 CP range
        implies.
    names
        Column names, used only in error messages.

    Returns
    -------
    ndarray
        ``z`` in ``[0, 1]``: ``(x - min)/(max - min)`` for ``+``, ``(max - x)/(max - min)`` for ``-``.

    Raises
    ------
    ValueError
        If an indicator is constant (within a group) or not finite.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"indicators must be a 2-d (units x indicators) array, got {x.ndim}-d")
    sign = _direction_sign(direction, x.shape[1])
    if not np.all(np.isfinite(x)):
        col = int(np.where(~np.isfinite(x).all(axis=0))[0][0])
        raise ValueError(f"indicator '{_name(names, col)}' has missing or infinite values")
    if groups is None:
        blocks = [np.arange(x.shape[0])]
    else:
        g = np.asarray(groups)
        blocks = [np.flatnonzero(g == level) for level in np.unique(g)]
    z = np.empty_like(x)
    for rows in blocks:
        lo = x[rows].min(axis=0)
        hi = x[rows].max(axis=0)
        span = hi - lo
        if np.any(span <= 0):
            col = int(np.flatnonzero(span <= 0)[0])
            raise ValueError(f"indicator '{_name(names, col)}' is constant, so it cannot be normalised")
        z[rows] = np.where(sign > 0, (x[rows] - lo) / span, (hi - x[rows]) / span)
    return z


def entropy_weights(
    z: ArrayLike,
    *,
    obs_weights: ArrayLike | None = None,
    shift: float = SHIFT,
) -> NDArray[np.float64]:
    """Entropy weights of normalised indicators, for one data set or many draws at once.

    Parameters
    ----------
    z
        Normalised indicators of shape ``(..., n, m)``; leading axes (draws) broadcast against
        ``obs_weights``.
    obs_weights
        Optional non-negative observation weights of shape ``(..., n)``, e.g. Dirichlet(1) draws of a
        Bayesian bootstrap; each row is rescaled to sum to one. ``None`` weights units equally.
    shift
        Added to ``z`` before the shares are formed, so that ``ln p`` is defined for the unit at
        the minimum (the usual translation; the index itself uses the unshifted ``z``).

    Returns
    -------
    ndarray
        Weights of shape ``(..., m)``, each row non-negative and summing to one.
    """
    z = np.asarray(z, dtype=float) + shift
    n = z.shape[-2]
    if obs_weights is None:
        pi = np.full(z.shape[:-1], 1.0 / n)
    else:
        pi = np.asarray(obs_weights, dtype=float)
        if np.any(pi < 0):
            raise ValueError("observation weights must be non-negative")
        pi = pi / pi.sum(axis=-1, keepdims=True)
    # sum_i p_ij ln p_ij with p_ij = pi_i z_ij / S_j, S_j = sum_i pi_i z_ij, expands to
    # [sum_i pi_i ln(pi_i) z_ij + sum_i pi_i z_ij ln(z_ij)] / S_j - ln S_j: three matrix products
    # instead of (draws x units x indicators) temporaries
    zlogz = np.where(z > 0, z * np.log(np.where(z > 0, z, 1.0)), 0.0)
    pilogpi = np.where(pi > 0, pi * np.log(np.where(pi > 0, pi, 1.0)), 0.0)
    s = np.einsum("...n,...nm->...m", pi, z)
    plogp = (np.einsum("...n,...nm->...m", pilogpi, z)
             + np.einsum("...n,...nm->...m", pi, zlogz)) / s - np.log(s)
    h_pi = -pilogpi.sum(axis=-1)
    e = -plogp / h_pi[..., None]
    d = np.clip(1.0 - e, 0.0, None)
    return d / d.sum(axis=-1, keepdims=True)


def weighted_index(z: ArrayLike, w: ArrayLike) -> NDArray[np.float64]:
    """Index ``I_i = sum_j w_j z_ij`` for ``z`` of shape ``(..., n, m)`` and ``w`` of ``(..., m)``."""
    z = np.asarray(z, dtype=float)
    w = np.asarray(w, dtype=float)
    return np.einsum("...nm,...m->...n", z, w)


def _direction_sign(direction: ArrayLike, m: int) -> NDArray[np.float64]:
    raw = np.atleast_1d(np.asarray(direction))
    if raw.shape != (m,):
        raise ValueError(f"direction has {raw.size} entries for {m} indicators")
    table = {"+": 1.0, "-": -1.0, "1": 1.0, "-1": -1.0, "1.0": 1.0, "-1.0": -1.0}
    try:
        return np.array([table[str(d).strip()] for d in raw])
    except KeyError as err:
        raise ValueError(f"direction must be '+' or '-', got {err.args[0]!r}") from None


def _name(names: list[str] | None, col: int) -> str:
    return names[col] if names is not None else str(col)
