"""sched_model.py: the discrete-event model of rank 0's dispatch (old and new protocol)."""
import math
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import sched_model as sm

SCHED_PY = Path(__file__).resolve().parents[2] / "analysis" / "sched_model.py"


def run(workload, ranks, protocol, tasks_per_rank=30, seed=1, **sim):
    wl = sm.synthetic(workload) if isinstance(workload, str) else workload
    return sm.simulate(sm.tasks_for(wl, ranks, tasks_per_rank, seed), ranks, protocol, **sim)


# -- the order and the depth rule ------------------------------------------------------------
def test_new_order_probes_turns_then_largest_first():
    tasks = sm._Tasks([[1.0] * 3, [2.0] * 3, [3.0] * 3])
    order = sm.NewOrder(tasks)
    take = lambda n: [tasks.point[order.next()] for _ in range(n)]  # noqa: E731
    assert take(3) == [0, 1, 2]          # one probe of every point, grid order
    assert take(2) == [0, 1]             # unknown costs: in turns
    order.learn(0, 1.0)
    assert take(1) == [2]                # point 0 is known: the unknown ones go first
    order.learn(2, 3.0)
    order.learn(1, 2.0)
    assert take(3) == [2, 1, 0]          # every cost known: largest first
    assert order.next() is None and order.left() == 0


def test_new_order_ties_in_grid_order_and_points_together():
    tasks = sm._Tasks([[1.0] * 4] * 3)
    order = sm.NewOrder(tasks)
    got = [tasks.point[order.next()] for _ in range(3)]
    for p in range(3):
        order.learn(p, 1.0)
    got += [tasks.point[order.next()] for _ in range(9)]
    assert got == [0, 1, 2] + [0] * 3 + [1] * 3 + [2] * 3


def test_old_order_probes_then_point_major():
    tasks = sm._Tasks([[1.0] * 3, [2.0] * 2])
    assert [tasks.point[k] for k in sm.grid_order(tasks)] == [0, 1, 0, 0, 1]


def test_depth_rule():
    # 1 s tasks are >= 100 L (L = 5 ms): nothing queued behind them; 0.05 s ones: one
    # queued (it alone reaches L); 1e-4 s: ~L / 1e-4 = 50 queued; 1e-5 s: the cap of 64.
    assert run("equal", 16, "new").max_held == 1
    assert run("growing", 64, "new").max_held == 2
    assert 50 <= sm.simulate([[1e-4] * 400] * 3, 4, "new").max_held <= 52
    assert sm.simulate([[1e-5] * 400] * 3, 4, "new").max_held == sm.MAX_HELD
    assert run("growing", 64, "old").max_held == sm.OLD_PREFETCH


def test_one_rank():
    r = sm.simulate([[1.0, 2.0], [3.0]], 1, "new")
    assert (r.efficiency, r.makespan, r.served, r.rank0_tasks) == (1.0, 6.0, 0, 3)


def test_every_task_once_and_work_conserved():
    for proto in sm.PROTOCOLS:
        d = sm.tasks_for(sm.synthetic("heavy"), 64, 10, seed=3)
        r = sm.simulate(d, 64, proto, latency=1e-3)
        assert r.work == pytest.approx(sum(x.sum() for x in d))
        # every task that rank 0 did not compute itself came back to it as a result
        assert r.served == sum(len(x) for x in d) - r.rank0_tasks
        assert 0 < r.efficiency <= 1 and 0 <= r.tail_loss <= 1 - r.efficiency + 1e-12


# -- the workloads ---------------------------------------------------------------------------
def test_equal_durations_new_protocol_near_one():
    # M tasks of 1 s per rank on N ranks, total N M s. Every rank computes or waits for its
    # next task, at most delta = poll + N * message_cost per task (one poll interval, then
    # the queue ahead of it at rank 0); rank 0 never waits. So the last task goes out by
    # M (1 + delta) and ends 1 + delta later: makespan <= (M + 1)(1 + delta), efficiency
    # >= M / ((M + 1)(1 + delta)) -- the M / (M + 1) of a perfect balance but for one task,
    # less the waits. (A perfect balance gives ceil(total / N) = M s: efficiency 1.)
    N, M, c, poll = 16, 30, 1e-6, 5e-3
    r = run("equal", N, "new", M, message_cost=c, poll=poll)
    assert r.work == pytest.approx(N * M)
    delta = poll + N * c
    assert r.efficiency >= M / ((M + 1) * (1 + delta))
    assert r.efficiency > 0.99                       # in fact: it balances
    assert r.makespan == pytest.approx(M, rel=0.01)


def test_growing_cost_old_protocol_well_below_new():
    # growing: 12 points of 0.05 .. 5 s (x1.52 per point, fixed), 1,024 ranks.
    #
    # new: probes, then the unknown points in turns, so by the time the 5 s point's probe
    # is back (5 s into a ~36 s run) the large points have gone out first; then largest
    # first, so the last tasks out are the 0.05 s ones and the tail costs ~0.05 / 36 s.
    # Only waits for rank 0 (< poll = 5 ms per result, hidden by the one queued task of
    # the small points) remain: new >= 0.90 with room to spare (the model: 0.99).
    #
    # old: every worker holds 4 tasks until the list is empty, so at that moment the last
    # 4 (N - 1) tasks of the list -- 4 / M of all tasks, the largest points' -- are locked
    # in the workers' queues and cannot be rebalanced; the makespan is the fullest queue.
    # At M = 10 tasks per rank that is 40% of the tasks -- points 7..11, ~87% of the work,
    # against a fair share of 12.1 s per rank -- and point 11's 853 tasks of 5 s go one per
    # result to whoever reports next: when the list empties (t = 4.5 s) the queues hold
    # 10.5 s on average, but one holds three 5 s tasks (18.3 s), 850 hold one and 172
    # none, so the run ends at 4.5 + 18.3 = 22.8 s: old = 12.1 / 22.8 = 0.53 <= 0.85
    # (instrumented model run; a single queue of 5 + 5 + 3.3 + 2.2 s would already cap
    # old at 12.1 / 15.5 = 0.78). At M = 30 only 13% are locked (point 11 and part of
    # point 10): every queue then holds two or three 5 s tasks (511 / 512 workers), the
    # finish times spread over one 5 s task on a ~38 s makespan, old = 0.945: there old
    # is below new by that tail, not below 0.85 (the lead's 0.75 at 128 ranks does not
    # follow from these rules at 30 tasks per rank; it does at ~5-10).
    N = 1024
    new10, old10 = run("growing", N, "new", 10), run("growing", N, "old", 10)
    assert new10.efficiency >= 0.90
    assert old10.efficiency <= 0.85
    new30, old30 = run("growing", N, "new", 30), run("growing", N, "old", 30)
    assert new30.efficiency >= 0.90
    assert old30.efficiency <= 0.97 and new30.efficiency - old30.efficiency >= 0.03
    assert old30.tail_loss > 0.03 > new30.tail_loss
    # the tail alone, with an ideal dispatcher: grid order loses, largest first does not
    d = sm.tasks_for(sm.synthetic("growing"), N, 30)
    assert sm.ideal_tail_loss(d, N, largest_first=False) > 0.03
    assert sm.ideal_tail_loss(d, N, largest_first=True) < 0.01


def test_heavy_tail_grows_with_tasks_per_rank():
    # lognormal(0, 1.5): mean e^1.125 = 3.1 s, but the longest of ~4,000 draws is ~e^5 s
    # (~150 s or more) against a rank's share of 30 x 3.1 = 92 s: the run waits for its
    # longest tasks whatever the order (all points have the same mean), and efficiency
    # <= share / longest. More tasks per rank grow the share faster than the longest.
    N = 128
    for seed in (1, 2, 3):
        effs = {}
        for m in (30, 300):
            d = sm.tasks_for(sm.synthetic("heavy"), N, m, seed)
            r = sm.simulate(d, N, "new")
            share, longest = r.work / N, max(x.max() for x in d)
            assert r.efficiency <= share / max(share, longest) + 1e-9
            effs[m] = r.efficiency
        assert effs[30] < 0.5
        assert effs[300] > effs[30] + 0.2


def test_saturation():
    # 1 ms of rank 0 per result, 1 s tasks: rank 0 serves at most 1,000 results/s, the
    # workers produce N - 1 per second: N_sat = 1 s / 1e-3 s = 1,000 ranks. At 4,096 ranks
    # the workers wait for rank 0, efficiency ~ N_sat / N = 0.24 and rank 0 is always busy;
    # well below N_sat (512 ranks) the run is fine.
    assert sm.saturation_ranks(1.0, 1e-3) == pytest.approx(1000)
    r = run("equal", 4096, "new", message_cost=1e-3)
    assert r.rank0_busy > 0.95
    assert r.efficiency == pytest.approx(1000 / 4096, abs=0.03)
    assert r.peak_rate <= 1000 * 1.01
    assert run("equal", 4096, "old", message_cost=1e-3).efficiency < 0.3
    low = run("equal", 512, "new", message_cost=1e-3)
    assert low.efficiency > 0.9 and 0.4 < low.rank0_busy < 0.6


# -- a result file ---------------------------------------------------------------------------
TIMES = np.array([[0.5, 0.5, 0.5, np.nan],      # 3 finished, 0.5 s each
                  [2.0, 2.0, 9.0, 2.0],         # trial 2 has a time but is not done
                  [1.0, 3.0, np.nan, np.nan]])  # 1 s or 3 s
DONE = np.array([[1, 1, 1, 0], [1, 1, 0, 1], [1, 1, 0, 0]], np.uint8)


@pytest.fixture
def timing_path(tmp_path):
    path = tmp_path / "timing.h5"
    with h5py.File(path, "w") as f:
        f.attrs.update(format="gpmc", format_version=1)
        f["timing/trial_seconds"] = TIMES
        f["trials/done"] = DONE
    return path


def test_file_bootstrap(timing_path):
    assert [list(v) for v in sm.read_timings(timing_path)] == [[0.5] * 3, [2.0] * 3,
                                                               [1.0, 3.0]]
    wl = sm.file_workload(timing_path)
    assert wl.P == 3 and wl.mean_seconds == pytest.approx((0.5 + 2.0 + 2.0) / 3)
    N = 8
    d = sm.tasks_for(wl, N, 30, seed=5)
    T = round(30 * N / 3)
    assert [len(x) for x in d] == [T] * 3
    assert set(d[0]) == {0.5} and set(d[1]) == {2.0} and set(d[2]) <= {1.0, 3.0}
    assert set(d[2]) == {1.0, 3.0}            # 80 draws: both values appear
    n3 = int((d[2] == 3.0).sum())
    expected = T * (0.5 + 2.0) + 3.0 * n3 + 1.0 * (T - n3)
    for proto in sm.PROTOCOLS:
        assert sm.simulate(d, N, proto).work == pytest.approx(expected)
    # the same seed draws the same tasks
    assert all((a == b).all() for a, b in zip(d, sm.tasks_for(wl, N, 30, seed=5)))


def test_file_point_without_finished_trial_is_left_out(tmp_path, capsys):
    path = tmp_path / "partial.h5"
    with h5py.File(path, "w") as f:
        f["timing/trial_seconds"] = np.array([[1.0, 1.0], [np.nan, np.nan]])
        f["trials/done"] = np.array([[1, 1], [0, 0]], np.uint8)
    assert sm.file_workload(path).P == 1
    assert "1 of 2 points have no finished trial" in capsys.readouterr().err


def test_cli_on_a_file(timing_path):
    r = subprocess.run([sys.executable, str(SCHED_PY), str(timing_path), "--ranks", "8,32",
                        "--table-ranks", "16", "--table-tasks", "5,30"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for n in (8, 32):
        for proto in ("old", "new"):
            assert f"{n} ranks, protocol {proto}: efficiency " in out
    assert "rank 0 saturates at N_sat = mean task / message cost = 1.5 s / 1e-06 s = " \
           "1,500,000 ranks" in out
    assert "tail alone" in out and "results/s at peak 1 s window" in out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].split(" | ")[-2:] == ["90% needs", "95% needs |"]
    assert len(table) == 3  # header, old, new


def test_cli_synthetic_and_bad_input(tmp_path):
    r = subprocess.run([sys.executable, str(SCHED_PY), "--workload", "equal", "--ranks", "16",
                        "--no-table", "--message-cost", "1e-3"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "workload equal" in r.stdout and "= 1,000 ranks" in r.stdout
    assert "tasks per rank needed" not in r.stdout
    bad = tmp_path / "not.h5"
    bad.write_text("no")
    r = subprocess.run([sys.executable, str(SCHED_PY), str(bad)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and "cannot open as an HDF5 file" in r.stderr


def test_tasks_needed_table():
    effs, need = sm.tasks_needed(sm.synthetic("growing"), "new", ranks=64,
                                 candidates=(2, 10, 30, 50))
    assert need[0.90] is not None and need[0.95] is not None
    assert effs[need[0.95]] >= 0.95
    assert 50 not in effs or need[0.95] == 50   # the search stops once both are reached
    assert math.isclose(sm.trials_per_point(12, 1024, 30), 2560)
    assert sm.trials_per_point(1000, 4, 1) == 1
