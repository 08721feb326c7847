#!/usr/bin/env python3
"""The fitted log-log slope of a condition's statistic on a size key, with its standard error.

For each group of grid points (one group per value of the grid axes the key does not
involve), fits log(stat) = slope * log(key) + intercept, where stat is the median
(default) or the mean over trials of a field (default eps_hat) at each point, and prints

    k=5: slope = -0.48 +- 0.03 (n = 8 points, fit of median eps_hat on n)

The key: --by KEY (any grid parameter, an axis or a derived one such as wdc's n); without
it, the single grid axis with more than one value. With --by n on wdc's k x n/k grid the
groups are the values of k (n_over_k is n's ratio axis, so it does not group).

How the standard error is derived (--se, default prop):

  Each point's statistic gets a standard error s_i of its logarithm from its own trials:
  median -- bootstrap over the point's trials (--boot resamples, fixed --seed, so the
  output is deterministic): s_i = std of log(median) over the resamples;
  mean   -- delta method: s_i = std / (sqrt(T) mean) (std: the sample std over trials).
  The points are independent (separate trials). With x_i = log key_i, y_i = log stat_i:

  prop The OLS slope b = sum c_i y_i, c_i = (x_i - xbar) / sum_j (x_j - xbar)^2, with its
       standard error propagated from the points: SE_raw = sqrt(sum c_i^2 s_i^2). Exact for
       a linear estimator given the s_i, and the weights c_i do not depend on the s_i, so
       their noise does not bias the SE (it does with WLS, below). On log-normal synthetic
       data with 100 trials per point, b +- 2 SE_raw covered 95.6% of 1000 replications
       (nominal 95.45%; tests/analysis/test_slope.py). A pure power law is only the leading
       behaviour (the theory has log factors), so the misfit chi2 = sum r_i^2 / s_i^2 of the
       residuals r_i over dof = n - 2 is reported and, as in the Particle Data Group's
       scale factor, the SE is multiplied by S = max(1, sqrt(chi2/dof)): the reported SE
       covers the scatter about the line where it exceeds the noise.
  wls  Weighted least squares, w_i = 1/s_i^2, SE_raw = 1/sqrt(sum w_i (x_i - xbar_w)^2), then
       the same scale factor. Efficient, and exact for known s_i; with estimated s_i the SE
       is slightly small (1/s_i^2 is biased up by the noise of s_i): +- 2 SE_raw covered
       92.8% there (93.8% in another 1500; ~94.5% at 400 trials per point).
  ols  Ordinary least squares, SE = sqrt(RSS/(n-2) / sum (x_i - xbar)^2): assumes the log
       statistic has the same noise at every point (homoscedastic, independent) and uses
       the residuals as its estimate; b +- t_{n-2, 0.975} SE is then a 95% interval
       (t = 2.45 for 8 points: +- 2 SE covers only ~91% with 6 degrees of freedom).

Points whose statistic is not finite and positive are left out (log undefined); a group
needs 3 points (2 for a line, 1 degree of freedom for chi2 or the residuals).

    slope.py results/demo.h5 --by n
    slope.py results/rric_m.h5 --field eps_span --stat mean
    slope.py run.h5 --by k --where ensemble=gaussian --se ols
    slope.py results/r2wdc_width.h5 --field eps_layer --layer 2
"""
import argparse
import math
import sys
from collections import namedtuple
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpmc_h5  # noqa: E402  (first: explains a missing numpy / h5py)
import numpy as np  # noqa: E402

STATS = ("median", "mean")
SE_METHODS = ("prop", "wls", "ols")
BOOT, SEED = 2000, 20261201


class Fit(namedtuple("Fit", "slope se intercept n chi2 dof se_raw method stat field key "
                            "group", defaults=("", "", "", ""))):
    """A fitted log-log line: slope with its standard error se (se_raw before the scale
    factor; the same as se for ols), n points, chi2 and dof of the residuals."""

    def line(self, digits=2):
        """`k=5: slope = -0.48 +- 0.03 (n = 8 points, fit of median eps_hat on n)`."""
        d = max(digits, _digits_for(self.se))  # the SE to two significant digits
        head = f"{self.group}: " if self.group else ""
        extra = ""
        if self.method in ("prop", "wls") and self.dof > 0:
            extra = f"; chi2/dof = {self.chi2 / self.dof:.2g}"
            if self.se > self.se_raw:
                extra += f", SE scaled by {self.se / self.se_raw:.2g}"
        if self.method == "wls":
            extra += "; WLS"
        elif self.method == "ols":
            extra = "; OLS residual SE"
        return (f"{head}slope = {self.slope:.{d}f} +- {self.se:.{d}f} (n = {self.n} points, "
                f"fit of {self.stat} {self.field} on {self.key}{extra})")


def _digits_for(se):
    """Decimals that show the SE to two significant digits (2 to 6)."""
    if not (np.isfinite(se) and se > 0):
        return 2
    return min(6, max(2, 1 - int(math.floor(math.log10(se)))))


# -- per-point statistics ----------------------------------------------------------------
def point_stats(trials, stat="median", boot=BOOT, seed=SEED):
    """(P, T) trials (NaN = none) -> (value, se_log) (P,): the statistic over each row's
    finite trials and the standard error of its logarithm (bootstrap for the median,
    delta method for the mean; NaN with fewer than 2 trials or a non-positive value).
    Rows with the same number of trials share the bootstrap's resample indices (their
    data are independent, so each row's resampling is still a bootstrap of that row)."""
    if stat not in STATS:
        raise ValueError(f"stat {stat!r}: use one of {STATS}")
    trials = np.atleast_2d(np.asarray(trials, float))
    value = np.full(len(trials), np.nan)
    se = np.full(len(trials), np.nan)
    rows = [row[np.isfinite(row)] for row in trials]
    for p, x in enumerate(rows):
        if len(x):
            value[p] = np.median(x) if stat == "median" else x.mean()
        if stat == "mean" and len(x) > 1 and value[p] > 0:
            se[p] = x.std(ddof=1) / (math.sqrt(len(x)) * value[p])
    if stat == "median" and boot > 1:  # boot = 0: no SEs (NaN)
        rng = np.random.default_rng(seed)
        for n in sorted({len(x) for x in rows if len(x) > 1}):
            ps = [p for p, x in enumerate(rows) if len(x) == n and value[p] > 0]
            idx = rng.integers(0, n, (boot, n))
            step = max(1, 4_000_000 // (boot * n))  # rows per chunk: ~32 MB of resamples
            for c in range(0, len(ps), step):
                chunk = ps[c:c + step]
                meds = np.median(np.stack([rows[p] for p in chunk])[:, idx], axis=2)
                with np.errstate(divide="ignore", invalid="ignore"):
                    sd = np.log(meds).std(axis=1, ddof=1)
                ok = np.all(meds > 0, axis=1)
                se[np.array(chunk)[ok]] = sd[ok]
    return value, se


# -- fits --------------------------------------------------------------------------------
def wls(x, y, s):
    """Weighted least squares of y on x with known standard errors s of y.
    Returns (slope, intercept, se_raw, chi2, dof)."""
    x, y, s = (np.asarray(a, float) for a in (x, y, s))
    w = 1.0 / s ** 2
    xb, yb = np.sum(w * x) / w.sum(), np.sum(w * y) / w.sum()
    sxx = np.sum(w * (x - xb) ** 2)
    slope = np.sum(w * (x - xb) * (y - yb)) / sxx
    intercept = yb - slope * xb
    chi2 = float(np.sum(w * (y - intercept - slope * x) ** 2))
    return float(slope), float(intercept), float(1.0 / math.sqrt(sxx)), chi2, len(x) - 2


def propagated(x, y, s):
    """The OLS line with its slope's SE propagated from known standard errors s of y.
    Returns (slope, intercept, se_raw, chi2, dof), chi2 = sum (residual / s)^2."""
    x, y, s = (np.asarray(a, float) for a in (x, y, s))
    xb = x.mean()
    c = (x - xb) / np.sum((x - xb) ** 2)
    slope = float(np.sum(c * y))
    intercept = float(y.mean() - slope * xb)
    chi2 = float(np.sum(((y - intercept - slope * x) / s) ** 2))
    return slope, intercept, float(math.sqrt(np.sum(c ** 2 * s ** 2))), chi2, len(x) - 2


def ols(x, y):
    """Ordinary least squares of y on x; SE from the residuals (homoscedastic errors).
    Returns (slope, intercept, se, rss, dof)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    xb, yb = x.mean(), y.mean()
    sxx = np.sum((x - xb) ** 2)
    slope = np.sum((x - xb) * (y - yb)) / sxx
    intercept = yb - slope * xb
    rss = float(np.sum((y - intercept - slope * x) ** 2))
    dof = len(x) - 2
    return float(slope), float(intercept), float(math.sqrt(rss / dof / sxx)), rss, dof


def fit_points(key, trials, stat="median", se="prop", boot=BOOT, seed=SEED):
    """The log-log fit over points with key values `key` (P,) and trials (P, T).
    Returns a Fit (labels empty) or None when fewer than 3 usable points remain."""
    if se not in SE_METHODS:
        raise ValueError(f"se {se!r}: use one of {SE_METHODS}")
    value, s = point_stats(trials, stat, 0 if se == "ols" else boot, seed)  # ols: no s_i
    return fit_stats(key, value, s, stat, se)


def fit_stats(key, value, s, stat="median", se="prop"):
    """fit_points from the per-point statistics and SEs of their logs (point_stats)."""
    key = np.asarray(key, float)
    ok = np.isfinite(key) & (key > 0) & np.isfinite(value) & (value > 0)
    if se != "ols":
        ok &= np.isfinite(s) & (s > 0)
    if ok.sum() < 3 or np.ptp(key[ok]) == 0:
        return None
    x, y = np.log(key[ok]), np.log(value[ok])
    if se == "ols":
        slope, icpt, err, rss, dof = ols(x, y)
        return Fit(slope, err, icpt, int(ok.sum()), rss, dof, err, "ols", stat)
    if se == "wls":
        slope, icpt, raw, chi2, dof = wls(x, y, s[ok])
    else:
        slope, icpt, raw, chi2, dof = propagated(x, y, s[ok])
    scale = max(1.0, math.sqrt(chi2 / dof))
    return Fit(slope, raw * scale, icpt, int(ok.sum()), chi2, dof, raw, se, stat)


# -- runs --------------------------------------------------------------------------------
def swept_key(run):
    """The single grid axis with more than one value (ValueError otherwise)."""
    varying = [a for a, v in run.axes.items() if len(np.unique(v)) > 1]
    if len(varying) != 1:
        raise ValueError(f"{len(varying)} grid axes vary ({', '.join(varying) or 'none'}): "
                         "name the key with --by KEY (the other axes then group the fits)")
    return varying[0]


def group_axes(run, key):
    """The varying axes that do not involve key: neither key itself nor its ratio axes
    (key_over_...). For a ratio key a_over_b the axis b groups (one fit per b)."""
    return [a for a, v in run.axes.items()
            if a != key and not a.startswith(f"{key}_over_") and len(np.unique(v)) > 1]


def field_values(run, field, layer=None):
    """(P, T) values of a trial field, or with layer = j (from 1) column j of a per-layer
    array /points/<p>/<field> of shape (T, d) (r2wdc's eps_layer); NaN where not done."""
    if layer is None:
        if field not in run.trials:
            raise KeyError(f"{field!r} is not a trial field (have {sorted(run.trials)}; "
                           "per-layer arrays need --layer)")
        return np.where(run.done, run.trials[field], np.nan)
    shapes = run.point_arrays(0) if run.P else {}
    if len(shapes.get(field, ())) != 2:
        raise KeyError(f"{field!r} is not a (T, d) per-point array (have "
                       f"{sorted(k for k, v in shapes.items() if len(v) == 2)})")
    if not 1 <= layer <= shapes[field][1]:
        raise ValueError(f"--layer {layer}: {field} has layers 1..{shapes[field][1]}")
    a = np.stack([np.asarray(run.point_array(p, field), float)[:, layer - 1]
                  for p in range(run.P)])
    return np.where(run.done, a, np.nan)


def fit_run(run, field=None, stat="median", by=None, se="prop", boot=BOOT, seed=SEED,
            layer=None):
    """[Fit] for every group of a loaded run (gpmc_h5.Run), in grid order; layer = j fits
    column j of a per-layer array (field_values)."""
    field = field or run.default_field()
    values = field_values(run, field, layer)
    key = by or swept_key(run)
    if key not in run.grid:
        raise KeyError(f"{key!r} is not a grid parameter (have {sorted(run.grid)})")
    groups = group_axes(run, key)
    labels = [tuple(run.grid[g][p].item() for g in groups) for p in range(run.P)]
    fits = []
    for label in dict.fromkeys(labels):
        idx = np.array([p for p in range(run.P) if labels[p] == label])
        f = fit_points(run.grid[key][idx], values[idx], stat, se, boot, seed)
        name = ", ".join(f"{g}={_num(v)}" for g, v in zip(groups, label))
        if f is None:
            f = Fit(*(math.nan,) * 3, int(len(idx)), math.nan, 0, math.nan, se, stat)
        label = field if layer is None else f"{field}[layer {layer}]"
        fits.append(f._replace(field=label, key=key, group=name))
    return fits


def _num(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("file", help="gpmc HDF5 result file")
    ap.add_argument("--field", help="trial field (default eps_hat)")
    ap.add_argument("--stat", choices=STATS, default="median",
                    help="statistic over trials per point (default median)")
    ap.add_argument("--by", metavar="KEY", help="grid parameter on the x axis (default: the "
                    "single varying axis); the other varying axes group the fits")
    ap.add_argument("--se", choices=SE_METHODS, default="prop",
                    help="standard error: prop (OLS slope, per-point errors propagated; "
                    "default), wls (weighted by them) or ols (from the residuals)")
    ap.add_argument("--boot", type=int, default=BOOT, help=f"bootstrap resamples (median; "
                    f"default {BOOT})")
    ap.add_argument("--seed", type=int, default=SEED, help="bootstrap seed")
    ap.add_argument("--where", action="append", metavar="NAME=VALUE",
                    help="keep only points with this grid value (repeatable)")
    ap.add_argument("--layer", type=int, metavar="J", help="fit layer J (from 1) of a "
                    "per-layer array such as r2wdc's eps_layer (--field eps_layer)")
    args = ap.parse_args(argv)
    from table import parse_where  # the --where syntax of table.py and plot.py
    try:
        run = gpmc_h5.load(args.file)
        if args.where:
            run = run.select(**parse_where(args.where))
        fits = fit_run(run, args.field, args.stat, args.by, args.se, args.boot, args.seed,
                       args.layer)
    except (gpmc_h5.FormatError, KeyError, ValueError) as e:
        raise SystemExit(f"{ap.prog}: {e.args[0] if e.args else e}")
    for f in fits:
        print(f.line() if np.isfinite(f.slope) else
              f"{f.group + ': ' if f.group else ''}no fit (fewer than 3 usable points)")


if __name__ == "__main__":
    main()
