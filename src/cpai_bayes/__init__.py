"""cpai_bayes: Bayesian re-analysis of econometric panel studies.

The seed study regresses a common-prosperity index (CP) on an AI-development index for 30
Chinese provinces, 2012-2020. The package rebuilds its entropy-weighted indices, its
frequentist baselines and Bayesian counterparts. The shipped panel is SYNTHETIC: see
``cpai_bayes.simulate`` and ``data/README.md``.
"""

from cpai_bayes.constants import HDI_PROB, SEED
from cpai_bayes.errors import InputError
from cpai_bayes.weights import entropy_weights, normalise

__all__ = ["HDI_PROB", "SEED", "InputError", "entropy_weights", "normalise"]
__version__ = "0.1.0"
