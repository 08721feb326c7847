"""gpmc_h5.clopper_pearson: scipy's beta quantiles, checked against their defining tail
equations, closed forms, published values, and the intervals gpmc's C code stores.

Every check of a formula here is meant to be able to fail: each names (in a comment) a
plausible wrong variant it rejects, and test_tail_check_rejects_wrong_variants shows the
tail check does reject them by a wide margin."""
import h5py
import numpy as np
import pytest
from scipy import stats

import fixtures
import gpmc_h5
from gpmc_h5 import clopper_pearson

A2 = (1.0 - gpmc_h5.LEVEL) / 2.0  # 0.025: each tail of a 95% interval
N_MAX = 1000
# Relative tolerance of the tail equalities. The tail T(p) = P(X >= s | p) has relative
# condition number kappa = p T'(p) / T(p) <= n (equality at s = n, where T = p^n), so a
# limit correct to a few ulps moves T by ~ n * few * 2.2e-16 ~ 1e-12 at n = 1000 (measured:
# ~4e-12); 1e-8 leaves 10^4 of headroom for scipy/Boost versions, while every wrong variant
# below misses by more than 1e-3 (a instead of a/2 misses by 100%).
TAIL_RTOL = 1e-8


def all_pairs(n_max=N_MAX):
    """Every (s, n) with 1 <= n <= n_max, 0 <= s <= n, grouped by n, s increasing;
    start[n] is the index of (0, n)."""
    sizes = np.arange(1, n_max + 1) + 1
    n = np.repeat(np.arange(1, n_max + 1), sizes)
    start = np.concatenate([[0, 0], np.cumsum(sizes)[:-1]])  # start[0] unused
    s = np.arange(len(n)) - start[n]
    return s, n, start


def tail_errors(s, n, lo, hi):
    """Relative errors of P(X >= s | lo) = a/2 (s > 0) and P(X <= s | hi) = a/2 (s < n)."""
    m = s > 0
    e_lo = np.abs(stats.binom.sf(s[m] - 1, n[m], lo[m]) / A2 - 1)
    m = s < n
    e_hi = np.abs(stats.binom.cdf(s[m], n[m], hi[m]) / A2 - 1)
    return e_lo, e_hi


@pytest.fixture(scope="module")
def sweep():
    s, n, start = all_pairs()
    lo, hi = clopper_pearson(s, n)  # one vectorised call, ~500k intervals
    return s, n, start, lo, hi


def test_sweep_every_s_for_every_n_up_to_1000(sweep):
    s, n, start, lo, hi = sweep
    assert lo.shape == hi.shape == s.shape == (sum(range(2, N_MAX + 2)),)
    assert np.isfinite(lo).all() and np.isfinite(hi).all()
    rate = s / n
    assert (0 <= lo).all() and (lo <= rate).all() and (rate <= hi).all() and (hi <= 1).all()
    # exact ends, and strict inside: the limits only touch 0 / 1 at s = 0 / s = n
    assert (lo[s == 0] == 0).all() and (hi[s == n] == 1).all()
    assert (lo[s > 0] > 0).all() and (hi[s < n] < 1).all()
    assert (lo[s > 0] < rate[s > 0]).all() and (hi[s < n] > rate[s < n]).all()
    # strictly increasing in s at fixed n (the pairs are grouped by n, s increasing)
    same_n = np.diff(n) == 0
    assert (np.diff(lo)[same_n] > 0).all() and (np.diff(hi)[same_n] > 0).all()
    # The defining tail equations. Rejects: a instead of a/2 (tails 0.05), the upper limit
    # as Pinv(a/2; k+1, n-k) (the wrong tail: P(X <= s | hi) = 0.975), the lower limit with
    # the upper limit's shape (k+1, n-k) (a one-off in s).
    e_lo, e_hi = tail_errors(s, n, lo, hi)
    worst = max(e_lo.max(), e_hi.max())
    print(f"\nClopper-Pearson tail equalities over {len(s)} (s, n), n <= {N_MAX}: worst "
          f"relative error {e_lo.max():.3g} (P(X >= s | lo)), {e_hi.max():.3g} "
          f"(P(X <= s | hi)); tolerance {TAIL_RTOL:g}")
    assert worst < TAIL_RTOL
    # Symmetry X -> n - X: lo(s, n) = 1 - hi(n - s, n). Rejects a lower limit computed
    # from a different tail level or shape than the upper one (e.g. a/2 vs a, or n - k vs
    # n - k + 1): both sides then miss each other by > 1e-3.
    mirror = start[n] + (n - s)
    np.testing.assert_allclose(lo, 1 - hi[mirror], rtol=0, atol=4e-16)


def test_tail_check_rejects_wrong_variants():
    """The checker of the sweep, fed the wrong variants it claims to reject, fails them."""
    s, n, _ = all_pairs(60)
    lo, hi = clopper_pearson(s, n)
    wrong = {
        # a instead of a/2 in both tails: the 90% interval
        "a instead of a/2": clopper_pearson(s, n, level=1 - 2 * (1 - gpmc_h5.LEVEL)),
        # upper limit as Pinv(a/2) instead of Pinv(1 - a/2) = Qinv(a/2)
        "hi = Pinv(a/2)": (lo, np.where(s < n, stats.beta.ppf(A2, s + 1, np.maximum(n - s, 1)),
                                        1.0)),
        # lower limit with shape (k+1, n-k)
        "lo shape (k+1, n-k)": (np.where(s > 0, stats.beta.ppf(A2, s + 1,
                                                                np.maximum(n - s, 1)), 0.0), hi),
    }
    for name, (wlo, whi) in wrong.items():
        e_lo, e_hi = tail_errors(s, n, wlo, whi)
        assert max(e_lo.max(), e_hi.max()) > 1e-3, name
    e_lo, e_hi = tail_errors(s, n, lo, hi)
    assert max(e_lo.max(), e_hi.max()) < TAIL_RTOL


# Independently published: R's binom.test, printed to 7 decimals (hence abs=5e-8, half a
# unit of the last digit). (682, 925) is the example of R's ?binom.test ("Under (the
# assumption of) simple Mendelian inheritance ...", 95% CI 0.7076683 0.7654066).
# Rejects: a instead of a/2 (0.7124, 0.7611), hi = Pinv(a/2; k+1, n-k) (0.7088), the Wald
# interval p +- 1.96 sqrt(p(1-p)/n) (0.7089, 0.7657), Wilson's score interval (0.7080,
# 0.7646): all off by more than 3e-4.
@pytest.mark.parametrize("k,n,lo,hi", [(682, 925, 0.7076683, 0.7654066),
                                       (5, 10, 0.1870860, 0.8129140)])
def test_r_binom_test_published_values(k, n, lo, hi):
    assert clopper_pearson(k, n) == pytest.approx((lo, hi), abs=5e-8, rel=0)


def test_closed_forms_at_k_0_and_k_n():
    """k = 0: P(X <= 0 | hi) = (1 - hi)^n = a/2, so hi = 1 - (a/2)^(1/n) and lo = 0;
    k = n: P(X >= n | lo) = lo^n = a/2, so lo = (a/2)^(1/n) and hi = 1.
    Rejects: a instead of a/2 (the one-sided 1 - a^(1/n): 0.259 vs 0.308 at n = 10), the
    "rule of three" 3/n, or an exponent 1/(n+1) (an off-by-one in the beta shape)."""
    n = np.arange(1, N_MAX + 1)
    lo0, hi0 = clopper_pearson(np.zeros_like(n), n)
    lon, hin = clopper_pearson(n, n)
    assert (lo0 == 0).all() and (hin == 1).all()
    # -expm1(log(a/2)/n) is 1 - (a/2)^(1/n) without the cancellation at large n
    np.testing.assert_allclose(hi0, -np.expm1(np.log(A2) / n), rtol=1e-13, atol=0)
    np.testing.assert_allclose(lon, A2 ** (1.0 / n), rtol=1e-13, atol=0)
    assert clopper_pearson(1, 1) == pytest.approx((A2, 1.0), rel=1e-14)


def test_n_zero_gives_nan():
    lo, hi = clopper_pearson(0, 0)
    assert isinstance(lo, float) and np.isnan(lo) and np.isnan(hi)
    # arrays, broadcast as a (P, E) table against its (P, 1) counts
    k = np.array([[0, 0], [1, 3], [0, 0]])
    n = np.array([[0], [4], [0]])
    lo, hi = clopper_pearson(k, n)
    assert lo.shape == hi.shape == (3, 2)
    assert np.isnan(lo[[0, 2]]).all() and np.isnan(hi[[0, 2]]).all()
    assert np.isfinite(lo[1]).all() and np.isfinite(hi[1]).all()
    assert (lo[1, 0], hi[1, 0]) == clopper_pearson(1, 4)
    # counts that are NaN (float64 datasets) give NaN too
    lo, hi = clopper_pearson(np.array([np.nan, 2.0]), np.array([5.0, np.nan]))
    assert np.isnan(lo).all() and np.isnan(hi).all()


@pytest.mark.parametrize("k,n", [(3, 2), (-1, 4), (1.5, 4), (1, 4.5)])
def test_impossible_counts_raise(k, n):
    with pytest.raises(ValueError, match="0 <= k <= n"):
        clopper_pearson(k, n)


# -- against the intervals the C code stores ------------------------------------------------
# real_run (conftest.py): wdc_small.ini with 40 trials and thresholds fixtures.REAL_EPS,
# spanning k = 0 .. n at every point.
def test_python_matches_the_intervals_gpmc_stored(real_run):
    with h5py.File(real_run, "r") as f:
        g = f["summary/eps_hat_le"]
        k, n, lo_c, hi_c = (g[s][()] for s in ("k", "n", "ci_low", "ci_high"))
        assert float(g.attrs["level"]) == gpmc_h5.LEVEL
    assert k.shape == lo_c.shape == hi_c.shape == (4, len(fixtures.REAL_EPS))
    assert (n == 40).all()
    assert (k == 0).any() and (k == 40).any() and ((k > 0) & (k < 40)).any()
    lo, hi = clopper_pearson(k, n[:, None])
    # Exact at the ends (0 and 1 where k = 0 / k = n, which rtol alone demands), 1e-10
    # elsewhere: GSL's beta inverse and Boost's agree to ~1e-12 where both converge.
    # Rejects a C side that stored [0, 1] or Pinv(a/2) as the upper limit.
    np.testing.assert_allclose(lo, lo_c, rtol=1e-10, atol=0)
    np.testing.assert_allclose(hi, hi_c, rtol=1e-10, atol=0)
    # the loader hands them out unchanged
    run = gpmc_h5.load(real_run)
    for j, t in enumerate(fixtures.REAL_EPS):
        s = run.success("eps_hat", t)
        assert (s["ci_low"] == lo_c[:, j]).all() and (s["ci_high"] == hi_c[:, j]).all()
