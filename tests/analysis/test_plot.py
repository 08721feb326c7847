"""plot.py: fitted slopes, series, and figures written in each format."""
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

import fixtures
import gpmc_h5
import plot

PLOT_PY = Path(__file__).resolve().parents[2] / "analysis" / "plot.py"


def test_fit_loglog_recovers_power_law():
    n = np.geomspace(10, 10_000, 9)
    slope, icpt = plot.fit_loglog(n, 3.7 * n ** -0.5)
    assert slope == pytest.approx(-0.5, abs=1e-12)
    assert np.exp(icpt) == pytest.approx(3.7, rel=1e-12)
    # non-positive and non-finite pairs are ignored; too few points give NaN
    slope2, _ = plot.fit_loglog(np.r_[n, 5, 7], np.r_[3.7 * n ** -0.5, 0.0, np.nan])
    assert slope2 == pytest.approx(-0.5, abs=1e-12)
    assert np.isnan(plot.fit_loglog([10], [1])[0])


def test_series_groups_by_the_other_axis(wdc_path):
    run = gpmc_h5.load(wdc_path)
    assert plot.default_group(run, "n") == ["k"]
    assert plot.default_group(run, "n_over_k") == ["k"]
    xv, lines = plot.series(run, "n")
    assert [label for label, _ in lines] == ["k=5", "k=10", "k=20"]
    for (_, idx), k in zip(lines, fixtures.WDC_K):
        assert (run.grid["k"][idx] == k).all()
        assert xv[idx].tolist() == [r * k for r in fixtures.WDC_RATIOS]


def test_ratio_x(recovery_path):
    run = gpmc_h5.load(recovery_path)
    xv = plot.x_values(run, "k/m")
    np.testing.assert_allclose(xv, run.grid["k"] / run.grid["m"])
    assert plot.default_group(run, "k/m") == ["ensemble"]


def test_scaling_slopes_in_legend(wdc_path):
    run = gpmc_h5.load(wdc_path)
    fig, ax = plt.subplots()
    slopes = plot.plot_scaling(ax, run, "n", "eps_hat", "q50")
    assert list(slopes) == ["k=5", "k=10", "k=20"]
    for s in slopes.values():
        assert s == pytest.approx(-0.5, abs=1e-9)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    # slope.py's SE follows (the fixture's trials are exact lines: no scatter, SE from the
    # trials' spread at each point)
    assert [t.split(" ± ")[0] for t in labels] == ["k=5: slope -0.500", "k=10: slope -0.500",
                                                    "k=20: slope -0.500"]
    assert all(" ± 0.0" in t for t in labels), labels
    assert ax.get_xscale() == ax.get_yscale() == "log"
    plt.close(fig)


def test_success_bands_are_the_intervals(tiny_path):
    run = gpmc_h5.load(tiny_path)
    fig, ax = plt.subplots()
    plot.plot_success(ax, run, "n_over_k", "eps_hat", 0.1)
    (line_k2, _) = ax.get_lines()
    assert line_k2.get_ydata().tolist() == [0.3, 1.0]
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(gpmc_h5.clopper_pearson(3, 10)[0])
    plt.close(fig)


@pytest.mark.parametrize("kind,extra", [
    ("scaling", {}), ("success", {"threshold": 0.1}), ("phase", {"threshold": 0.2}),
    ("xy", {"x": "n", "y": "eps_hat", "logx": True, "logy": True})])
@pytest.mark.parametrize("ext", ["png", "pdf"])
def test_draw_writes_files(wdc_path, tmp_path, kind, extra, ext):
    out = tmp_path / f"fig.{ext}"
    plot.draw(gpmc_h5.load(wdc_path), kind, out, **extra)
    data = out.read_bytes()
    assert len(data) > 1000
    assert data.startswith(b"\x89PNG" if ext == "png" else b"%PDF")


def run_cli(*args):
    return subprocess.run([sys.executable, str(PLOT_PY), *map(str, args)],
                          capture_output=True, text=True)


def test_cli_default_for_wdc(wdc_path, tmp_path):
    out = tmp_path / "demo.png"
    r = run_cli(wdc_path, "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 1000
    assert plot.auto_kind(gpmc_h5.load(wdc_path)) == "scaling"


def test_cli_recovery(recovery_path, tmp_path):
    assert plot.auto_kind(gpmc_h5.load(recovery_path)) == "success"
    for args in (["--kind", "xy", "--x", "k/m", "--y", "rel_error", "--logy"],
                 ["--kind", "phase", "--x", "m", "--y", "k", "--where", "ensemble=gaussian"],
                 ["--x", "k", "--where", "m=40"]):
        out = tmp_path / "r.pdf"
        r = run_cli(recovery_path, "-o", out, *args)
        assert r.returncode == 0, (args, r.stderr)
        assert out.read_bytes().startswith(b"%PDF")
        out.unlink()


def test_cli_rejects_unknown_extension(wdc_path, tmp_path):
    r = run_cli(wdc_path, "-o", tmp_path / "x.gif")
    assert r.returncode != 0 and "use one of .png, .pdf, .svg" in r.stderr


# -- log axes: every decade labelled, and minor ticks where a decade is not spanned -------
def visible_labels(axis):
    """The non-empty tick labels matplotlib draws on an axis, in order, after a draw."""
    axis.figure.canvas.draw()
    lo, hi = sorted(axis.get_view_interval())
    out = []
    for ticks in (axis.get_major_ticks(), axis.get_minor_ticks()):
        for t in ticks:
            x = t.get_loc()
            if x is not None and lo <= x <= hi and t.label1.get_visible() and t.label1.get_text():
                out.append((x, t.label1.get_text()))
    return [text for _, text in sorted(out)]


def write_narrow(path):
    """One k; median eps_hat 2.5 .. 0.15 (the demo's y range, within about one decade)."""
    axes = [("k", [2]), ("n_over_k", [1.0, 4.0, 16.0, 64.0, 280.0])]
    n = np.array([2, 8, 32, 128, 560], float)
    eps = 2.5 * (n / 2) ** -0.5
    trials = {"eps_hat": eps[:, None] * (1 + 0.1 * np.linspace(-1, 1, 6))}
    return fixtures.write_run(path, "wdc", axes, trials,
                              derived={"n": lambda r: int(round(r["n_over_k"] * r["k"]))},
                              thresholds={"eps_hat": [0.5]})


def test_log_y_axis_within_a_decade_has_several_labels(tmp_path):
    run = gpmc_h5.load(write_narrow(tmp_path / "narrow.h5"))
    fig, ax = plt.subplots(figsize=(7, 5))
    plot.plot_scaling(ax, run, "n", "eps_hat", "q50")
    lo, hi = ax.get_ylim()
    assert lo < 0.15 and 2.5 < hi < 10
    y = visible_labels(ax.yaxis)
    assert len(y) >= 3, y                      # not just "10^0"
    assert "1" in y and "0.2" in y and "2" in y, y
    x = visible_labels(ax.xaxis)               # 2 .. 560: the decades 10 and 100 ...
    assert "10" in x and "100" in x, x
    plt.close(fig)
    # xy with --logy, and the figure the CLI writes (draw) label the same way
    fig = plot.draw(run, "xy", x="n", y="eps_hat", logx=True, logy=True)
    assert len(visible_labels(fig.axes[0].yaxis)) >= 3
    plt.close(fig)


def test_log_axis_labels_every_decade(wdc_path):
    """Many decades: one label per decade, no minor labels; x = 10 .. 640 here."""
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.loglog([1e-4, 1e4], [1, 10])
    plot.label_log_axes(ax)
    x = visible_labels(ax.xaxis)
    assert x == ["0.0001", "0.001", "0.01", "0.1", "1", "10", "100", "1000", "10000"], x
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 5))
    plot.plot_success(ax, gpmc_h5.load(wdc_path), "n_over_k", "eps_hat", 0.1, logx=True)
    x = visible_labels(ax.xaxis)               # 2 .. 32: the decade 10 and minor ticks
    assert "10" in x and len(x) >= 3, x
    plt.close(fig)


def test_log_axis_within_less_than_a_decade():
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.semilogy([0, 1], [0.21, 0.78])
    plot.label_log_axes(ax)
    y = visible_labels(ax.yaxis)
    assert len(y) >= 3 and "0.3" in y and "0.5" in y, y
    assert visible_labels(ax.xaxis)            # a linear axis keeps its own labels
    plt.close(fig)
