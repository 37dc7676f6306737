"""Constants shared by every stage: one seed, one interval width, the paper's design."""

SEED = 20240601
"""Default seed of every generator (``simulate_panel``, bootstraps, samplers)."""

HDI_PROB = 0.94
"""Width of every Bayesian interval the package reports."""

CI_LEVEL = 0.95
"""Width of every frequentist confidence interval the package reports."""

PAPER_YEARS = tuple(range(2012, 2021))
"""The seed study's sample period, 2012-2020 (T = 9)."""

SHIFT = 1e-4
"""Default shift added to min-max normalised indicators before taking logs in the entropy method."""

DIMENSIONS = ("wealth", "sharing", "continuing")
"""The three CP dimensions of Table 1, in the paper's order."""

CONTROLS = ("FDI", "DUP", "SCS", "FDS", "GIL")
"""The paper's five control variables."""

SYNTHETIC_LABEL = "SYNTHETIC"
"""Value of the first column of every shipped synthetic file."""
