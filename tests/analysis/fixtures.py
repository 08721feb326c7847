"""Write small gpmc result files (format_version 1) with h5py, in the documented layout,
so the analysis tools can be tested without the gpmc binary; and run the real binary
(run_gpmc, for the tests that compare with what it writes).

As src/driver/h5io.c and summary.c write them: variable-length UTF-8 strings, counts
stored as float64, statistics over the done trials with a value (NaN dropped), sample std
(n - 1), linear quantiles, Clopper-Pearson 95% intervals (NaN rate and interval at n = 0).
"""
import itertools
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "analysis"))
from gpmc_h5 import clopper_pearson  # noqa: E402  (checked against R's binom.test)

STATS = ("mean", "std", "min", "q05", "q50", "q95", "max", "n")


def _summary_stats(values):
    """(P, T) with NaNs -> {stat: (P,)}."""
    out = {s: np.full(len(values), np.nan) for s in STATS}
    for p, row in enumerate(values):
        x = row[~np.isnan(row)]
        out["n"][p] = len(x)
        if len(x):
            q = np.quantile(x, [0.05, 0.5, 0.95])
            for s, v in zip(("mean", "min", "q05", "q50", "q95", "max"),
                            (x.mean(), x.min(), *q, x.max())):
                out[s][p] = v
            out["std"][p] = x.std(ddof=1) if len(x) > 1 else np.nan
    return out


def _rate(hits, valid):
    """hits (P, T) or (P, T, E), valid (P, T) -> rate, ci_low, ci_high, n (P,), k."""
    n = valid.sum(axis=1)
    k = (hits & valid[..., None] if hits.ndim == 3 else hits & valid).sum(axis=1)
    nn = np.broadcast_to(n.reshape(n.shape + (1,) * (k.ndim - 1)), k.shape)
    lo, hi = clopper_pearson(k, nn)  # NaN where n = 0, as gpmc stores it
    rate = np.where(nn > 0, k / np.maximum(nn, 1), np.nan)
    return {"rate": rate, "ci_low": lo, "ci_high": hi, "n": n.astype(float),
            "k": k.astype(float)}


def grid_points(axes, derived=None):
    """axes: [(name, values)] (first slowest) -> {name: (P,) array}, derived included."""
    names = [a for a, _ in axes]
    rows = [dict(zip(names, combo)) for combo in itertools.product(*(v for _, v in axes))]
    for name, fn in (derived or {}).items():
        for r in rows:
            r[name] = fn(r)
    grid = {}
    for name in rows[0]:
        col = [r[name] for r in rows]
        grid[name] = np.array(col, dtype=object if isinstance(col[0], str) else None)
    return grid


def write_run(path, experiment, axes, trials, *, derived=None, thresholds=None,
              params=None, done=None, success=None, points=None, timing=None,
              seed=1, root_attrs=None):
    """Write a gpmc file.

    axes: [(name, values)]; derived: {name: f(point dict)}; trials: {field: (P, T)};
    thresholds: {field: [t...]} for /summary/<field>_le; success: name of a 0/1 field for
    /summary/success; points: {p: {field: array}}; root_attrs overrides root attributes."""
    grid = grid_points(axes, derived)
    P = len(next(iter(grid.values())))
    T = next(iter(trials.values())).shape[1]
    done = np.ones((P, T), np.uint8) if done is None else np.asarray(done, np.uint8)
    spec = f"[run]\nexperiment = {experiment}\ntrials = {T}\nseed = {seed}\n"
    attrs = dict(format="gpmc", format_version=1, gpmc_version="0.1.0",
                 git_commit="fixture", created="2024-01-01T00:00:00Z", experiment=experiment,
                 seed=seed, trials=T, spec=spec, spec_path="fixture.ini", overrides="",
                 command_line="fixture",
                 shard="0/1", complete=1)
    attrs.update(root_attrs or {})
    with h5py.File(path, "w") as f:
        f.attrs.update(attrs)
        f.create_group("code").attrs.update(gpmc_version="0.1.0", mpi_ranks=1)
        g = f.create_group("grid")
        g.attrs["axes"] = [a for a, _ in axes]
        g.attrs["shape"] = np.array([len(v) for _, v in axes], np.int64)
        for name, a in grid.items():
            g.create_dataset(name, data=a, dtype=h5py.string_dtype() if a.dtype == object
                             else a.dtype)
        f.create_group("params").attrs.update(params or {})
        t = f.create_group("trials")
        for name, a in trials.items():
            a = np.where(done.astype(bool), np.asarray(a, float), np.nan)
            t[name] = a
            t[name].attrs.update(doc=f"fixture field {name}", units="")
        t["done"] = done
        tm = f.create_group("timing")
        tm["trial_seconds"] = np.where(done.astype(bool), 0.01, np.nan)
        for name, a in (timing or {}).items():
            tm[name] = a
        s = f.create_group("summary")
        for name in trials:
            for stat, a in _summary_stats(f["trials"][name][()]).items():
                s[f"{name}/{stat}"] = a
        if success:
            # A field named "success" shares /summary/success with its scalar stats; both
            # write "n" (the same count), so keep the first.
            vals = f["trials"][success][()]
            for stat, a in _rate(vals > 0.5, ~np.isnan(vals)).items():
                if f"success/{stat}" not in s:
                    s[f"success/{stat}"] = a
        for name, ths in (thresholds or {}).items():
            th = np.asarray(ths, float)
            vals = f["trials"][name][()]
            for stat, a in _rate(vals[..., None] <= th, ~np.isnan(vals)).items():
                s[f"{name}_le/{stat}"] = a
            s[f"{name}_le/threshold"] = th
        for p, fields in (points or {}).items():
            pg = f.create_group(f"points/{p}")
            pg.attrs.update({k: v[p] for k, v in grid.items() if k in dict(axes)})
            for name, a in fields.items():
                pg[name] = a
    return path


# -- the fixtures the tests use ---------------------------------------------------------
WDC_K = [5, 10, 20]
WDC_RATIOS = [2.0, 4.0, 8.0, 16.0, 32.0]
WDC_EPS = [0.05, 0.1, 0.2]
WDC_C = 0.8  # median eps_hat = C * n^-1/2 at every point, whatever k
WDC_FIELDS = ("eps_hat_diag", "eps_hat_random", "dev_mean", "dev_q50", "dev_q90",
              "dev_q99", "theta_hat", "alpha", "pairs_evaluated")


def wdc_trials(n, T=10):
    """T values symmetric around C n^-1/2, so the median (linear quantile) is exact."""
    return WDC_C * n ** -0.5 * (1.0 + 0.5 * np.linspace(-1.0, 1.0, T))


def write_wdc(path, T=10):
    """The wdc layout: axes k and n_over_k (derived n), thresholds eps."""
    axes = [("k", WDC_K), ("n_over_k", WDC_RATIOS)]
    grid = grid_points(axes, {"n": lambda r: int(round(r["n_over_k"] * r["k"]))})
    eps_hat = np.array([wdc_trials(n, T) for n in grid["n"]])
    trials = {"eps_hat": eps_hat}
    for i, name in enumerate(WDC_FIELDS):
        trials[name] = eps_hat * (1 + i) if name != "alpha" else np.full_like(eps_hat, 0.5)
    return write_run(path, "wdc", axes, trials,
                     derived={"n": lambda r: int(round(r["n_over_k"] * r["k"]))},
                     thresholds={"eps_hat": WDC_EPS},
                     params={"eps": np.array(WDC_EPS), "ensemble": "gaussian", "depth": 2},
                     points={0: {"witness": np.zeros((T, WDC_K[0]))}})


def write_tiny(path):
    """2 x 2 wdc grid, T = 10: at point 0 exactly 3 trials have eps_hat <= 0.1,
    at point 3 two trials were not run (NaN, done = 0)."""
    axes = [("k", [2, 3]), ("n_over_k", [2.0, 4.0])]
    eps = np.array([[0.05, 0.08, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
                    [0.01] * 10,
                    [0.9] * 10,
                    [0.05, 0.05, 0.05, 0.05, 0.5, 0.5, 0.5, 0.5, 9.0, 9.0]])
    done = np.ones((4, 10), np.uint8)
    done[3, 8:] = 0
    return write_run(path, "wdc", axes, {"eps_hat": eps},
                     derived={"n": lambda r: int(round(r["n_over_k"] * r["k"]))},
                     thresholds={"eps_hat": [0.1, 0.5]}, done=done,
                     params={"eps": np.array([0.1, 0.5])})


REC_ENSEMBLES = ["gaussian", "truncated"]
REC_M = [20, 40]
REC_K = [2, 4, 8]


def write_recovery(path, T=8):
    """A recovery experiment: choice axis `ensemble`, axes m and k, fields rel_error and
    a 0/1 `success` (rel_error < 0.1); rel_error = 0.05 * (k/m) * 20 * spread."""
    axes = [("ensemble", REC_ENSEMBLES), ("m", REC_M), ("k", REC_K)]
    grid = grid_points(axes)
    spread = np.linspace(0.5, 1.5, T)
    rel = np.array([0.05 * 20 * k / m * spread for k, m in zip(grid["k"], grid["m"])])
    return write_run(path, "recovery", axes,
                     {"rel_error": rel, "success": (rel < 0.1).astype(float)},
                     success="success", params={"noise": 0.01})


# -- real gpmc runs -------------------------------------------------------------------------
SMALL_SPEC = Path(__file__).with_name("wdc_small.ini")
# thresholds spanning k = 0 .. n at every point of wdc_small (eps_hat is 0.5 .. 4 there)
REAL_EPS = [0.4, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0]


def run_gpmc(out, *args, spec=SMALL_SPEC):
    """`$GPMC_BIN run spec -o out args...` on one rank; fails (not skips) without GPMC_BIN."""
    gpmc = os.environ.get("GPMC_BIN")
    if not gpmc:
        pytest.fail("GPMC_BIN is not set: this test needs a built gpmc binary, e.g. "
                    "GPMC_BIN=build/gpmc /usr/bin/python3 -m pytest tests/analysis "
                    "(make check sets it)", pytrace=False)
    if not (os.path.isfile(gpmc) and os.access(gpmc, os.X_OK)):
        pytest.fail(f"GPMC_BIN={gpmc} is not an executable file", pytrace=False)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    r = subprocess.run([gpmc, "run", str(spec), "-o", str(out), *map(str, args)],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, f"gpmc run failed (exit {r.returncode})\n{r.stdout}\n{r.stderr}"
    return out
