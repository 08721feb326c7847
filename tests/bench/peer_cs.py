"""Peers of the cs bench: Algorithm 2 (Cocola-Hand-Voroninski App. H) as its authors would
write it in NumPy, and in PyTorch on the CPU (one thread, float64), at the paper's 2-layer
setting (k = 20, widths 700, 600, m = 300, Gaussian A). Each iteration: both signs through
the network as one 2-column product, the sign check f(-x) < f(x), the subgradient
Lambda^T A^T (A G(x~) - b) and the step. Prints `peer_cs impl=<name> ... ms_per_iter=..`
(best of 5 rounds); a peer whose library is missing prints `peer_cs impl=<name> skipped=<why>`.
The loop is written once (alg2); the peers differ only in the three operations of Ops.
"""
import sys
import time
from typing import Callable, NamedTuple

import numpy as np

K, N1, N2, M, STEP = 20, 700, 600, 300, 0.7
ITERS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


def problem(rng):
    W1 = rng.standard_normal((N1, K)) / np.sqrt(N1)
    W2 = rng.standard_normal((N2, N1)) / np.sqrt(N2)
    A = rng.standard_normal((M, N2)) / np.sqrt(M)
    xs = rng.standard_normal(K)
    b = A @ np.maximum(W2 @ np.maximum(W1 @ xs, 0), 0)
    return W1, W2, A, b, rng.standard_normal(K)


class Ops(NamedTuple):
    """What the two array libraries spell differently; the rest of alg2 is shared."""

    stack2: Callable  # x -> [x, -x] as the 2 columns of one matrix
    relu: Callable
    colsq: Callable  # R -> the squared norm of each column


NUMPY = Ops(
    stack2=lambda x: np.stack([x, -x], axis=1),
    relu=lambda Z: np.maximum(Z, 0),
    colsq=lambda R: np.einsum("ij,ij->j", R, R),
)


def torch_ops(torch):
    return Ops(
        stack2=lambda x: torch.stack([x, -x], dim=1),
        relu=lambda Z: torch.clamp_min(Z, 0),
        colsq=lambda R: (R * R).sum(0),
    )


def alg2(ops, W1, W2, A, b, x, iters):
    for _ in range(iters):
        X = ops.stack2(x)
        H1 = ops.relu(W1 @ X)
        H2 = ops.relu(W2 @ H1)
        R = A @ H2 - b[:, None]
        f = 0.5 * ops.colsq(R)
        j = 1 if f[1] < f[0] else 0
        if j:
            x = -x
        g = W2.T @ ((A.T @ R[:, j]) * (H2[:, j] > 0))
        g = W1.T @ (g * (H1[:, j] > 0))
        x = x - STEP * g
    return x


def best_ms(fn, rounds=5):
    fn(10)  # warm-up
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(ITERS)
        best = min(best, (time.perf_counter() - t0) / ITERS)
    return 1e3 * best


def main():
    W1, W2, A, b, x0 = problem(np.random.default_rng(1))
    tag = f"k={K} n1={N1} n2={N2} m={M}"
    ms = best_ms(lambda n: alg2(NUMPY, W1, W2, A, b, x0, n))
    print(f"peer_cs impl=numpy {tag} ms_per_iter={ms:.4f}", flush=True)
    try:
        import torch
    except ImportError as e:
        why = f"torch not importable ({e})".replace(" ", "_")
        print(f"peer_cs impl=pytorch skipped={why}")
        return
    torch.set_num_threads(1)
    t = [torch.from_numpy(np.ascontiguousarray(a)) for a in (W1, W2, A, b, x0)]
    ops = torch_ops(torch)
    with torch.no_grad():
        ms = best_ms(lambda n: alg2(ops, *t, n))
    print(f"peer_cs impl=pytorch {tag} ms_per_iter={ms:.4f}", flush=True)


if __name__ == "__main__":
    main()
