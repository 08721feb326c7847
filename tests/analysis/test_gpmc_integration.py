"""The documented layout on a file written by the real gpmc binary.

Needs GPMC_BIN=path/to/gpmc (the Makefile sets it). Without it this test FAILS: a suite
that cannot run must not pass by skipping."""
import os
import subprocess
from pathlib import Path

import h5py
import matplotlib.pyplot as plt
import numpy as np
import pytest

import fixtures
import gpmc_h5
import plot
import table

SPEC = Path(__file__).with_name("wdc_small.ini")
K, RATIOS, EPS, T, SEED = [2, 4], [2.0, 4.0], [0.25, 0.5], 5, 11
ROOT_ATTRS = ("format", "format_version", "gpmc_version", "git_commit", "created",
              "experiment", "seed", "trials", "spec", "overrides", "command_line", "shard",
              "complete")
WDC_FIELDS = ("eps_hat", "eps_hat_diag", "eps_hat_random", "dev_mean", "dev_q50",
              "dev_q90", "dev_q99", "theta_hat", "alpha", "pairs_evaluated")
STATS = ("mean", "std", "min", "q05", "q50", "q95", "max", "n")


def run_gpmc(tmp_path):
    return fixtures.run_gpmc(tmp_path / "tmp.h5", spec=SPEC)


def check_root(f):
    missing = [a for a in ROOT_ATTRS if a not in f.attrs]
    assert not missing, f"root attributes missing: {missing}"
    a = gpmc_h5._attrs(f)
    assert a["format"] == "gpmc" and a["format_version"] == 1
    assert a["experiment"] == "wdc" and a["trials"] == T and a["seed"] == SEED
    assert a["spec"] == SPEC.read_text(), "root attribute spec is not the full ini text"
    assert a["shard"] == "0/1" and a["complete"] == 1


def check_grid(f):
    g = gpmc_h5._attrs(f["grid"])
    assert list(g["axes"]) == ["k", "n_over_k"]
    assert np.atleast_1d(g["shape"]).tolist() == [len(K), len(RATIOS)]
    P = len(K) * len(RATIOS)
    for name in ("k", "n_over_k", "n"):
        assert f[f"grid/{name}"].shape == (P,), name
    k = f["grid/k"][()].reshape(len(K), len(RATIOS))
    r = f["grid/n_over_k"][()].reshape(len(K), len(RATIOS))
    assert (k == np.array(K)[:, None]).all(), "grid/k does not follow C order (k slowest)"
    np.testing.assert_allclose(r, np.broadcast_to(RATIOS, r.shape))
    assert (f["grid/n"][()] == np.round(f["grid/n_over_k"][()] * f["grid/k"][()])).all()
    return P


def check_trials(f, P):
    fields = [n for n in f["trials"] if n != "done"]
    missing = [n for n in WDC_FIELDS if n not in fields]
    assert not missing, f"wdc fields missing from /trials: {missing}"
    done = f["trials/done"]
    assert done.shape == (P, T) and done.dtype == np.uint8
    assert (done[()] == 1).all(), "done mask is not all 1 on a complete run"
    for name in fields:
        ds = f[f"trials/{name}"]
        assert ds.shape == (P, T) and ds.dtype == np.float64, name
        assert "doc" in ds.attrs and "units" in ds.attrs, f"trials/{name} lacks doc/units"
    ts = f["timing/trial_seconds"]
    assert ts.shape == (P, T) and ts.dtype == np.float64
    assert np.isfinite(ts[()]).all() and (ts[()] >= 0).all()
    return fields


def check_summary(f, P, fields):
    for name in fields:
        x = f[f"trials/{name}"][()]
        for stat in STATS:
            assert f[f"summary/{name}/{stat}"].shape == (P,), f"summary/{name}/{stat}"
        n = f[f"summary/{name}/n"][()]
        assert (n == T).all(), f"summary/{name}/n = {n}, expected {T}"
        np.testing.assert_allclose(f[f"summary/{name}/mean"][()], x.mean(1), rtol=1e-10,
                                   err_msg=name)
        np.testing.assert_allclose(f[f"summary/{name}/q50"][()], np.quantile(x, 0.5, 1),
                                   rtol=1e-10, err_msg=name)
    le = f["summary/eps_hat_le"]
    assert le["threshold"][()].tolist() == EPS
    E = len(EPS)
    for stat in ("rate", "ci_low", "ci_high", "k"):
        assert le[stat].shape == (P, E), stat
    assert (le["n"][()] == T).all()
    k = (f["trials/eps_hat"][()][..., None] <= np.array(EPS)).sum(1)
    assert (le["k"][()] == k).all()
    np.testing.assert_allclose(le["rate"][()], k / T)
    ci = np.array([[gpmc_h5.clopper_pearson(kk, T) for kk in row] for row in k])
    np.testing.assert_allclose(le["ci_low"][()], ci[..., 0], atol=1e-9)
    np.testing.assert_allclose(le["ci_high"][()], ci[..., 1], atol=1e-9)


def check_points(f):
    for p, g in f.get("points", {}).items():
        for name, ds in g.items():
            assert ds.shape[0] == T, f"points/{p}/{name}"
        assert int(g.attrs["k"]) == f["grid/k"][int(p)]


def test_real_gpmc_file_layout(tmp_path):
    path = run_gpmc(tmp_path)
    with h5py.File(path, "r") as f:
        check_root(f)
        P = check_grid(f)
        fields = check_trials(f, P)
        check_summary(f, P, fields)
        check_points(f)
    # and the analysis tools read it
    run = gpmc_h5.load(path)
    assert run.shape == (2, 2) and run.T == T
    text = table.to_markdown(table.document_tables(run))
    assert text.count("## ") == 1 + len(EPS)
    fig = plot.draw(run, out=tmp_path / "demo.png")
    assert (tmp_path / "demo.png").stat().st_size > 1000
    plt.close(fig)
