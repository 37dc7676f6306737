import warnings

import pytest

warnings.filterwarnings("ignore", message=".*BLAS.*")


@pytest.fixture(scope="session")
def shipped_panel():
    """The shipped SYNTHETIC raw panel turned into indices, as a user would load it."""
    from cpai_bayes.datasets import data_dir, load_indicator_system
    from cpai_bayes.schema import load_panel

    systems = {"CP": load_indicator_system("cp"), "AI": load_indicator_system("ai")}
    return load_panel(data_dir() / "synthetic" / "panel_raw.csv", systems=systems)
