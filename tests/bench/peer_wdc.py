"""The WDC batched pair evaluation as a researcher would write it in PyTorch: the peer
that tests/bench/run_bench.sh compares build/bench/bench_wdc against.

Same algorithm and sizes as the C evaluator (include/gpmc/wdc_eval.h): for a batch of B pairs,
pre-activations [X; Y] W^T (one matmul), masks 1{z_x > 0} 1{z_y > 0}, masked Grams as
one matmul of the masks against the stacked packed outer products w_i w_i^T, minus
alpha Q_{x,y}, spectral norm from the batched symmetric eigensolver. CPU, one thread,
float64. Prints `peer_wdc n=.. k=.. batch=.. pairs_per_s=..` per size.

    python3 tests/bench/peer_wdc.py [--batch 128] [--check]

--check compares the batched result with a per-pair loop (NumPy) before timing.
"""
import argparse
import math
import time

import torch


def stacked_outer(w, iu):
    """n x k(k+1)/2: row i is the packed upper triangle of w_i w_i^T."""
    return w[:, iu[0]] * w[:, iu[1]]


def q_batch(x, y, alpha):
    """alpha Q_{x,y} for unit rows x, y (B x k): M = u u^T - v v^T with u, v the unit
    bisectors (x+y)/|x+y|, (x-y)/|x-y|; theta = 2 atan2(|x-y|, |x+y|)."""
    s = (x + y).norm(dim=1)
    d = (x - y).norm(dim=1)
    theta = 2 * torch.atan2(d, s)
    u = (x + y) / torch.where(s > 0, s, torch.ones_like(s))[:, None]
    v = (x - y) / torch.where(d > 0, d, torch.ones_like(d))[:, None]
    m = u[:, :, None] * u[:, None, :] - v[:, :, None] * v[:, None, :]
    k = x.shape[1]
    eye = torch.eye(k, dtype=x.dtype)
    a = ((math.pi - theta) / (2 * math.pi))[:, None, None]
    b = (torch.sin(theta) / (2 * math.pi))[:, None, None]
    return alpha * (a * eye + b * m)


def wdc_dev(w, op, iu, x, y, alpha=1.0):
    """||W_{+,x}^T W_{+,y} - alpha Q_{x,y}|| for each row pair of x, y."""
    bsz, k = x.shape
    z = torch.cat([x, y]) @ w.T
    mask = ((z[:bsz] > 0) & (z[bsz:] > 0)).to(w.dtype)
    g = mask @ op
    dmat = -q_batch(x, y, alpha)
    dmat[:, iu[0], iu[1]] += g
    return torch.linalg.eigvalsh(dmat, UPLO="U").abs().amax(dim=1)


def naive_dev(w, x, y, alpha=1.0):
    import numpy as np
    w, x, y = w.numpy(), x.numpy(), y.numpy()
    act = (w @ x > 0) & (w @ y > 0)
    g = (w[act].T @ w[act])
    t = 2 * math.atan2(np.linalg.norm(x - y), np.linalg.norm(x + y))
    e2 = y - math.cos(t) * x
    ne = np.linalg.norm(e2)
    m = np.zeros_like(g)
    if ne > 0 and math.sin(t) > 0:
        e2 = e2 / ne
        m = math.cos(t) * (np.outer(x, x) - np.outer(e2, e2)) + \
            math.sin(t) * (np.outer(x, e2) + np.outer(e2, x))
    q = (math.pi - t) / (2 * math.pi) * np.eye(len(x)) + math.sin(t) / (2 * math.pi) * m
    return np.abs(np.linalg.eigvalsh(g - alpha * q)).max()


def unit_rows(b, k, gen):
    v = torch.randn(b, k, generator=gen, dtype=torch.float64)
    return v / v.norm(dim=1, keepdim=True)


def bench(n, k, bsz, check):
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(n, k, generator=gen, dtype=torch.float64) / math.sqrt(n)
    iu = torch.triu_indices(k, k)
    op = stacked_outer(w, iu)
    x, y = unit_rows(bsz, k, gen), unit_rows(bsz, k, gen)
    if check:
        y[0] = x[0]
        dev = wdc_dev(w, op, iu, x, y)
        for b in range(min(bsz, 8)):
            ref = naive_dev(w, x[b], y[b])
            assert abs(dev[b].item() - ref) <= 1e-10 * max(1.0, ref), (b, dev[b].item(), ref)
    wdc_dev(w, op, iu, x, y)  # warm-up
    best = math.inf
    for _ in range(3):
        reps, t0 = 0, time.perf_counter()
        while True:
            wdc_dev(w, op, iu, x, y)
            reps += 1
            t = time.perf_counter() - t0
            if t > 0.5:
                break
        best = min(best, t / reps)
    print(f"peer_wdc n={n} k={k} batch={bsz} pairs_per_s={bsz / best:.0f} "
          f"us_per_pair={1e6 * best / bsz:.3f} torch={torch.__version__}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for n, k in ((2000, 20), (500, 10)):
        bench(n, k, args.batch, args.check)


if __name__ == "__main__":
    main()
