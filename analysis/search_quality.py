#!/usr/bin/env python3
"""What a search budget reaches, as a fraction of a larger budget on the same matrices.

    search_quality.py FILE [--field eps_hat]

FILE is a results file whose grid has a `search` key with two values (the default budget
and a larger one) and any other keys (e.g. n, k): `search` is not in the stream key, so
both budgets see the same matrices in every trial. For each other-key combination and
trial, the ratio field(small budget) / field(large budget); prints per combination the
ratios' median and minimum, then over all: `median R worst R mean R (N matrices)`.
A ratio above 1 means the small budget found more (the searches are independent draws
after the matrix).
"""
import argparse
import sys

import numpy as np

import gpmc_h5


def ratios(path, field='eps_hat'):
    d = gpmc_h5.load(path)
    grid = d.grid
    if 'search' not in grid:
        raise SystemExit(f"{path}: no `search` key in /grid")
    s = np.asarray(grid['search'])
    lo, hi = s.min(), s.max()
    if lo == hi:
        raise SystemExit(f"{path}: /grid/search has one value ({lo}); two are needed")
    others = [k for k in grid if k != 'search']
    vals = np.asarray(d.trials[field], dtype=float)
    out = []
    keys = sorted({tuple(np.asarray(grid[k])[p] for k in others) for p in range(len(s))})
    for key in keys:
        sel = np.ones(len(s), bool)
        for k, v in zip(others, key):
            sel &= np.asarray(grid[k]) == v
        a = np.where(sel & (s == lo))[0]
        b = np.where(sel & (s == hi))[0]
        if len(a) != 1 or len(b) != 1:
            raise SystemExit(f"{path}: {dict(zip(others, key))} is not one point per budget")
        out.append((dict(zip(others, key)), vals[a[0]] / vals[b[0]]))
    return int(lo), int(hi), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('file')
    ap.add_argument('--field', default='eps_hat')
    a = ap.parse_args(argv)
    lo, hi, out = ratios(a.file, a.field)
    for key, r in out:
        name = ' '.join(f"{k}={v}" for k, v in key.items())
        print(f"{a.field} {name}: search {lo} / {hi}: median {np.median(r):.4f} "
              f"min {np.min(r):.4f}")
    allr = np.concatenate([r for _, r in out])
    print(f"{a.field} search {lo} / {hi}: median {np.median(allr):.4f} worst "
          f"{allr.min():.4f} mean {allr.mean():.4f} ({len(allr)} matrices)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
