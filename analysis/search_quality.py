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


def combinations(grid, others):
    """(values of the keys `others`, mask of the grid points that have them) for every
    combination of those keys in the grid, in sorted order."""
    npts = len(np.asarray(grid['search']))
    keys = sorted({tuple(np.asarray(grid[k])[p] for k in others) for p in range(npts)})
    for key in keys:
        sel = np.ones(npts, bool)
        for k, v in zip(others, key):
            sel &= np.asarray(grid[k]) == v
        yield dict(zip(others, key)), sel


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
    out = {b: [] for b in budgets[:-1]}
    for key, sel in combinations(grid, others):
        top = np.where(sel & (s == hi))[0]
        for b in budgets[:-1]:
            a = np.where(sel & (s == b))[0]
            if len(a) != 1 or len(top) != 1:
                raise SystemExit(f"{path}: {key} is not one point per budget")
            out[b].append((key, vals[a[0]] / vals[top[0]]))
    return out, int(hi)


def ratios(path, field='eps_hat'):
    """(smallest budget, largest budget, [(combination, ratios)]) of the smallest budget."""
    out, hi = curve(path, field)
    lo = min(out)
    return int(lo), hi, out[lo]


def spread(path, field='eps_hat'):
    """None without a `search_seed` key of two or more values; else (largest budget, seeds,
    {seed s > s0: ratios field(largest, s) / field(largest, s0) over every matrix},
    {budget below the largest: ratios field(budget, s) / max over seeds of field(largest)
    over every matrix and seed})."""
    d = gpmc_h5.load(path)
    grid = d.grid
    if 'search' not in grid or 'search_seed' not in grid:
        return None
    s = np.asarray(grid['search'])
    seed = np.asarray(grid['search_seed'])
    seeds = sorted(set(seed.tolist()))
    if len(seeds) < 2:
        return None
    budgets = sorted(set(s.tolist()))
    hi = budgets[-1]
    others = [k for k in grid if k not in ('search', 'search_seed')]
    vals = np.asarray(d.trials[field], dtype=float)
    self_r = {sd: [] for sd in seeds[1:]}
    best_r = {b: [] for b in budgets[:-1]}
    for key, sel in combinations(grid, others):
        def at(b, sd):
            i = np.where(sel & (s == b) & (seed == sd))[0]
            if len(i) != 1:
                raise SystemExit(f"{path}: {key} is not one point per budget and search_seed")
            return vals[i[0]]
        top = {sd: at(hi, sd) for sd in seeds}
        for sd in seeds[1:]:
            self_r[sd].append(top[sd] / top[seeds[0]])
        best = np.max([top[sd] for sd in seeds], axis=0)
        for b in budgets[:-1]:
            for sd in seeds:
                best_r[b].append(at(b, sd) / best)
    return (int(hi), [int(x) for x in seeds],
            {sd: np.concatenate(r) for sd, r in self_r.items()},
            {b: np.concatenate(r) for b, r in best_r.items()})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('file')
    ap.add_argument('--field', default='eps_hat')
    ap.add_argument('--below', type=float, default=0.93,
                    help='count the matrices whose ratio is below this (default 0.93)')
    a = ap.parse_args(argv)
    out, hi = curve(a.file, a.field)
    sp = spread(a.file, a.field)
    ns = 1 if sp is None else len(sp[1])

    def count(runs):
        return f"{runs} matrices" if ns == 1 else f"{runs // ns} matrices x {ns} seeds"

    for lo in sorted(out):
        for key, r in out[lo]:
            name = ' '.join(f"{k}={v}" for k, v in key.items())
            print(f"{a.field} {name}: search {lo} / {hi}: median {np.median(r):.4f} "
                  f"min {np.min(r):.4f}")
    for lo in sorted(out):
        allr = np.concatenate([r for _, r in out[lo]])
        print(f"{a.field} search {lo} / {hi}: median {np.median(allr):.4f} worst "
              f"{allr.min():.4f} mean {allr.mean():.4f} ({count(len(allr))}, "
              f"{int(np.sum(allr < a.below))} below {a.below:g})")
    if sp is not None:
        hi, seeds, self_r, best_r = sp
        for sd, r in self_r.items():
            print(f"{a.field} search {hi}, search_seed {sd} / {seeds[0]}: median "
                  f"{np.median(r):.4f} min {r.min():.4f} max {r.max():.4f} ({len(r)} matrices, "
                  f"{int(np.sum(r < a.below))} below {a.below:g}, "
                  f"{int(np.sum(r > 1 / a.below))} above 1/{a.below:g})")
        names = ', '.join(str(x) for x in seeds)
        for b, r in sorted(best_r.items()):
            print(f"{a.field} search {b} / best of {hi} over search_seed {names}: median "
                  f"{np.median(r):.4f} worst {r.min():.4f} mean {r.mean():.4f} "
                  f"({count(len(r))}, {int(np.sum(r < a.below))} below {a.below:g})")
    return 0


if __name__ == '__main__':
    sys.exit(main())
