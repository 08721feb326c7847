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
