"""analysis/search_quality.py: ratios of a small to a large search budget on the same
matrices, per grid combination and over all."""
import sys
from pathlib import Path

import numpy as np
import pytest

import fixtures

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "analysis"))
import search_quality  # noqa: E402


def _write(path):
    # grid n x search (points in spec order: n outer, search inner), T = 4 matrices
    axes = [("n", [40, 200]), ("search", [100, 3000])]
    small = np.array([[0.9, 0.8, 1.0, 0.5], [0.3, 0.3, 0.2, 0.4]])
    big = np.array([[1.0, 1.0, 1.0, 1.0], [0.3, 0.4, 0.25, 0.4]])
    eps = np.stack([small[0], big[0], small[1], big[1]])
    return fixtures.write_run(path, "wdc", axes, {"eps_hat": eps})


def test_ratios_pair_the_budgets_on_the_same_point(tmp_path, capsys):
    p = _write(tmp_path / "q.h5")
    lo, hi, out = search_quality.ratios(str(p))
    assert (lo, hi) == (100, 3000)
    got = {key["n"]: r for key, r in out}
    # the ratio of each trial to the same trial at the large budget (a variant that
    # pooled or sorted the trials, or divided by the large budget's maximum, differs)
    np.testing.assert_allclose(got[40], [0.9, 0.8, 1.0, 0.5])
    np.testing.assert_allclose(got[200], [1.0, 0.75, 0.8, 1.0])
    assert search_quality.main([str(p)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "median 0.8500 worst 0.5000" in last and "(8 matrices, 5 below 0.93)" in last
    # strictly below: the two ratios of exactly 0.8 are not counted (<= would give 4)
    assert search_quality.main([str(p), "--below", "0.8"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "(8 matrices, 2 below 0.8)" in last


def test_one_budget_is_refused(tmp_path):
    p = fixtures.write_run(tmp_path / "one.h5", "wdc", [("search", [100])],
                           {"eps_hat": np.ones((1, 3))})
    with pytest.raises(SystemExit, match="two are needed"):
        search_quality.ratios(str(p))


def test_curve_divides_every_budget_by_the_largest(tmp_path, capsys):
    # one grid key (search) with three budgets, T = 3 matrices; the points are in spec order
    axes = [("search", [100, 1000, 3000])]
    eps = np.array([[0.5, 0.6, 0.9], [0.8, 0.6, 1.2], [1.0, 0.8, 1.5]])
    p = fixtures.write_run(tmp_path / "c.h5", "wdc", axes, {"eps_hat": eps})
    out, hi = search_quality.curve(str(p))
    assert hi == 3000 and sorted(out) == [100, 1000]
    # each budget against the largest on the same trial (the successive ratio
    # eps(100)/eps(1000) = 0.625, 1, 1.125 differs)
    np.testing.assert_allclose(out[100][0][1], [0.5, 0.75, 0.6])
    np.testing.assert_allclose(out[1000][0][1], [0.8, 0.75, 0.8])
    assert search_quality.ratios(str(p))[:2] == (100, 3000)
    assert search_quality.main([str(p)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "search 100 / 3000: median 0.6000 worst 0.5000" in lines[-2]
    assert "search 1000 / 3000: median 0.8000 worst 0.7500" in lines[-1]


def test_search_seeds_compare_the_largest_budget_with_itself(tmp_path, capsys):
    # two budgets x two independent search draws (search_seed) on the same T = 3 matrices
    axes = [("search", [100, 3000]), ("search_seed", [0, 1])]
    eps = np.array([[0.9, 0.5, 1.0],    # 100, seed 0
                    [0.8, 0.9, 0.6],    # 100, seed 1
                    [1.0, 1.0, 1.0],    # 3000, seed 0
                    [0.9, 1.2, 1.0]])   # 3000, seed 1
    p = fixtures.write_run(tmp_path / "s.h5", "wdc", axes, {"eps_hat": eps})
    hi, seeds, self_r, best_r = search_quality.spread(str(p))
    assert hi == 3000 and seeds == [0, 1]
    # seed 1's largest budget over seed 0's, per matrix (the reverse, 1.11 / 0.83 / 1, or
    # a ratio of the seeds' maxima, differ)
    np.testing.assert_allclose(self_r[1], [0.9, 1.2, 1.0])
    # each draw's small budget over the better of the two large ones: 0.5 / 1.2 on the
    # second matrix (its own large budget would give 0.5, and seed 1's 0.9 / 1.0 = 0.9)
    np.testing.assert_allclose(best_r[100], [0.9, 0.5 / 1.2, 1.0, 0.8, 0.75, 0.6])
    assert search_quality.main([str(p)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    # the own-budget ratios per draw: 0.9, 0.5, 1 and 0.8/0.9, 0.75, 0.6
    assert "search 100 / 3000: median 0.8194 worst 0.5000" in lines[-3]
    assert "(3 matrices x 2 seeds, 5 below 0.93)" in lines[-3]
    assert "search_seed 1 / 0: median 1.0000 min 0.9000 max 1.2000" in lines[-2]
    assert "(3 matrices, 1 below 0.93, 1 above 1/0.93)" in lines[-2]
    assert "search 100 / best of 3000 over search_seed 0, 1: median 0.7750 worst 0.4167" \
        in lines[-1] and "(3 matrices x 2 seeds, 5 below 0.93)" in lines[-1]


def test_one_search_seed_adds_nothing(tmp_path):
    p = _write(tmp_path / "q.h5")
    assert search_quality.spread(str(p)) is None
