"""Files without an interval somewhere: the loader recomputes it instead of passing NaN on,
a point with no finished trial (n = 0) has NaN rate and interval, table.py prints n/a
there and plot.py leaves it out."""
import shutil

import h5py
import matplotlib.pyplot as plt
import numpy as np
import pytest

import fixtures
import gpmc_h5
import plot
import table
from gpmc_h5 import clopper_pearson

THRESHOLDS = fixtures.REAL_EPS  # of the real_run fixture (conftest.py)
ERROR = "clopper-pearson: beta inverse did not converge"  # what the C side may write


def copy(src, tmp_path, name="copy.h5"):
    return shutil.copyfile(src, tmp_path / name)


def stored(path, group="summary/eps_hat_le"):
    with h5py.File(path, "r") as f:
        return {s: f[f"{group}/{s}"][()] for s in ("rate", "ci_low", "ci_high", "k", "n")}


def test_nan_interval_with_trials_is_recomputed(real_run, tmp_path):
    """gpmc writes NaN plus an `error` attribute when it could not compute an interval:
    the loader computes it from the stored k, n."""
    ref = stored(real_run)
    path = copy(real_run, tmp_path)
    with h5py.File(path, "a") as f:
        g = f["summary/eps_hat_le"]
        for name, at in (("ci_low", (0, 3)), ("ci_high", (1, 2)), ("rate", (2, 4)),
                         ("ci_low", (3, 0))):  # (3, 0): k = 0, so lo is exactly 0
            g[name][at] = np.nan
        g.attrs["error"] = ERROR
    run = gpmc_h5.load(path)
    assert run.summary_errors == {"eps_hat_le": ERROR}
    for j, t in enumerate(THRESHOLDS):
        s = run.success("eps_hat", t)
        for name in ("rate", "ci_low", "ci_high"):
            assert np.isfinite(s[name]).all(), (name, t)
            np.testing.assert_allclose(s[name], ref[name][:, j], rtol=1e-10, atol=0)
    lo = run.grid_array("eps_hat_le", "ci_low")  # the summary itself is whole again
    assert lo.shape == (2, 2, len(THRESHOLDS)) and np.isfinite(lo).all()
    assert run.summary["eps_hat_le"]["ci_low"][3, 0] == 0.0
    # what table.py and plot.py show
    text = table.to_markdown(table.document_tables(run))
    assert "nan" not in text.lower() and "n/a" not in text and "–" not in text
    fig, ax = plt.subplots()
    assert plot.plot_success(ax, run, "n_over_k", "eps_hat", THRESHOLDS[3]) == 0
    plt.close(fig)


def test_nan_without_error_attribute_is_recomputed_too(real_run, tmp_path):
    ref = stored(real_run)
    path = copy(real_run, tmp_path)
    with h5py.File(path, "a") as f:
        f["summary/eps_hat_le/ci_high"][...] = np.nan
    s = gpmc_h5.load(path).success("eps_hat", THRESHOLDS[2])
    np.testing.assert_allclose(s["ci_high"], ref["ci_high"][:, 2], rtol=1e-10, atol=0)


def test_missing_interval_datasets_are_recomputed_from_counts(real_run, tmp_path):
    ref = stored(real_run)
    path = copy(real_run, tmp_path)
    with h5py.File(path, "a") as f:
        for name in ("rate", "ci_low", "ci_high"):
            del f[f"summary/eps_hat_le/{name}"]
    run = gpmc_h5.load(path)
    for j, t in enumerate(THRESHOLDS):
        s = run.success("eps_hat", t)
        for name in ("rate", "ci_low", "ci_high"):
            np.testing.assert_allclose(s[name], ref[name][:, j], rtol=1e-10, atol=0)


def test_no_counts_either_recounts_the_trials(real_run, tmp_path):
    """Interval NaN and k gone: the only source left is /trials."""
    ref = stored(real_run)
    path = copy(real_run, tmp_path)
    with h5py.File(path, "a") as f:
        del f["summary/eps_hat_le/k"]
        f["summary/eps_hat_le/ci_low"][0, 1] = np.nan
    s = gpmc_h5.load(path).success("eps_hat", THRESHOLDS[1])
    assert s["k"].tolist() == ref["k"][:, 1].tolist()
    np.testing.assert_allclose(s["ci_low"], ref["ci_low"][:, 1], rtol=1e-10, atol=0)
    np.testing.assert_allclose(s["ci_high"], ref["ci_high"][:, 1], rtol=1e-10, atol=0)


def test_missing_summary_group_recounts_the_trials(real_run, tmp_path):
    ref = stored(real_run)
    path = copy(real_run, tmp_path)
    with h5py.File(path, "a") as f:
        del f["summary/eps_hat_le"]
    s = gpmc_h5.load(path).success("eps_hat", THRESHOLDS[4])
    for name in ("rate", "ci_low", "ci_high", "k"):
        np.testing.assert_allclose(s[name], ref[name][:, 4], rtol=1e-10, atol=0)


def test_flagged_statistics_are_recomputed_from_trials(real_run, tmp_path):
    path = copy(real_run, tmp_path)
    ref = gpmc_h5.load(real_run).stats("eps_hat")
    with h5py.File(path, "a") as f:
        f["summary/eps_hat/q50"][1] = np.nan
        f["summary/eps_hat"].attrs["error"] = "q50: could not be computed"
    st = gpmc_h5.load(path).stats("eps_hat")
    for name in ("mean", "min", "q05", "q50", "q95", "max"):
        np.testing.assert_allclose(st[name], ref[name], rtol=1e-12, err_msg=name)


def test_a_real_shard_with_points_without_trials(tmp_path):
    """One shard of eight of a 4-task run leaves points with n = 0: NaN rate and interval
    there (older gpmc stored [0, 1]), n/a in tables, left out of plots."""
    path = fixtures.run_gpmc(tmp_path / "shard.h5", "--trials", 1, "--shard", "1/8")
    run = gpmc_h5.load(path)
    s = run.success("eps_hat", 0.5)
    empty = s["n"] == 0
    assert empty.any() and not empty.all(), s["n"]
    for name in ("rate", "ci_low", "ci_high"):
        assert np.isnan(s[name][empty]).all() and np.isfinite(s[name][~empty]).all(), name
    lo, hi = clopper_pearson(s["k"][~empty], s["n"][~empty])
    assert (s["ci_low"][~empty] == lo).all() and (s["ci_high"][~empty] == hi).all()
    (t,) = table.success_tables(run, "eps_hat", 0.5)
    cells = [c for row in t.rows for c in row[1:]]
    texts = [c.text(3) for c in cells]
    assert texts.count("n/a") == int(empty.sum())
    assert all(x == "n/a" or x.count("[") == 1 for x in texts)
    fig, ax = plt.subplots()
    assert plot.plot_success(ax, run, "n_over_k", "eps_hat", 0.5) == int(empty.sum())
    shown = sum(len(line.get_xdata()) for line in ax.get_lines())
    assert shown == int((~empty).sum())
    plt.close(fig)


@pytest.fixture
def no_trials_path(tiny_path):
    """tiny with point 1 (k=2, n_over_k=4) not run at all, stored the way gpmc did before
    it wrote NaN there: rate NaN, interval [0, 1]."""
    with h5py.File(tiny_path, "a") as f:
        f["trials/done"][1, :] = 0
        f["trials/eps_hat"][1, :] = np.nan
        g = f["summary/eps_hat_le"]
        g["n"][1] = 0
        g["k"][1, :] = 0
        g["rate"][1, :] = np.nan
        g["ci_low"][1, :] = 0.0
        g["ci_high"][1, :] = 1.0
        for stat in fixtures.STATS:
            f[f"summary/eps_hat/{stat}"][1] = 0 if stat == "n" else np.nan
    return tiny_path


def test_old_style_n_zero_interval_becomes_nan(no_trials_path):
    run = gpmc_h5.load(no_trials_path)
    for t in (0.1, 0.5):  # stored thresholds
        s = run.success("eps_hat", t)
        assert s["n"][1] == 0
        assert np.isnan([s["rate"][1], s["ci_low"][1], s["ci_high"][1]]).all()
        assert np.isfinite(s["ci_low"][[0, 2, 3]]).all()
    s = run.success("eps_hat", 0.3)  # not stored: counted from the trials
    assert s["n"][1] == 0 and np.isnan([s["rate"][1], s["ci_low"][1], s["ci_high"][1]]).all()


def test_table_prints_n_a_for_no_trials(no_trials_path):
    run = gpmc_h5.load(no_trials_path)
    (t,) = table.success_tables(run, "eps_hat", 0.1)
    assert t.rows[0][2].text(3) == "n/a"  # k=2, n_over_k=4
    assert t.rows[0][1].text(3) == "0.3 [0.0667, 0.652]"
    md = table.to_markdown(table.document_tables(run))
    assert "0 [0, 1]" not in md and "nan" not in md.lower()
    cond = table.condition_table(run, successes=[("eps_hat", 0.1)])
    assert cond.rows[1][3] == 0 and cond.rows[1][-1].text(3) == "n/a"
    tex = table.to_latex(table.document_tables(run, thresholds=[0.1]))
    assert "2 & 0.3 [0.0667, 0.652] & n/a \\\\" in tex


def test_plot_skips_points_without_trials(no_trials_path, tmp_path):
    run = gpmc_h5.load(no_trials_path)
    fig, ax = plt.subplots()
    assert plot.plot_success(ax, run, "n_over_k", "eps_hat", 0.1) == 1
    line_k2, line_k3 = ax.get_lines()
    assert line_k2.get_xdata().tolist() == [2.0] and line_k2.get_ydata().tolist() == [0.3]
    assert line_k3.get_ydata().tolist() == [0.0, 0.5]
    band = ax.collections[0].get_paths()[0].vertices
    assert np.isfinite(band).all()
    assert "1 point without trials left out" in ax.get_title()
    plt.close(fig)
    fig = plot.draw(run, "phase", threshold=0.1)  # the empty cell is masked, not 0
    (im,) = fig.axes[0].get_images()
    assert np.ma.is_masked(im.get_array()) and im.get_array().mask.sum() == 1
    plt.close(fig)
