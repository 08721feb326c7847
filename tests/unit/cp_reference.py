"""Reference Clopper-Pearson limits for test_stats.c, computed another way: the binomial
tail as an explicit sum of n + 1 terms in 50-digit arithmetic (mpmath), not GSL's
incomplete-beta continued fraction, and bisection in log p to far below 1e-30 relative.
(682, 925) is R's binom.test help-page example, printed there as [0.7076683, 0.7654066].
Run: /usr/bin/python3 tests/unit/cp_reference.py"""
import mpmath as mp

mp.mp.dps = 50
A2 = mp.mpf(1) / 40  # (1 - 0.95) / 2


def root(f):  # zero of an increasing f on (0, 1), bisected in log p
    lo, hi = mp.mpf(10) ** -45, mp.mpf(1)
    for _ in range(160):
        mid = mp.sqrt(lo * hi)
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    return mp.sqrt(lo * hi)


def tail_ge(s, n, p):  # P(X >= s | p), X ~ Bin(n, p)
    return mp.fsum(mp.binomial(n, j) * p ** j * (1 - p) ** (n - j) for j in range(s, n + 1))


def lower(s, n):  # P(X >= s | lo) = a/2; increasing in p
    return root(lambda p: tail_ge(s, n, p) - A2)


def upper(s, n):  # P(X <= s | hi) = a/2; by symmetry P(Y >= n - s | 1 - hi), Y ~ Bin(n, 1-p)
    return 1 - root(lambda q: tail_ge(n - s, n, q) - A2)


CASES = [(1, 2), (3, 10), (682, 925), (16, 500), (484, 500), (31, 1000), (59, 1000),
         (968, 1000), (1, 5000), (2500, 5000), (7, 10000), (9990, 10000)]
for s, n in CASES:
    print("    {%d, %d, %s, %s}," % (s, n, mp.nstr(lower(s, n), 22), mp.nstr(upper(s, n), 22)))
