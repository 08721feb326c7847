"""gpmc_h5: loading, shapes, reshaping to the axes, selecting points, format checks."""
import h5py
import numpy as np
import pytest

import fixtures
import gpmc_h5


def test_load_shapes_and_metadata(wdc_path):
    run = gpmc_h5.load(wdc_path)
    assert run.experiment == "wdc" and run.attrs["format_version"] == 1
    assert run.attrs["complete"] == 1 and run.attrs["shard"] == "0/1"
    assert list(run.axes) == ["k", "n_over_k"]
    assert run.axes["k"].tolist() == fixtures.WDC_K
    assert run.axes["n_over_k"].tolist() == fixtures.WDC_RATIOS
    assert run.shape == (3, 5) and run.P == 15 and run.T == 10
    assert set(run.grid) == {"k", "n_over_k", "n"}
    assert all(a.shape == (15,) for a in run.grid.values())
    assert all(a.shape == (15, 10) for a in run.trials.values())
    assert "done" not in run.trials and run.done.dtype == bool and run.done.all()
    assert run.timing["trial_seconds"].shape == (15, 10)
    assert run.summary["eps_hat"]["q50"].shape == (15,)
    assert run.summary["eps_hat_le"]["rate"].shape == (15, 3)
    assert run.params["ensemble"] == "gaussian" and run.params["depth"] == 2
    assert run.params["eps"].tolist() == fixtures.WDC_EPS
    assert run.threshold_fields()["eps_hat"].tolist() == fixtures.WDC_EPS


def test_grid_array_follows_c_order(wdc_path):
    run = gpmc_h5.load(wdc_path)
    n = run.grid_array("n")
    assert n.shape == (3, 5)
    # point p = i * 5 + j has k = K[i], n_over_k = R[j], n = R[j] * K[i]
    expect = np.outer(fixtures.WDC_K, fixtures.WDC_RATIOS).round().astype(int)
    assert (n == expect).all()
    q50 = run.grid_array("eps_hat", "q50")
    np.testing.assert_allclose(q50, fixtures.WDC_C * expect ** -0.5, rtol=1e-12)
    assert run.grid_array("eps_hat").shape == (3, 5, 10)  # the trials
    assert run.grid_array("eps_hat_le", "rate").shape == (3, 5, 3)
    assert run.grid_array("eps_hat", "mean").shape == (3, 5)
    with pytest.raises(KeyError, match="nope"):
        run.grid_array("nope", "q50")


def test_select_keeps_a_grid(wdc_path):
    run = gpmc_h5.load(wdc_path)
    sub = run.select(k=10)
    assert list(sub.axes) == ["n_over_k"] and sub.shape == (5,) and sub.P == 5
    assert (sub.grid["k"] == 10).all()
    assert sub.grid["n"].tolist() == [20, 40, 80, 160, 320]
    assert sub.trials["eps_hat"].shape == (5, 10) and sub.done.shape == (5, 10)
    assert sub.summary["eps_hat_le"]["rate"].shape == (5, 3)
    assert sub.summary["eps_hat_le"]["threshold"].tolist() == fixtures.WDC_EPS
    one = run.select(k=20, n_over_k=4.0)
    assert one.P == 1 and one.grid["n"].tolist() == [80]


def test_select_derived_parameter_gives_flat_points(wdc_path):
    run = gpmc_h5.load(wdc_path)
    sub = run.select(n=40)
    assert sub.axes == {} and sub.shape == (3,)
    assert sorted(sub.grid["k"].tolist()) == [5, 10, 20]
    with pytest.raises(KeyError, match="no point has k=7"):
        run.select(k=7)
    with pytest.raises(KeyError, match="not a grid parameter"):
        run.select(depth=2)


def test_choice_axis_is_decoded(recovery_path):
    run = gpmc_h5.load(recovery_path)
    assert run.axes["ensemble"].tolist() == fixtures.REC_ENSEMBLES
    assert run.shape == (2, 2, 3)
    sub = run.select(ensemble="truncated")
    assert list(sub.axes) == ["m", "k"] and sub.P == 6
    assert run.point_values(0) == {"ensemble": "gaussian", "m": 20, "k": 2}


def test_done_mask_and_nan(tiny_path):
    run = gpmc_h5.load(tiny_path)
    assert run.done.sum(axis=1).tolist() == [10, 10, 10, 8]
    assert np.isnan(run.trials["eps_hat"][3, 8:]).all()
    assert run.summary["eps_hat"]["n"].tolist() == [10, 10, 10, 8]


def test_stats_fall_back_to_trials(tiny_path):
    with h5py.File(tiny_path, "a") as f:
        del f["summary/eps_hat"]
    run = gpmc_h5.load(tiny_path)
    st = run.stats("eps_hat")
    x = run.trials["eps_hat"][3, :8]
    assert st["n"][3] == 8
    assert st["q50"][3] == pytest.approx(np.median(x))
    assert st["std"][3] == pytest.approx(np.std(x, ddof=1))


def test_point_arrays(wdc_path):
    run = gpmc_h5.load(wdc_path)
    assert run.point_array(0, "witness").shape == (10, 5)
    with h5py.File(wdc_path) as f:
        assert f["points/0"].attrs["k"] == 5


@pytest.mark.parametrize("attr,value,message", [
    ("format", "other", "not a gpmc result file"),
    ("format_version", 2, "format_version 2"),
])
def test_format_is_checked(tmp_path, attr, value, message):
    path = fixtures.write_tiny(tmp_path / "x.h5")
    with h5py.File(path, "a") as f:
        f.attrs[attr] = value
    with pytest.raises(gpmc_h5.FormatError, match=message):
        gpmc_h5.load(path)


def test_not_hdf5(tmp_path):
    path = tmp_path / "x.h5"
    path.write_text("hello")
    with pytest.raises(gpmc_h5.FormatError, match="cannot open as an HDF5 file"):
        gpmc_h5.load(path)


def test_inconsistent_shape_is_reported(tmp_path):
    path = fixtures.write_tiny(tmp_path / "x.h5")
    with h5py.File(path, "a") as f:
        f["grid"].attrs["shape"] = np.array([2, 3])
    with pytest.raises(gpmc_h5.FormatError, match="6 points"):
        gpmc_h5.load(path)


def test_fixed_length_strings_and_c_integer_types(tmp_path):
    """C writers often use fixed-length strings and unsigned sizes; read them the same."""
    path = fixtures.write_tiny(tmp_path / "x.h5")
    with h5py.File(path, "a") as f:
        for name in ("format", "experiment", "shard"):
            f.attrs[name] = np.bytes_(f.attrs[name])
        f.attrs["format_version"] = np.int32(1)
        f.attrs["complete"] = np.uint8(1)
        f["grid"].attrs["axes"] = np.array([b"k", b"n_over_k"], dtype="S16")
        f["grid"].attrs["shape"] = np.array([2, 2], np.uint64)
    run = gpmc_h5.load(path)
    assert run.experiment == "wdc" and run.attrs["shard"] == "0/1"
    assert list(run.axes) == ["k", "n_over_k"] and run.shape == (2, 2)
    assert run.success("eps_hat", 0.1)["k"].tolist() == [3, 10, 0, 4]


def test_fixed_length_choice_values(recovery_path):
    """The layout documents fixed-length byte strings for choice parameters."""
    with h5py.File(recovery_path, "a") as f:
        values = f["grid/ensemble"].asstr()[()]
        del f["grid/ensemble"]
        f["grid/ensemble"] = np.array([v.encode() for v in values], dtype="S9")
    run = gpmc_h5.load(recovery_path)
    assert run.axes["ensemble"].tolist() == fixtures.REC_ENSEMBLES
    assert run.select(ensemble="truncated").P == 6


def test_run_without_grid(tmp_path):
    """No [grid] section: one point; gpmc writes axes = [] and shape = ""."""
    path = fixtures.write_tiny(tmp_path / "x.h5")
    with h5py.File(path, "r") as f:
        eps = f["trials/eps_hat"][:1]
    path = fixtures.write_run(tmp_path / "one.h5", "wdc", [("k", [2])], {"eps_hat": eps})
    with h5py.File(path, "a") as f:
        del f["grid/k"]
        f["grid"].attrs["axes"] = np.array([], dtype=h5py.string_dtype())
        f["grid"].attrs["shape"] = ""
    run = gpmc_h5.load(path)
    assert run.P == 1 and run.shape == () and run.axes == {}
    assert run.grid_array("eps_hat", "q50").shape == ()
