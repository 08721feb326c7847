#!/usr/bin/env python3
"""Noisy compressed sensing (`cs` with noise = tau): the measured output error against its
first-principles prediction, per |eta| = tau and k.

At the fixed point inside x*'s cell, x_T - x* = (A Lambda)^+ eta, so for Gaussian A
E|G(x_T) - G(x*)|^2 = tau^2 k / (m - k - 1) (an inverse-Wishart mean; MATH.md "Recovery
problems" 1): the RMS output error is tau sqrt(k / (m - k - 1)), ~ tau sqrt(k/m) for k << m.
Prints, per (tau, k), the trials' RMS err_output, the prediction and their ratio, and per
tau the least-squares slope of log RMS on log(k/m) (1/2 predicted for k << m); draws both
on log-log axes (-o FILE.png). Trials that ended outside x*'s basin (err_latent >= 0.1:
the noiseless descent fails there too) are left out and counted.

    python3 analysis/cs_noise.py results/chv22_fig2.h5 -o cs_noise.png
"""
import argparse
import sys

import numpy as np

from gpmc_h5 import load

BASIN = 0.1


def rows(run):
    """[(tau, k, m, rms, predicted, used, trials)] over the grid, sorted by tau then k."""
    if run.attrs.get("experiment") != "cs":
        raise ValueError(f"{run.path}: a cs file is needed (experiment {run.attrs.get('experiment')})")
    if run.params.get("noise") != "tau":
        raise ValueError(f"{run.path}: a run with noise = tau is needed (noise = {run.params.get('noise')})")
    out = []
    P = run.done.shape[0]
    for p in range(P):
        tau = float(run.grid["noise_level"][p] if "noise_level" in run.grid else run.params["noise_level"])
        k = float(run.grid["k"][p] if "k" in run.grid else run.params["k"])
        m = float(run.grid["m"][p] if "m" in run.grid else run.params["m"])
        e, lat = run.trials["err_output"][p], run.trials["err_latent"][p]
        ok = run.done[p].astype(bool) & (lat < BASIN) & np.isfinite(e)
        rms = float(np.sqrt(np.mean(e[ok] ** 2))) if ok.any() else float("nan")
        pred = tau * np.sqrt(k / (m - k - 1)) if m - k - 1 > 0 else float("nan")
        out.append((tau, k, m, rms, pred, int(ok.sum()), int(run.done[p].sum())))
    return sorted(out)


def slope(xs, ys):
    ok = np.isfinite(xs) & np.isfinite(ys) & (xs > 0) & (ys > 0)
    return float(np.polyfit(np.log(xs[ok]), np.log(ys[ok]), 1)[0]) if ok.sum() >= 2 else float("nan")


def report(table, out=sys.stdout):
    print("| tau | k | k/m | trials used | RMS err_output | tau sqrt(k/(m-k-1)) | ratio |", file=out)
    print("|---|---|---|---|---|---|---|", file=out)
    for tau, k, m, rms, pred, used, n in table:
        print(f"| {tau:g} | {k:g} | {k / m:.3g} | {used}/{n} | {rms:.3g} | {pred:.3g} | "
              f"{rms / pred:.3f} |", file=out)
    for tau in sorted({r[0] for r in table}):
        sel = [r for r in table if r[0] == tau]
        x = np.array([r[1] / r[2] for r in sel])
        print(f"tau = {tau:g}: slope of log RMS on log(k/m) = "
              f"{slope(x, np.array([r[3] for r in sel])):.3f} "
              f"(prediction's own: {slope(x, np.array([r[4] for r in sel])):.3f})", file=out)


def plot(table, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for tau in sorted({r[0] for r in table}, reverse=True):
        sel = [r for r in table if r[0] == tau]
        x = np.array([r[1] / r[2] for r in sel])
        (line,) = ax.loglog(x, [r[3] for r in sel], "o", label=f"tau = {tau:g}: measured RMS")
        xs = np.geomspace(x.min(), x.max(), 100)
        m = sel[0][2]
        ax.loglog(xs, tau * np.sqrt(xs * m / (m - xs * m - 1)), "-", color=line.get_color(), lw=1,
                  label=f"tau sqrt(k/(m-k-1))")
    ax.set_xlabel("k / m")
    ax.set_ylabel("RMS of |G(x_T) - G(x*)| / |G(x*)|")
    ax.set_title("noisy CS: measured error vs first principles")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("-o", "--output", help="figure file (.png, .pdf, .svg)")
    a = ap.parse_args(argv)
    try:
        table = rows(load(a.file))
    except (ValueError, KeyError, OSError) as e:
        print(f"cs_noise.py: {e}", file=sys.stderr)
        return 2
    report(table)
    if a.output:
        plot(table, a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
