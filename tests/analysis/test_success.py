"""Success probabilities and Clopper-Pearson intervals: stored, recomputed, tabulated."""
import h5py
import numpy as np
import pytest

import gpmc_h5

# R: binom.test(k, n)$conf.int
R_INTERVALS = [
    (3, 10, 0.06673951117773, 0.65245285006000),
    (0, 10, 0.0, 0.30849710781876),
    (10, 10, 0.69150289218124, 1.0),
    (5, 20, 0.08657146910143, 0.49104587170796),
    (50, 100, 0.39832112950329, 0.60167887049671),
    (1, 1, 0.025, 1.0),
]


@pytest.mark.parametrize("k,n,lo,hi", R_INTERVALS)
def test_clopper_pearson_matches_r(k, n, lo, hi):
    assert gpmc_h5.clopper_pearson(k, n) == pytest.approx((lo, hi), abs=1e-10)


def test_clopper_pearson_no_trials():
    """No finished trial: no interval (not the vacuous [0, 1] gpmc once stored)."""
    lo, hi = gpmc_h5.clopper_pearson(0, 0)
    assert np.isnan(lo) and np.isnan(hi)


def test_three_of_ten_below_eps(tiny_path):
    run = gpmc_h5.load(tiny_path)
    s = run.success("eps_hat", 0.1)
    assert s["k"][0] == 3 and s["n"][0] == 10 and s["rate"][0] == pytest.approx(0.3)
    assert (s["ci_low"][0], s["ci_high"][0]) == pytest.approx(R_INTERVALS[0][2:], abs=1e-10)
    # the not-run trials of point 3 are not counted
    assert s["n"][3] == 8 and s["k"][3] == 4


def test_stored_interval_is_read_not_recomputed(tiny_path):
    with h5py.File(tiny_path, "a") as f:
        f["summary/eps_hat_le/ci_low"][0, 0] = 0.123
    run = gpmc_h5.load(tiny_path)
    assert run.success("eps_hat", 0.1)["ci_low"][0] == 0.123
    t = run.success_table("k", "n_over_k", "eps_hat", 0.1)
    assert t["ci_low"][0, 0] == 0.123


def test_unstored_threshold_is_recomputed_from_trials(tiny_path):
    run = gpmc_h5.load(tiny_path)
    s = run.success("eps_hat", 0.3)  # stored thresholds: 0.1, 0.5
    assert s["k"].tolist() == [5, 10, 0, 4] and s["n"].tolist() == [10, 10, 10, 8]
    lo, hi = gpmc_h5.clopper_pearson(5, 10)
    assert (s["ci_low"][0], s["ci_high"][0]) == (lo, hi)


def test_threshold_must_be_chosen_when_several(tiny_path):
    run = gpmc_h5.load(tiny_path)
    with pytest.raises(ValueError, match="choose a threshold"):
        run.success("eps_hat")
    assert run.default_success_field() == "eps_hat"


def test_success_table_orientation(tiny_path):
    run = gpmc_h5.load(tiny_path)
    t = run.success_table("k", "n_over_k", threshold=0.1)
    assert t["rows"].tolist() == [2, 3] and t["cols"].tolist() == [2.0, 4.0]
    assert t["rate"].tolist() == [[0.3, 1.0], [0.0, 0.5]]
    tt = run.success_table("n_over_k", "k", threshold=0.1)
    assert tt["rate"].tolist() == t["rate"].T.tolist()
    assert run.success_table("k", threshold=0.1, n_over_k=4.0)["rate"].tolist() == [[1.0], [0.5]]
    with pytest.raises(ValueError, match="neither a row, a column nor fixed"):
        run.success_table("k", threshold=0.1)


def test_zero_one_success_field(recovery_path):
    run = gpmc_h5.load(recovery_path)
    s = run.success()
    rel = run.trials["rel_error"]
    np.testing.assert_array_equal(s["k"], (rel < 0.1).sum(axis=1))
    t = run.success_table("m", "k", ensemble="gaussian")
    assert t["rate"].shape == (2, 3)
    assert t["rate"][1, 0] == 1.0 and t["rate"][0, 2] == 0.0  # m=40,k=2 / m=20,k=8


def test_zero_one_success_recomputed_without_summary(recovery_path):
    stored = gpmc_h5.load(recovery_path).success()
    with h5py.File(recovery_path, "a") as f:
        del f["summary/success"]
    s = gpmc_h5.load(recovery_path).success()
    for key in ("rate", "ci_low", "ci_high", "n", "k"):
        np.testing.assert_allclose(s[key], stored[key], atol=1e-12)


def test_nan_value_of_a_done_trial_is_not_counted(tiny_path):
    """gpmc counts the done trials that have a value; a NaN is neither hit nor miss."""
    with h5py.File(tiny_path, "a") as f:
        f["trials/eps_hat"][0, 9] = np.nan
    s = gpmc_h5.load(tiny_path).success("eps_hat", 0.3)
    assert s["n"][0] == 9 and s["k"][0] == 5
