"""Entropy weights: a hand-computed example, pymcdm as an independent implementation, draws."""

import numpy as np
import pandas as pd
import pytest

from cpai_bayes.index import build_index
from cpai_bayes.weights import entropy_weights, normalise, weighted_index

X = np.array([[1.0, 10.0], [2.0, 30.0], [4.0, 20.0]])


def test_normalise_by_hand():
    # column 1 is "+": (x - 1)/3; column 2 is "-": (30 - x)/20
    z = normalise(X, ["+", "-"])
    np.testing.assert_allclose(z, [[0, 1], [1 / 3, 0], [1, 0.5]], atol=1e-15)


def test_entropy_weights_by_hand():
    # Hand calculation with shift 0 (0 ln 0 = 0), n = 3:
    # col 1: z = (0, 1/3, 1), p = (0, .25, .75), e = (.25 ln 4 + .75 ln 4/3)/ln 3 = 0.511859
    # col 2: z = (1, 0, .5),  p = (2/3, 0, 1/3), e = (2/3 ln 1.5 + 1/3 ln 3)/ln 3 = 0.579380
    # d = (0.488141, 0.420620), w = d / 0.908761 = (0.537151, 0.462849)
    w = entropy_weights(normalise(X, ["+", "-"]), shift=0.0)
    np.testing.assert_allclose(w, [0.537151, 0.462849], atol=2e-6)


@pytest.mark.parametrize("shift", [1e-4, 1e-2])
def test_matches_pymcdm(shift):
    # pymcdm.weights.entropy_weights takes the matrix as it is (sum normalisation, ln n entropy,
    # no min-max and no shift), so it is given our min-max normalised matrix plus the shift.
    pymcdm = pytest.importorskip("pymcdm")
    rng = np.random.default_rng(1)
    raw = np.exp(rng.normal(size=(270, 26)))
    z = normalise(raw, ["+"] * 20 + ["-"] * 6)
    ref = pymcdm.weights.entropy_weights(z + shift)
    np.testing.assert_allclose(entropy_weights(z, shift=shift), ref, rtol=1e-12)


def test_draw_axis_matches_loop_and_uniform_weights():
    rng = np.random.default_rng(2)
    z = normalise(np.exp(rng.normal(size=(50, 6))), ["+"] * 6)
    pi = rng.dirichlet(np.ones(50), size=7)
    vec = entropy_weights(z, obs_weights=pi)
    loop = np.stack([entropy_weights(z, obs_weights=p) for p in pi])
    np.testing.assert_allclose(vec, loop, rtol=1e-13)
    np.testing.assert_allclose(vec.sum(axis=-1), 1.0)
    uniform = entropy_weights(z, obs_weights=np.ones((3, 50)))
    np.testing.assert_allclose(uniform, np.broadcast_to(entropy_weights(z), (3, 6)), rtol=1e-13)
    # a stack of z (draw, n, m) broadcasts too
    np.testing.assert_allclose(entropy_weights(np.stack([z, z])), np.stack([entropy_weights(z)] * 2))


def test_constant_indicator_gets_zero_weight_under_bootstrap_weights():
    # normalising the entropy by H(pi) rather than ln n keeps a constant column at weight 0
    rng = np.random.default_rng(3)
    z = np.column_stack([rng.uniform(size=40), np.zeros(40), rng.uniform(size=40)])
    w = entropy_weights(z, obs_weights=rng.dirichlet(np.ones(40), size=5))
    np.testing.assert_allclose(w[:, 1], 0.0, atol=1e-12)


def test_normalise_rejects_constant_and_missing():
    with pytest.raises(ValueError, match="'b' is constant"):
        normalise(np.array([[1.0, 2.0], [3.0, 2.0]]), ["+", "+"], names=["a", "b"])
    with pytest.raises(ValueError, match="'a' has missing"):
        normalise(np.array([[np.nan, 2.0], [3.0, 1.0]]), ["+", "+"], names=["a", "b"])
    with pytest.raises(ValueError, match="direction"):
        normalise(X, ["+", "up"])


def test_per_year_normalisation_spans_each_year():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(20, 3))
    years = np.repeat([2012, 2013], 10)
    z = normalise(x, ["+", "-", "+"], groups=years)
    for y in (2012, 2013):
        np.testing.assert_allclose(z[years == y].min(axis=0), 0.0)
        np.testing.assert_allclose(z[years == y].max(axis=0), 1.0)


def test_dimensions_add_up_to_the_index():
    rng = np.random.default_rng(5)
    raw = pd.DataFrame(np.exp(rng.normal(size=(30, 5))), columns=list("abcde"))
    raw["year"] = np.repeat(np.arange(3), 10)
    system = pd.DataFrame({"code": list("abcde"), "dimension": ["u", "u", "v", "v", "w"],
                           "subdimension": "", "name_en": list("abcde"),
                           "direction": ["+", "-", "+", "+", "-"]})
    for norm in ("pooled", "year"):
        res = build_index(raw, system, name="I", normalisation=norm)
        np.testing.assert_allclose(res.dimensions.sum(axis=1), res.index, rtol=1e-14)
        np.testing.assert_allclose(res.weights.sum(), 1.0)
        np.testing.assert_allclose(weighted_index(res.z.to_numpy(), res.weights.to_numpy()),
                                   res.index)
