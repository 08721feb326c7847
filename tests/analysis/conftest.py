"""Fixtures for the analysis tests: small gpmc files written by fixtures.py."""
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
ANALYSIS = Path(__file__).resolve().parents[2] / "analysis"
sys.path.insert(0, str(ANALYSIS))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fixtures  # noqa: E402


@pytest.fixture
def wdc_path(tmp_path):
    return fixtures.write_wdc(tmp_path / "wdc.h5")


@pytest.fixture
def tiny_path(tmp_path):
    return fixtures.write_tiny(tmp_path / "tiny.h5")


@pytest.fixture
def recovery_path(tmp_path):
    return fixtures.write_recovery(tmp_path / "recovery.h5")


@pytest.fixture(scope="session")
def real_run(tmp_path_factory):
    """A file written by the real gpmc ($GPMC_BIN): wdc_small.ini with 40 trials and the
    thresholds fixtures.REAL_EPS. Shared: tests that change it work on a copy."""
    eps = ",".join(f"{t:g}" for t in fixtures.REAL_EPS)
    return fixtures.run_gpmc(tmp_path_factory.mktemp("real") / "wdc.h5", "--trials", 40,
                             "--set", f"eps={eps}")
