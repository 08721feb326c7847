#!/usr/bin/env python3
"""Figures from a gpmc result file (PNG, PDF or SVG, chosen by the output's extension).

  scaling  a statistic of a field vs a size on log-log axes, one line per group, with the
           least-squares slope of log y on log x in the legend (wdc: median eps_hat vs n
           for each k; the theory predicts slope -1/2)
  success  success probability vs a grid parameter with Clopper-Pearson 95% bands
  phase    success probability over two grid axes as a heatmap
  xy       a statistic of any field vs any grid parameter or ratio ("k/m"), with a
           q05-q95 band (e.g. a recovery experiment's rel_error vs k/m)

Default (--kind auto): scaling of eps_hat vs n when the file has them, else success
curves, else xy of the first field.

    plot.py results/demo.h5 -o results/demo.png
    plot.py run.h5 --kind phase --x m --y k --where ensemble=gaussian -o phase.pdf
    plot.py run.h5 --kind xy --x k/m --y rel_error --logy -o err.png
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpmc_h5  # noqa: E402  (first: explains a missing numpy / h5py)
import slope as slopefit  # noqa: E402
from table import num, parse_where  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import ticker  # noqa: E402

KINDS = ("auto", "scaling", "success", "phase", "xy")
EXTENSIONS = (".png", ".pdf", ".svg")


# -- data --------------------------------------------------------------------------------
def x_values(run, x):
    """(P,) values of a grid parameter, or of a ratio "a/b" of two."""
    names = x.split("/")
    for name in names:
        if name not in run.grid:
            raise KeyError(f"{name!r} is not a grid parameter (have {sorted(run.grid)})")
    if len(names) == 1:
        return np.asarray(run.grid[x], float)
    a, b = names
    return np.asarray(run.grid[a], float) / np.asarray(run.grid[b], float)


def default_group(run, x):
    """The axes that x does not involve: x's names, and ratio axes "<name>_over_..."."""
    names = x.split("/")
    return [a for a in run.axes
            if a not in names and not any(a.startswith(f"{n}_over_") for n in names)]


def series(run, x, group=None):
    """Split the points into lines, one per combination of the group parameters.
    Returns (xv, [(label, point indices sorted by x)])."""
    xv = x_values(run, x)
    group = default_group(run, x) if group is None else list(group)
    keys = [tuple(run.grid[g][p].item() for g in group) for p in range(run.P)]
    out = []
    for key in dict.fromkeys(keys):
        idx = np.array([p for p in range(run.P) if keys[p] == key])
        label = ", ".join(f"{g}={num(v)}" for g, v in zip(group, key))
        out.append((label, idx[np.argsort(xv[idx], kind="stable")]))
    return xv, out


def fit_loglog(x, y):
    """Least-squares (slope, intercept) of log y = slope log x + intercept, over the
    pairs where both are finite and positive; NaNs when fewer than two remain."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(slope), float(intercept)


# -- log axes ----------------------------------------------------------------------------
class LogLabels(ticker.Formatter):
    """Plain labels for a base-10 log axis (0.2, 1, 30, 1e+05): every decade, and, when
    fewer than two decades are in view, the minor ticks 2, 3 and 5 of each decade (every
    minor tick when the view spans less than half a decade). Decided at draw time from
    the view, so zooming and later limits keep it right. (Matplotlib's default labels only
    the decades once the view spans more than one decade: 0.15 .. 2.5 shows just 10^0.)"""

    def __call__(self, x, pos=None):
        if not (np.isfinite(x) and x > 0):
            return ""
        e = int(np.floor(np.log10(x) + 1e-9))
        mantissa = x / 10.0 ** e
        text = f"{x:.6g}"
        if abs(mantissa - 1) < 1e-6:
            return text                              # a decade: always
        lo, hi = sorted(self.axis.get_view_interval())
        if not (lo > 0 and hi > lo):
            return ""
        decades = np.floor(np.log10(hi) + 1e-9) - np.ceil(np.log10(lo) - 1e-9) + 1
        if decades >= 2:
            return ""
        if np.log10(hi / lo) < 0.5:
            return text                              # less than half a decade: every tick
        return text if any(abs(mantissa - m) < 1e-6 for m in (2, 3, 5)) else ""


def label_log_axes(ax):
    """Tick every decade and the minor ticks of each log axis of ax, labelled by
    LogLabels; linear axes are left alone."""
    for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
        if scale != "log":
            continue
        axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0,), numticks=100))
        axis.set_minor_locator(ticker.LogLocator(base=10, subs=np.arange(2, 10), numticks=100))
        axis.set_major_formatter(LogLabels())
        axis.set_minor_formatter(LogLabels())


# -- figures -----------------------------------------------------------------------------
def plot_scaling(ax, run, x="n", field=None, stat="q50", group=None):
    """Log-log stat(field) vs x, one line per group, fitted slope in the legend: for the
    median (q50) and the mean with slope.py's standard error (the same least-squares slope,
    its SE propagated from the per-point bootstrap / delta-method errors). Returns
    {label: slope}."""
    field = field or run.default_field()
    y = run.stats(field)[stat]
    xv, lines = series(run, x, group)
    slopes = {}
    for label, idx in lines:
        slope, icpt = fit_loglog(xv[idx], y[idx])
        text = f"slope {slope:+.3f}"
        if stat in ("q50", "mean") and field in run.trials:
            trials = np.where(run.done[idx], run.trials[field][idx], np.nan)
            fit = slopefit.fit_points(xv[idx], trials, "median" if stat == "q50" else "mean")
            if fit is not None:
                text += f" ± {fit.se:.{slopefit._digits_for(fit.se)}f}"
        slopes[label] = slope
        (line,) = ax.loglog(xv[idx], y[idx], "o", label=f"{label}: {text}".lstrip(": "))
        if np.isfinite(slope):
            xs = np.array([xv[idx].min(), xv[idx].max()])
            ax.loglog(xs, np.exp(icpt) * xs ** slope, "--", color=line.get_color(), lw=1)
    ax.set(xlabel=x, ylabel=f"{stat} of {field}",
           title=f"{run.experiment}: {stat} {field} vs {x} (least-squares log-log fit ± SE)")
    ax.grid(True, which="both", alpha=0.3)
    label_log_axes(ax)
    ax.legend()
    return slopes


def plot_success(ax, run, x=None, field=None, threshold=None, group=None, logx=False):
    """Success probability vs x with Clopper-Pearson 95% bands, one line per group.
    Points without a rate (no finished trial, n = 0) are left out; returns how many."""
    x = x or list(run.axes)[-1]
    s = run.success(field, threshold)
    shown = np.isfinite(s["rate"]) & np.isfinite(s["ci_low"]) & np.isfinite(s["ci_high"])
    xv, lines = series(run, x, group)
    drawn = False
    for label, idx in lines:
        idx = idx[shown[idx]]
        if not len(idx):
            continue
        (line,) = ax.plot(xv[idx], s["rate"][idx], "o-", label=label or None)
        ax.fill_between(xv[idx], s["ci_low"][idx], s["ci_high"][idx],
                        color=line.get_color(), alpha=0.2, lw=0)
        drawn = drawn or bool(label)
    skipped = int((~shown).sum())
    title = f"{run.experiment}: 95% CI bands"
    if skipped:
        title += f" ({skipped} point{'s' * (skipped > 1)} without trials left out)"
    ax.set(xlabel=x, ylabel=_success_label(run, field, threshold), ylim=(-0.02, 1.02),
           xscale="log" if logx else "linear", title=title)
    ax.grid(True, alpha=0.3)
    label_log_axes(ax)
    if drawn:
        ax.legend()
    return skipped


def plot_phase(ax, run, x=None, y=None, field=None, threshold=None, **fixed):
    """Heatmap of the success probability over two grid axes (others fixed)."""
    axes = list(run.axes)
    x = x or axes[-1]
    y = y or next(a for a in axes if a != x)
    t = run.success_table(y, x, field, threshold, **fixed)
    cmap = matplotlib.colormaps["viridis"].copy()
    cmap.set_bad("0.85")  # points without a rate (n = 0): light grey
    im = ax.imshow(np.ma.masked_invalid(t["rate"]), origin="lower", aspect="auto", vmin=0,
                   vmax=1, cmap=cmap, interpolation="nearest")
    ax.set_xticks(range(len(t["cols"])), [num(v) for v in t["cols"]])
    ax.set_yticks(range(len(t["rows"])), [num(v) for v in t["rows"]])
    where = ", ".join(f"{k}={num(v)}" for k, v in fixed.items())
    ax.set(xlabel=x, ylabel=y, title=f"{run.experiment}: {where}" if where else run.experiment)
    ax.figure.colorbar(im, ax=ax, label=_success_label(run, field, threshold))


def plot_xy(ax, run, x, y=None, stat="q50", group=None, band=("q05", "q95"),
            logx=False, logy=False):
    """stat(y) vs x (a grid parameter or ratio "a/b") with a band between two quantiles."""
    y = y or run.default_field()
    st = run.stats(y)
    xv, lines = series(run, x, group)
    for label, idx in lines:
        (line,) = ax.plot(xv[idx], st[stat][idx], "o-", label=label or None)
        if band:
            ax.fill_between(xv[idx], st[band[0]][idx], st[band[1]][idx],
                            color=line.get_color(), alpha=0.2, lw=0)
    ax.set(xlabel=x, ylabel=f"{stat} of {y}" + (f" ({band[0]}-{band[1]} band)" if band else ""),
           xscale="log" if logx else "linear", yscale="log" if logy else "linear",
           title=f"{run.experiment}: {y} vs {x}")
    ax.grid(True, which="both", alpha=0.3)
    label_log_axes(ax)
    if any(label for label, _ in lines):
        ax.legend()


def _success_label(run, field, threshold):
    field = field or run.default_success_field()
    if threshold is None and field in run.threshold_fields():
        threshold = run.threshold_fields()[field][0]
    return f"P({field})" if threshold is None else f"P({field} <= {num(threshold, 6)})"


def auto_kind(run):
    if "n" in run.grid and run.default_field() == "eps_hat":
        return "scaling"
    if run.has_success_field() or run.threshold_fields():
        return "success"
    return "xy"


def draw(run, kind="auto", out=None, x=None, y=None, field=None, threshold=None,
         stat="q50", group=None, logx=False, logy=False, fixed=None):
    """Draw one figure; save it to `out` when given. Returns the Figure."""
    kind = auto_kind(run) if kind == "auto" else kind
    fig, ax = plt.subplots(figsize=(7, 5))
    if kind == "scaling":
        plot_scaling(ax, run, x or "n", field or y, stat, group)
    elif kind == "success":
        plot_success(ax, run, x, field, threshold, group, logx)
    elif kind == "phase":
        plot_phase(ax, run, x, y, field, threshold, **(fixed or {}))
    else:
        plot_xy(ax, run, x or list(run.axes)[-1], y or field, stat, group, logx=logx, logy=logy)
    fig.tight_layout()
    if out:
        fig.savefig(out, dpi=150)
        plt.close(fig)
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("file", help="gpmc HDF5 result file")
    ap.add_argument("-o", "--output", required=True, help="figure file: .png, .pdf or .svg")
    ap.add_argument("--kind", choices=KINDS, default="auto")
    ap.add_argument("--x", help="grid parameter or ratio a/b on the x axis")
    ap.add_argument("--y", help="field on the y axis (scaling, xy) / axis (phase)")
    ap.add_argument("--field", help="field whose success probability is shown")
    ap.add_argument("--threshold", type=float, help="success = field <= THRESHOLD")
    ap.add_argument("--stat", default="q50", help="summary statistic (default q50)")
    ap.add_argument("--group", nargs="*", help="grid parameters giving one line each "
                    "(default: the axes x does not involve)")
    ap.add_argument("--where", action="append", metavar="NAME=VALUE",
                    help="keep only points with this grid value (repeatable)")
    ap.add_argument("--logx", action="store_true")
    ap.add_argument("--logy", action="store_true")
    args = ap.parse_args(argv)
    if Path(args.output).suffix.lower() not in EXTENSIONS:
        raise SystemExit(f"{ap.prog}: {args.output}: use one of {', '.join(EXTENSIONS)}")
    try:
        run = gpmc_h5.load(args.file)
        where = parse_where(args.where)
        # A phase diagram fixes the other axes itself; everything else selects first.
        if args.kind != "phase" and where:
            run, where = run.select(**where), {}
        draw(run, args.kind, args.output, args.x, args.y, args.field, args.threshold,
             args.stat, args.group, args.logx, args.logy, where)
    except (gpmc_h5.FormatError, KeyError, ValueError) as e:
        raise SystemExit(f"{ap.prog}: {e.args[0] if e.args else e}")


if __name__ == "__main__":
    main()
