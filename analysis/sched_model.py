#!/usr/bin/env python3
"""A discrete-event model of gpmc's scheduler: predicted parallel efficiency at many ranks.

Rank 0 hands out (point, trial) tasks to N - 1 workers and computes trials itself. The
model replays two dispatch protocols on N ranks with task durations drawn from a real
run's /timing/trial_seconds (a bootstrap from each point's finished trials) or from a
synthetic workload, and prints per protocol and rank count the predicted efficiency
(total task seconds / (N x makespan)), rank 0's share of time spent serving results and
its peak result rate, the part of the loss due to the tail (ranks run dry once every task
is out), where rank 0 saturates (N_sat = mean task seconds / message cost), and how many
tasks per rank a sweep needs for 90% / 95% efficiency.

  old  the scheduler before the cost-aware order (gpmc 8f0ad83): one probe of every
       point, then point-major grid order; 4 tasks per worker at the start, 1 more per
       result; rank 0 computes trials whenever no result is waiting and serves nothing
       while its trial runs.
  new  src/driver/dispatch.c + sched.c: probes, then unknown-cost points in turns, then
       largest expected cost first; a worker holds its task plus ~L seconds of expected
       work (L = max(1 ms, poll)), nothing behind a task >= 100 L or of unknown cost,
       at most 64; rank 0 serves first and, during its own trial, every --poll seconds.

Rank 0 is one server: each result (receive, store, choose and send the next tasks) costs
--message-cost seconds of its time, and so does sending a worker its first tasks; results
queue FIFO while it is busy. Messages take --latency seconds each way.

    sched_model.py                                  the three synthetic workloads
    sched_model.py results/run.h5 --ranks 256,2048 --tasks-per-rank 50
    sched_model.py --workload growing --message-cost 1e-3 --no-table
"""
import argparse
import bisect
import heapq
import math
import sys
from collections import deque, namedtuple

try:
    import numpy as np
except ImportError as e:  # e.g. a python3 other than Debian's
    raise SystemExit(f"sched_model needs numpy ({e}): run it with /usr/bin/python3") from None

PROTOCOLS = ("old", "new")
WORKLOADS = ("equal", "growing", "heavy")
OLD_PREFETCH = 4   # old protocol: tasks per worker at the start
MAX_HELD = 64      # new protocol: tasks a worker holds at most (sched.c PREFETCH_MAX)
LONG_TASK = 100    # new protocol: nothing queued behind a task >= LONG_TASK * L
STALL_FLOOR = 1e-3  # new protocol: L = max(STALL_FLOOR, poll) (sched.c's m.stall floor)
TABLE_TASKS = (5, 10, 20, 30, 50, 100, 200)
TARGETS = (0.90, 0.95)


# -- workloads ---------------------------------------------------------------------------
class Workload(namedtuple("Workload", "name P mean_seconds draw describe")):
    """P points; draw(rng, T) -> [P arrays of T durations]; mean_seconds = expected
    duration of a task (every point gets the same number of trials)."""


def synthetic(name):
    """equal: 12 points of 1 s trials; growing: 12 points log-spaced 0.05 .. 5 s (fixed per
    point, x100 along the grid); heavy: lognormal(0, 1.5) per trial, median 1 s, 12 points."""
    P = 12
    if name == "equal":
        return Workload(name, P, 1.0, lambda rng, T: [np.ones(T) for _ in range(P)],
                        f"{P} points, every trial 1 s")
    if name == "growing":
        cost = np.geomspace(0.05, 5.0, P)
        return Workload(name, P, float(cost.mean()),
                        lambda rng, T: [np.full(T, c) for c in cost],
                        f"{P} points, trials of 0.05 .. 5 s log-spaced along the grid")
    if name == "heavy":
        sigma = 1.5
        return Workload(name, P, math.exp(sigma ** 2 / 2),
                        lambda rng, T: list(rng.lognormal(0.0, sigma, size=(P, T))),
                        f"{P} points, lognormal(0, {sigma}) trials (median 1 s)")
    raise ValueError(f"unknown workload {name!r} (have {', '.join(WORKLOADS)})")


def read_timings(path):
    """[per point: the wall seconds of its finished trials] from a gpmc file:
    /timing/trial_seconds (P, T), NaN or /trials/done == 0 where not done."""
    try:
        import h5py
    except ImportError as e:
        raise SystemExit(f"sched_model needs h5py to read a file ({e}): "
                         "run it with /usr/bin/python3") from None
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: cannot open as an HDF5 file ({e})") from None
    with f:
        if "timing/trial_seconds" not in f:
            raise ValueError(f"{path}: no /timing/trial_seconds (not a gpmc result file?)")
        secs = np.atleast_2d(np.asarray(f["timing/trial_seconds"][()], float))
        done = (np.asarray(f["trials/done"][()]).reshape(secs.shape) != 0
                if "trials/done" in f else np.ones(secs.shape, bool))
    ok = done & np.isfinite(secs)
    return [secs[p][ok[p]] for p in range(secs.shape[0])]


def file_workload(path):
    """A workload from a result file: each point's trials are drawn (bootstrap, with
    replacement) from its finished trials. Points without a finished trial are left out."""
    values = read_timings(path)
    kept = [v for v in values if len(v)]
    if not kept:
        raise ValueError(f"{path}: no finished trial with a time")
    if len(kept) < len(values):
        print(f"sched_model: {path}: {len(values) - len(kept)} of {len(values)} points "
              "have no finished trial; modelled without them", file=sys.stderr)
    allv = np.concatenate(kept)
    return Workload(str(path), len(kept), float(np.mean([v.mean() for v in kept])),
                    lambda rng, T: [rng.choice(v, size=T, replace=True) for v in kept],
                    f"{len(kept)} points, {len(allv)} finished trials of "
                    f"{allv.min():.3g} .. {allv.max():.3g} s (median {np.median(allv):.3g} s)")


def trials_per_point(P, ranks, tasks_per_rank):
    """T' = max(1, round(tasks_per_rank * ranks / P)) (halves round up)."""
    return max(1, int(math.floor(tasks_per_rank * ranks / P + 0.5)))


def tasks_for(workload, ranks, tasks_per_rank=30, seed=1):
    """[per point: T' durations] for a model of `ranks` ranks."""
    rng = np.random.default_rng(seed)
    T = trials_per_point(workload.P, ranks, tasks_per_rank)
    return [np.asarray(d, float) for d in workload.draw(rng, T)]


# -- task orders ---------------------------------------------------------------------------
class _Tasks:
    """The tasks, flattened point-major: task k is point[k]'s, of duration dur[k]."""

    def __init__(self, durations):
        self.P = len(durations)
        self.start = [0]
        for d in durations:
            self.start.append(self.start[-1] + len(d))
        self.n = self.start[-1]
        self.dur = [float(x) for d in durations for x in d]
        self.point = [p for p, d in enumerate(durations) for _ in range(len(d))]


def grid_order(tasks):
    """Task ids: one probe of every point in grid order, then the rest point-major."""
    probes = [tasks.start[p] for p in range(tasks.P) if tasks.start[p] < tasks.start[p + 1]]
    rest = [k for p in range(tasks.P) for k in range(tasks.start[p] + 1, tasks.start[p + 1])]
    return probes + rest


class OldOrder:
    """The old protocol's list, built once."""

    def __init__(self, tasks):
        self.order, self.i = grid_order(tasks), 0

    def left(self):
        return len(self.order) - self.i

    def next(self):
        if self.i == len(self.order):
            return None
        self.i += 1
        return self.order[self.i - 1]

    def learn(self, p, seconds):
        pass

    def expected(self, p):
        return math.inf


class NewOrder:
    """dispatch.c's order, re-evaluated at every dispatch: one probe of every point in grid
    order; then, while some point with trials left has no finished trial (unknown cost),
    those points in turns, a trial each; then largest expected cost (mean of the point's
    finished trials) first, ties in grid order."""

    def __init__(self, tasks):
        self.tasks = tasks
        P = tasks.P
        self.nxt = list(tasks.start[:-1])   # per point: its next task
        self.remaining = [tasks.start[p + 1] - tasks.start[p] for p in range(P)]
        self.nleft = tasks.n
        self.probe = 0
        self.sums, self.counts, self.version = [0.0] * P, [0] * P, [0] * P
        self.unknown = [p for p in range(P) if self.remaining[p] > 0]  # sorted
        self.turn = -1          # the unknown point served last
        self.known = []         # heap of (-mean, p, version); lazily invalidated

    def left(self):
        return self.nleft

    def expected(self, p):
        """Expected seconds of a trial of p; inf while unknown."""
        return self.sums[p] / self.counts[p] if self.counts[p] else math.inf

    def _take(self, p):
        k = self.nxt[p]
        self.nxt[p] += 1
        self.remaining[p] -= 1
        self.nleft -= 1
        if self.remaining[p] == 0 and self.counts[p] == 0:
            self._drop_unknown(p)
        return k

    def _drop_unknown(self, p):
        i = bisect.bisect_left(self.unknown, p)
        if i < len(self.unknown) and self.unknown[i] == p:
            del self.unknown[i]

    def next(self):
        if self.nleft == 0:
            return None
        while self.probe < self.tasks.P:
            p = self.probe
            self.probe += 1
            if self.remaining[p] > 0 and self.nxt[p] == self.tasks.start[p] \
                    and self.counts[p] == 0:
                return self._take(p)
        if self.unknown:
            i = bisect.bisect_right(self.unknown, self.turn)
            p = self.unknown[i if i < len(self.unknown) else 0]
            self.turn = p
            return self._take(p)
        while self.known:
            _, p, ver = self.known[0]
            if ver == self.version[p] and self.remaining[p] > 0:
                k = self._take(p)
                if self.remaining[p] == 0:
                    heapq.heappop(self.known)
                return k
            heapq.heappop(self.known)
        raise AssertionError("tasks left but none to send")

    def learn(self, p, seconds):
        """A trial of p finished (its result is stored): update p's expected cost."""
        first = self.counts[p] == 0
        self.sums[p] += seconds
        self.counts[p] += 1
        self.version[p] += 1
        if first:
            self._drop_unknown(p)
        if self.remaining[p] > 0:
            heapq.heappush(self.known, (-self.sums[p] / self.counts[p], p, self.version[p]))


# -- the simulation ----------------------------------------------------------------------
Result = namedtuple("Result", "protocol ranks efficiency makespan work tail_loss "
                              "rank0_busy peak_rate served rank0_tasks max_held stored")

_FINISH, _ARRIVE, _TASKS, _SERVED, _POLL, _TRIAL_END = range(6)


def simulate(durations, ranks, protocol="new", message_cost=1e-6, latency=0.0, poll=5e-3):
    """Replay `protocol` on `ranks` ranks (rank 0 + ranks - 1 workers) for the tasks
    `durations` ([per point: durations in seconds]); returns a Result.

    efficiency = sum of durations / (ranks x makespan), makespan = when the last task
    finishes; tail_loss = the rank-seconds idle after the last task went out / (ranks x
    makespan); rank0_busy = rank 0's time serving (results and first sends) within the
    makespan / makespan; peak_rate = most results served in any 1 s window (per second);
    served = results served (the workers' tasks); stored = when rank 0 has served the
    last result (later than the makespan when rank 0 is saturated)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r} (have {', '.join(PROTOCOLS)})")
    if ranks < 1:
        raise ValueError("ranks must be >= 1")
    tasks = _Tasks(durations)
    if tasks.n == 0:
        raise ValueError("no tasks")
    new = protocol == "new"
    order = NewOrder(tasks) if new else OldOrder(tasks)
    dur, point = tasks.dur, tasks.point
    L = max(STALL_FLOOR, poll)
    events, seq = [], 0

    def push(t, kind, a=0, b=None):
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, a, b))

    # workers (1 .. ranks - 1): tasks arrived and not started; computing or not
    local = [deque() for _ in range(ranks)]
    busy = [False] * ranks
    last_finish = [0.0] * ranks
    # rank 0's view: per worker, (task, expected seconds when sent), oldest first
    held = [deque() for _ in range(ranks)]
    max_held = 0
    # rank 0
    queue = deque()            # (worker, task or None for "send the first tasks")
    r0 = {"state": "idle", "task": None, "prog": 0.0, "resumed": 0.0, "ver": 0,
          "polled": 0, "poll_pending": False, "paused": False}
    serve_ends = []            # when rank 0 was done with each result or first send
    result_ends = []           # ... with each result
    rank0_tasks = 0
    t_empty = 0.0              # when the last task went out
    initial = {}
    if not new:                # round by round: every worker's 1st, then every 2nd, ...
        for r in range(OLD_PREFETCH):
            for w in range(1, ranks):
                k = order.next()
                if k is None:
                    break
                initial.setdefault(w, []).append(k)

    def send(w, ks, t):
        nonlocal max_held, t_empty
        for k in ks:
            held[w].append((k, order.expected(point[k])))
        max_held = max(max_held, len(held[w]))
        if order.left() == 0 and t > t_empty:
            t_empty = t
        if latency > 0:
            push(t + latency, _TASKS, w, ks)
        else:
            deliver(w, ks, t)

    def deliver(w, ks, t):
        local[w].extend(ks)
        if not busy[w]:
            start_next(w, t)

    def start_next(w, t):
        if local[w]:
            k = local[w].popleft()
            busy[w] = True
            push(t + dur[k], _FINISH, w, k)
        else:
            busy[w] = False

    def top_up(w):
        """Tasks for worker w now (its reported task already removed from held[w])."""
        out = []
        if not new:
            if w in initial:
                return initial.pop(w)
            k = order.next()
            return [] if k is None else [k]
        h = held[w]
        queued = sum(e for _, e in list(h)[1:])
        while len(h) + len(out) < MAX_HELD:
            if h or out:
                first = h[0][1] if h else order.expected(point[out[0]])
                if not first < LONG_TASK * L or queued >= L:
                    break
            k = order.next()
            if k is None:
                break
            if h or out:
                queued += order.expected(point[k])
            out.append(k)
        return out

    def kick(t):
        """Rank 0 is free at t: serve the next result, else compute a task, else idle."""
        nonlocal rank0_tasks, t_empty
        if queue:
            r0["state"] = "serve"
            push(t + message_cost, _SERVED)
        elif r0["paused"]:
            r0["paused"] = False
            start_trial_segment(t)
        elif order.left() > 0:
            k = order.next()
            if order.left() == 0:
                t_empty = max(t_empty, t)
            rank0_tasks += 1
            r0.update(state="compute", task=k, prog=0.0, polled=0)
            start_trial_segment(t)
        else:
            r0["state"] = "idle"

    def start_trial_segment(t):
        r0["state"] = "compute"
        r0["resumed"] = t
        r0["ver"] += 1
        r0["poll_pending"] = False
        push(t + dur[r0["task"]] - r0["prog"], _TRIAL_END, r0["ver"])
        if new and queue:
            schedule_poll(t)

    def schedule_poll(t):
        """A result is waiting during rank 0's trial: serve it at the trial's next poll,
        every `poll` seconds of the trial's computing (the first after one poll)."""
        prog = r0["prog"] + (t - r0["resumed"])
        i = max(r0["polled"] + 1, math.ceil(prog / poll - 1e-9))
        if i * poll < dur[r0["task"]]:
            r0["poll_pending"] = True
            push(r0["resumed"] + (i * poll - r0["prog"]), _POLL, r0["ver"], i)

    def arrive(w, k, t):
        queue.append((w, k))
        if r0["state"] == "idle":
            kick(t)
        elif r0["state"] == "compute" and new and not r0["poll_pending"]:
            schedule_poll(t)

    for w in range(1, ranks):
        queue.append((w, None))
    kick(0.0)
    t = 0.0
    while events:
        t, _, kind, a, b = heapq.heappop(events)
        if kind == _FINISH:
            last_finish[a] = t
            if latency > 0:
                push(t + latency, _ARRIVE, a, b)
            else:
                arrive(a, b, t)
            start_next(a, t)
        elif kind == _ARRIVE:
            arrive(a, b, t)
        elif kind == _TASKS:
            deliver(a, b, t)
        elif kind == _SERVED:
            w, k = queue.popleft()
            serve_ends.append(t)
            if k is not None:
                result_ends.append(t)
                done, _ = held[w].popleft()
                assert done == k, "results come back in the order sent"
                order.learn(point[k], dur[k])
            ks = top_up(w)
            if ks:
                send(w, ks, t)
            kick(t)
        elif kind == _POLL:
            if a == r0["ver"] and r0["state"] == "compute":
                r0["prog"], r0["polled"] = b * poll, b
                r0["ver"] += 1     # the trial's end moves
                r0["paused"] = True
                kick(t)
        elif kind == _TRIAL_END:
            if a == r0["ver"] and r0["state"] == "compute":
                last_finish[0] = t
                order.learn(point[r0["task"]], dur[r0["task"]])
                r0.update(task=None, prog=0.0, poll_pending=False)
                r0["state"] = "idle"
                kick(t)
    assert order.left() == 0 and not queue
    makespan = max(last_finish)
    work = sum(dur)
    tail = sum(makespan - max(x, t_empty) for x in last_finish)
    # rank 0's serving within [0, makespan] (a saturated rank 0 is still storing results
    # after the last task finished: `stored` is when it is done)
    ends = np.asarray(serve_ends)
    busy = float(np.clip(makespan - (ends - message_cost), 0.0, message_cost).sum())
    return Result(protocol, ranks, work / (ranks * makespan), makespan, work,
                  tail / (ranks * makespan), busy / makespan, peak_rate(result_ends),
                  len(result_ends), rank0_tasks, max_held,
                  max(makespan, float(ends.max()) if len(ends) else 0.0))


def peak_rate(times, window=1.0):
    """The most events in any window of `window` seconds, per second."""
    if not times:
        return 0.0
    t = np.sort(np.asarray(times))
    counts = np.searchsorted(t, t + window, side="left") - np.arange(len(t))
    return float(counts.max()) / window


def ideal_tail_loss(durations, ranks, largest_first):
    """1 - efficiency of an ideal dispatcher (no overheads, every task to the first free
    rank, costs known): what the tail alone costs. largest_first: points by mean duration,
    largest first (ties in grid order); else grid order (probes, then point-major)."""
    tasks = _Tasks(durations)
    if largest_first:
        means = [float(np.mean(d)) if len(d) else 0.0 for d in durations]
        pts = sorted(range(tasks.P), key=lambda p: (-means[p], p))
        ids = [k for p in pts for k in range(tasks.start[p], tasks.start[p + 1])]
    else:
        ids = grid_order(tasks)
    free = [0.0] * ranks
    for k in ids:
        heapq.heapreplace(free, free[0] + tasks.dur[k])
    return 1.0 - sum(tasks.dur) / (ranks * max(free))


def saturation_ranks(mean_seconds, message_cost):
    """N_sat: the ranks at which results (N / mean task seconds per second) keep rank 0
    busy all the time (1 / message_cost per second)."""
    return math.inf if message_cost <= 0 else mean_seconds / message_cost


def tasks_needed(workload, protocol, ranks=1024, candidates=TABLE_TASKS, targets=TARGETS,
                 seed=1, **sim):
    """({tasks per rank: efficiency}, {target: least tasks per rank reaching it or None}),
    searching `candidates` in increasing order; stops once every target is reached."""
    effs, need = {}, {t: None for t in targets}
    for m in sorted(candidates):
        r = simulate(tasks_for(workload, ranks, m, seed), ranks, protocol, **sim)
        effs[m] = r.efficiency
        for tg in targets:
            if need[tg] is None and r.efficiency >= tg:
                need[tg] = m
        if all(v is not None for v in need.values()):
            break
    return effs, need


# -- printing ------------------------------------------------------------------------------
def _count(x):
    return "inf" if math.isinf(x) else f"{x:,.0f}"


def result_line(r):
    return (f"{r.ranks} ranks, protocol {r.protocol}: efficiency {r.efficiency:.3f}, "
            f"makespan {r.makespan:.4g} s, tail loss {100 * r.tail_loss:.1f}%, "
            f"rank 0 busy {100 * r.rank0_busy:.1f}% "
            f"({_count(r.peak_rate)} results/s at peak 1 s window)"
            + (f", last result stored at {r.stored:.4g} s" if r.stored > 1.01 * r.makespan
               else ""))


def report(workload, ranks_list, protocols, tasks_per_rank, seed, sim, out=sys.stdout):
    """The lines for one workload; returns {(protocol, ranks): Result}."""
    c = sim["message_cost"]
    nsat = saturation_ranks(workload.mean_seconds, c)
    print(f"workload {workload.name}: {workload.describe}; {tasks_per_rank:g} tasks per "
          "rank", file=out)
    print(f"  rank 0 saturates at N_sat = mean task / message cost = "
          f"{workload.mean_seconds:.3g} s / {c:g} s = {_count(nsat)} ranks", file=out)
    results = {}
    for n in ranks_list:
        d = tasks_for(workload, n, tasks_per_rank, seed)
        ntask = sum(len(x) for x in d)
        longest = max(float(x.max()) for x in d if len(x))
        share = sum(float(x.sum()) for x in d) / n
        print(f"  {n} ranks, {ntask:,} tasks: tail alone (ideal dispatch, no overheads) "
              f"costs {100 * ideal_tail_loss(d, n, False):.1f}% in grid order, "
              f"{100 * ideal_tail_loss(d, n, True):.1f}% largest first; longest task "
              f"{longest:.3g} s vs a rank's share {share:.3g} s: efficiency <= "
              f"{share / max(share, longest):.3f}", file=out)
        for proto in protocols:
            r = simulate(d, n, proto, **sim)
            results[proto, n] = r
            print("  " + result_line(r), file=out)
    return results


def table_lines(workloads, protocols, ranks, candidates, seed, sim):
    """A Markdown table: efficiency per tasks per rank, and the least for 90% / 95%."""
    cands = sorted(candidates)
    head = (["workload", "protocol"] + [str(m) for m in cands]
            + [f"{100 * t:.0f}% needs" for t in TARGETS])
    lines = [f"tasks per rank needed for 90% / 95% efficiency at {ranks} ranks "
             "(efficiency per tasks per rank; '-': not simulated, target reached earlier)",
             "| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for wl in workloads:
        for proto in protocols:
            effs, need = tasks_needed(wl, proto, ranks, cands, TARGETS, seed, **sim)
            row = [wl.name, proto] + [f"{effs[m]:.3f}" if m in effs else "-" for m in cands]
            row += [str(need[t]) if need[t] is not None else f"> {cands[-1]}"
                    for t in TARGETS]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def _list(conv):
    def parse(s):
        try:
            return [conv(x) for x in s.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{s!r}: expected a comma-separated list")
    return parse


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("files", nargs="*", metavar="FILE.h5",
                    help="gpmc result files whose /timing/trial_seconds are the workload")
    ap.add_argument("--workload", action="append", choices=WORKLOADS,
                    help="synthetic workload (repeatable; default without a file: all three)")
    ap.add_argument("--ranks", type=_list(int), default=[128, 512, 1024, 4096],
                    help="rank counts N (default 128,512,1024,4096)")
    ap.add_argument("--protocol", type=_list(str), default=list(PROTOCOLS),
                    help="protocols to model (default old,new)")
    ap.add_argument("--tasks-per-rank", type=float, default=30,
                    help="tasks per rank: every point gets max(1, round(this * N / P)) "
                    "trials (default 30)")
    ap.add_argument("--message-cost", type=float, default=1e-6,
                    help="rank 0's seconds per result served (default 1e-6)")
    ap.add_argument("--latency", type=float, default=0.0,
                    help="network latency, seconds each way (default 0)")
    ap.add_argument("--poll", type=float, default=5e-3,
                    help="new protocol: rank 0's trial polls every POLL s (default 5e-3)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the draws (default 1)")
    ap.add_argument("--table-ranks", type=int, default=1024,
                    help="ranks of the tasks-per-rank table (default 1024)")
    ap.add_argument("--table-tasks", type=_list(int), default=list(TABLE_TASKS),
                    help="tasks per rank tried for the table (default 5,10,20,30,50,100,200)")
    ap.add_argument("--no-table", action="store_true", help="skip the tasks-per-rank table")
    args = ap.parse_args(argv)
    for p in args.protocol:
        if p not in PROTOCOLS:
            ap.error(f"--protocol {p}: choose from {', '.join(PROTOCOLS)}")
    if any(n < 1 for n in args.ranks) or args.table_ranks < 1:
        ap.error("rank counts must be >= 1")
    if args.message_cost < 0 or args.latency < 0 or args.poll <= 0 or args.tasks_per_rank <= 0:
        ap.error("--message-cost and --latency must be >= 0, --poll and --tasks-per-rank > 0")
    try:
        workloads = [file_workload(f) for f in args.files]
    except ValueError as e:
        raise SystemExit(f"{ap.prog}: {e}")
    names = args.workload or ([] if args.files else list(WORKLOADS))
    workloads += [synthetic(n) for n in names]
    sim = dict(message_cost=args.message_cost, latency=args.latency, poll=args.poll)
    print(f"gpmc scheduler model: message cost {args.message_cost:g} s, latency "
          f"{args.latency:g} s, poll {args.poll:g} s, seed {args.seed}")
    for wl in workloads:
        report(wl, args.ranks, args.protocol, args.tasks_per_rank, args.seed, sim)
    if not args.no_table:
        for line in table_lines(workloads, args.protocol, args.table_ranks,
                                args.table_tasks, args.seed, sim):
            print(line)


if __name__ == "__main__":
    main()
