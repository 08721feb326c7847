#!/usr/bin/env python3
"""What a search budget reaches, as a fraction of a larger budget on the same matrices.

    search_quality.py FILE [--field eps_hat] [--below 0.93]

FILE is a results file whose grid has a `search` key with two or more values and any
other keys (e.g. n, k): `search` is not in the stream key, so every budget sees the same
matrices in every trial. For each other-key combination and trial, the ratio
field(budget) / field(largest budget); prints per budget below the largest and per
combination the ratios' median and minimum, then per budget over all combinations:
`median R worst R mean R (N matrices, M below B)`, M the matrices whose ratio is strictly
below B (`--below`, default 0.93: the worst case the WDC search aims for). With more
than two budgets this is the convergence curve of the search: how much of the largest
budget's value each budget reaches. A ratio above 1 means the smaller budget found more (the searches are
independent draws after the matrix).
"""
import argparse
import sys

import numpy as np

import gpmc_h5


def curve(path, field='eps_hat'):
    """{budget: [(combination, ratios to the largest budget)]} for every budget below the
    largest, and the largest budget."""
    d = gpmc_h5.load(path)
    grid = d.grid
    if 'search' not in grid:
        raise SystemExit(f"{path}: no `search` key in /grid")
    s = np.asarray(grid['search'])
    budgets = sorted(set(s.tolist()))
    if len(budgets) < 2:
        raise SystemExit(f"{path}: /grid/search has one value ({budgets[0]}); two are needed")
    hi = budgets[-1]
    others = [k for k in grid if k != 'search']
    vals = np.asarray(d.trials[field], dtype=float)
    keys = sorted({tuple(np.asarray(grid[k])[p] for k in others) for p in range(len(s))})
    out = {b: [] for b in budgets[:-1]}
    for key in keys:
        sel = np.ones(len(s), bool)
        for k, v in zip(others, key):
            sel &= np.asarray(grid[k]) == v
        top = np.where(sel & (s == hi))[0]
        for b in budgets[:-1]:
            a = np.where(sel & (s == b))[0]
            if len(a) != 1 or len(top) != 1:
                raise SystemExit(f"{path}: {dict(zip(others, key))} is not one point per budget")
            out[b].append((dict(zip(others, key)), vals[a[0]] / vals[top[0]]))
    return out, int(hi)


def ratios(path, field='eps_hat'):
    """(smallest budget, largest budget, [(combination, ratios)]) of the smallest budget."""
    out, hi = curve(path, field)
    lo = min(out)
    return int(lo), hi, out[lo]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('file')
    ap.add_argument('--field', default='eps_hat')
    ap.add_argument('--below', type=float, default=0.93,
                    help='count the matrices whose ratio is below this (default 0.93)')
    a = ap.parse_args(argv)
    out, hi = curve(a.file, a.field)
    for lo in sorted(out):
        for key, r in out[lo]:
            name = ' '.join(f"{k}={v}" for k, v in key.items())
            print(f"{a.field} {name}: search {lo} / {hi}: median {np.median(r):.4f} "
                  f"min {np.min(r):.4f}")
    for lo in sorted(out):
        allr = np.concatenate([r for _, r in out[lo]])
        print(f"{a.field} search {lo} / {hi}: median {np.median(allr):.4f} worst "
              f"{allr.min():.4f} mean {allr.mean():.4f} ({len(allr)} matrices, "
              f"{int(np.sum(allr < a.below))} below {a.below:g})")
    return 0


if __name__ == '__main__':
    sys.exit(main())
