"""The edge sweep's checker: the outcome of every case and the invariants of its file.

    check_file.py CASEDIR OUTDIR        verdicts of the cases run by tests/cli/test_edges.sh
    check_file.py CASEDIR FILE.h5...    the file invariants alone (any gpmc output)

CASEDIR is what tests/edges/edge_specs wrote (cases.tsv, params.tsv, fields.tsv); OUTDIR
holds, per case id, <id>.res ("ranks<TAB>rc<TAB>info_rc<TAB>seconds"), <id>.err (gpmc's
stderr) and <id>.h5. Prints "ok - <exp> <case>" or "not ok - <exp> <case>: why" per case,
then the proportion of cases that ran; exits 1 if anything failed.

Outcome: exit 0 or 2, never a signal, a timeout or another code; exit 2 only with a
"gpmc: error:" message, no file left behind, and only for a spec the library's parser
refuses too (and exit 0 only for one it accepts). Memory-error reports on stderr fail
a case whatever its exit code. `gpmc info FILE` must exit 0.

Invariants of a file, all from the experiment's tables (nothing about one experiment):
  - root attrs: format gpmc, the experiment, trials, complete = 1; /trials/done all 1;
  - every scalar field (P, T), every done trial finite, unless the field's doc says
    "NaN if a = b = v" and the point has a = b = v (a doc mentioning NaN without such a
    condition allows NaN anywhere; a note says so); GPMC_FIELD_SUCCESS fields are 0/1;
  - /timing: trial_seconds finite >= 0, rank in [0, mpi_ranks);
  - array fields: /points/<p>/<f> present with shape (T, dims of `shape` at the point)
    exactly when their `when` parameter is true; each done trial's row finite (or all NaN
    where a NaN condition of the experiment holds); rows of unit norm where the doc says
    "unit" (the table has no flag for it);
  - /summary/<f>: n = done trials with a value; min <= q05 <= q50 <= q95 <= max,
    mean in [min, max], std >= 0 (NaN allowed for n = 1), min/max the trials' own; all NaN
    iff n = 0;
  - /summary/<f>_le (threshold lists) and /summary/<f> of every success field: thresholds =
    the list, k = the trials' own count, rate = k/n in [0, 1], 0 <= ci_low <= rate <= ci_high <= 1;
  - grid: P = prod(shape); no axis repeats a value; a ratio axis a_over_b gives
    a = round(ratio * b) for an integer a; points whose parameters are all equal (a ratio
    that rounds to the same value) hold identical trials.
"""
import math
import multiprocessing
import os
import re
import sys

import h5py
import numpy as np

GPMC_FIELD_TIMING = 1
GPMC_FIELD_SUCCESS = 2
MEMORY_ERRORS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "double free",
                 "free(): ", "malloc(): ", "corrupted", "Segmentation fault",
                 "stack smashing", "munmap_chunk")


def read_tsv(path, ncol):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                cells = line.split("\t")
                rows.append(cells + [""] * (ncol - len(cells)))
    return rows


class Tables:
    def __init__(self, casedir):
        self.params, self.fields = {}, {}
        for r in read_tsv(os.path.join(casedir, "params.tsv"), 8):
            self.params.setdefault(r[0], []).append(
                dict(name=r[1], type=r[2], default=r[3], min=float(r[4]), max=float(r[5]),
                     flags=int(r[6]), choices=r[7]))
        for r in read_tsv(os.path.join(casedir, "fields.tsv"), 8):
            self.fields.setdefault(r[0], []).append(
                dict(name=r[1], shape=r[2], when=r[3], threshold=r[4], flags=int(r[5]),
                     units=r[6], doc=r[7]))


NAN_COND = re.compile(r"NaN (?:if|when) ([A-Za-z_][\w.\s=]*)")


def nan_rule(doc, pnames):
    """None: no NaN allowed; "any": allowed anywhere; (names, value): allowed where every
    named parameter equals value."""
    if "NaN" not in doc and "nan" not in doc:
        return None
    m = NAN_COND.search(doc)
    if m:
        parts = [p.strip() for p in m.group(1).split("=")]
        try:
            value = float(parts[-1])
        except ValueError:
            value = None
        names = parts[:-1]
        if value is not None and names and all(n in pnames for n in names):
            return (names, value)
    return "any"


def sval(v):
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    return v


def as_float(v):
    v = sval(v)
    if isinstance(v, str):
        return {"true": 1.0, "false": 0.0}.get(v, math.nan)
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


class FileCheck:
    def __init__(self, tables, path, exp_name=None, ranks=None):
        self.t, self.path, self.exp, self.ranks = tables, path, exp_name, ranks
        self.errors, self.notes = [], []

    def err(self, msg):
        if len(self.errors) < 8:
            self.errors.append(msg)

    def value(self, name, p):
        """Parameter `name` at point p (grid first, then the fixed /params)."""
        if name in self.grid:
            return self.grid[name][p]
        if name in self.fixed:
            return self.fixed[name]
        return None

    def nan_ok(self, rule, p):
        if rule is None:
            return False
        if rule == "any":
            return True
        names, value = rule
        return all(as_float(self.value(n, p)) == value for n in names)

    def run(self):
        try:
            with h5py.File(self.path, "r") as f:
                self.check(f)
        except Exception as e:  # an unreadable file is a finding, not a checker crash
            self.err("cannot read the file: %s: %s" % (type(e).__name__, e))
        return self.errors

    def check(self, f):
        a = f.attrs
        if sval(a.get("format")) != "gpmc":
            self.err("root attr format is %r" % sval(a.get("format")))
        exp = sval(a.get("experiment"))
        if self.exp is None:
            self.exp = exp
        elif exp != self.exp:
            self.err("experiment %r, expected %r" % (exp, self.exp))
        if self.exp not in self.t.params:
            self.err("experiment %r is not in the tables" % self.exp)
            return
        params, fields = self.t.params[self.exp], self.t.fields[self.exp]
        pnames = {d["name"] for d in params}
        T = int(a.get("trials", -1))
        if int(a.get("complete", 0)) != 1:
            self.err("root attr complete = %r after exit 0" % a.get("complete"))

        # the grid
        g = f["grid"]
        shape = np.atleast_1d(np.asarray(g.attrs.get("shape", []))).astype(np.int64) \
            if not isinstance(sval(g.attrs.get("shape", "")), str) else np.zeros(0, np.int64)
        axes = [sval(x) for x in np.atleast_1d(g.attrs.get("axes", []))]
        P = int(np.prod(shape)) if len(shape) else 1
        self.grid = {k: g[k][:] for k in g}
        for k, v in self.grid.items():
            if v.shape != (P,):
                self.err("/grid/%s has shape %s, expected (%d,)" % (k, v.shape, P))
        self.fixed = {k: sval(v) for k, v in f["params"].attrs.items()}
        if len(axes) != len(shape):
            self.err("grid attrs: %d axes, shape %s" % (len(axes), list(shape)))
        for ai, ax in enumerate(axes):
            if ax not in self.grid:
                self.err("axis %s has no /grid/%s" % (ax, ax))
                continue
            idx = np.unravel_index(np.arange(P), shape)[ai]
            vals = [self.grid[ax][np.flatnonzero(idx == j)[0]] for j in range(shape[ai])]
            if len(set(np.asarray(vals).tolist())) != len(vals):
                self.err("axis %s repeats a value: %s" % (ax, vals))
            m = re.fullmatch(r"(\w+)_over_(\w+)", ax)
            if m and m.group(1) in pnames:
                num, den = m.group(1), m.group(2)
                d = next(x for x in params if x["name"] == num)
                dv = np.array([as_float(self.value(den, p)) for p in range(P)])
                want = self.grid[ax] * dv
                if d["type"] == "int":
                    want = np.floor(want + 0.5)  # C round(): half away from zero (positive)
                got = np.array([as_float(self.value(num, p)) for p in range(P)])
                if not np.allclose(got, want, rtol=1e-12, atol=0):
                    self.err("ratio axis %s: %s = %s, expected %s" % (ax, num, got, want))

        done = f["trials/done"][:]
        if done.shape != (P, T):
            self.err("/trials/done has shape %s, expected (%d, %d)" % (done.shape, P, T))
            return
        if not done.all():
            self.err("%d of %d trials not done after exit 0" % (done.size - done.sum(), done.size))
        done = done.astype(bool)

        rules = {fd["name"]: nan_rule(fd["doc"], pnames) for fd in fields}
        for name, r in rules.items():
            if r == "any":
                self.notes.append("field %s: the doc mentions NaN without a condition "
                                  "'NaN if a = b = v': NaN allowed anywhere" % name)
        conds = [r for r in rules.values() if r is not None]

        # scalars, their summaries and intervals
        trials = {}
        for fd in fields:
            if fd["shape"]:
                continue
            grp = "timing" if fd["flags"] & GPMC_FIELD_TIMING else "trials"
            key = "%s/%s" % (grp, fd["name"])
            if key not in f:
                self.err("/%s is missing" % key)
                continue
            v = f[key][:]
            if v.shape != (P, T):
                self.err("/%s has shape %s, expected (%d, %d)" % (key, v.shape, P, T))
                continue
            trials[fd["name"]] = v
            rule = rules[fd["name"]]
            for p in range(P):
                bad = done[p] & ~np.isfinite(v[p])
                if rule is not None and self.nan_ok(rule, p):
                    bad &= ~np.isnan(v[p])
                if bad.any():
                    t = int(np.flatnonzero(bad)[0])
                    self.err("/%s[%d, %d] = %r (%d of %d done trials not finite) at %s" % (
                        key, p, t, v[p, t], int(bad.sum()), int(done[p].sum()),
                        self.point_text(p, params)))
                    break
            if fd["flags"] & GPMC_FIELD_SUCCESS:
                ok = np.isnan(v) | (v == 0) | (v == 1)
                if not ok[done].all():
                    self.err("/%s: a success flag other than 0/1" % key)
            if grp == "trials":
                self.check_summary(f, fd, v, done, P)
                if fd["threshold"]:
                    self.check_le(f, fd, v, done, P)
                if fd["flags"] & GPMC_FIELD_SUCCESS:
                    self.check_rate(f, "summary/" + fd["name"], v > 0.5, v, done, P)

        ts = f["timing/trial_seconds"][:] if "timing/trial_seconds" in f else None
        if ts is None or ts.shape != (P, T):
            self.err("/timing/trial_seconds missing or misshaped")
        elif not (np.isfinite(ts[done]).all() and (ts[done] >= 0).all()):
            self.err("/timing/trial_seconds not finite >= 0 for a done trial")
        nr = int(f["code"].attrs.get("mpi_ranks", -1))
        if self.ranks is not None and nr != self.ranks:
            self.err("/code mpi_ranks = %d, ran on %d" % (nr, self.ranks))
        rk = f["timing/rank"][:] if "timing/rank" in f else None
        if rk is None or rk.shape != (P, T):
            self.err("/timing/rank missing or misshaped")
        elif not ((rk[done] >= 0) & (rk[done] < nr)).all():
            self.err("/timing/rank outside [0, %d): %s" % (nr, sorted(set(rk[done].tolist()))))

        # arrays
        arrays = {}
        for fd in fields:
            if not fd["shape"]:
                continue
            for p in range(P):
                key = "points/%d/%s" % (p, fd["name"])
                on = True
                if fd["when"]:
                    on = as_float(self.value(fd["when"], p)) == 1.0
                if not on:
                    if key in f and f[key].size:
                        self.err("/%s present with %s false" % (key, fd["when"]))
                    continue
                dims = []
                for tok in fd["shape"].split(","):
                    tok = tok.strip()
                    if tok.startswith("#"):  # the length of a list parameter
                        dims.append(int(np.atleast_1d(self.value(tok[1:], p)).size))
                    else:
                        dims.append(int(tok) if tok.isdigit() else int(as_float(self.value(tok, p))))
                if key not in f:
                    self.err("/%s is missing" % key)
                    continue
                x = f[key][:]
                if x.shape != tuple([T] + dims):
                    self.err("/%s has shape %s, expected %s" % (key, x.shape, tuple([T] + dims)))
                    continue
                arrays[(p, fd["name"])] = x
                rows = x.reshape(T, -1)
                for t in np.flatnonzero(done[p]):
                    r = rows[t]
                    if np.isfinite(r).all():
                        if re.search(r"\bunit\b", fd["doc"]) and r.size:
                            nrm = float(np.sqrt(np.dot(r, r)))
                            if abs(nrm - 1) > 1e-9:
                                self.err("/%s[%d] has norm %.17g, its doc says unit" % (key, t, nrm))
                                break
                    elif np.isnan(r).all() and any(self.nan_ok(c, p) for c in conds):
                        pass
                    else:
                        self.err("/%s[%d]: %d of %d values not finite at %s" % (
                            key, t, int((~np.isfinite(r)).sum()), r.size,
                            self.point_text(p, params)))
                        break

        # points with equal parameters: identical trials
        groups = {}
        for p in range(P):
            sig = tuple(str(self.value(d["name"], p)) for d in params)
            groups.setdefault(sig, []).append(p)
        for ps in groups.values():
            for q in ps[1:]:
                for name, v in trials.items():
                    fd = next(x for x in fields if x["name"] == name)
                    if fd["flags"] & GPMC_FIELD_TIMING:
                        continue
                    if not np.array_equal(v[ps[0]], v[q], equal_nan=True):
                        self.err("points %d and %d have equal parameters but different %s"
                                 % (ps[0], q, name))
                        break
                for (p, name), x in arrays.items():
                    if p == ps[0] and (q, name) in arrays and \
                            not np.array_equal(x, arrays[(q, name)], equal_nan=True):
                        self.err("points %d and %d have equal parameters but different %s"
                                 % (ps[0], q, name))

    def point_text(self, p, params):
        return "point %d (%s)" % (p, ", ".join(
            "%s=%s" % (d["name"], self.value(d["name"], p)) for d in params
            if d["name"] in self.grid or d["type"] not in ("real_list", "int_list")))

    def check_summary(self, f, fd, v, done, P):
        base = "summary/%s" % fd["name"]
        need = ["mean", "std", "min", "q05", "q50", "q95", "max", "n"]
        if any("%s/%s" % (base, s) not in f for s in need):
            self.err("/%s lacks one of %s" % (base, need))
            return
        s = {k: f["%s/%s" % (base, k)][:] for k in need}
        for p in range(P):
            vals = v[p][done[p] & ~np.isnan(v[p])]
            n = len(vals)
            if s["n"][p] != n:
                self.err("/%s/n[%d] = %r, the trials have %d values" % (base, p, s["n"][p], n))
                return
            st = [s[k][p] for k in need[:7]]
            if n == 0:
                if not all(math.isnan(x) for x in st):
                    self.err("/%s[%d]: n = 0 but statistics %s" % (base, p, st))
                return
            mean, std, lo, q05, q50, q95, hi = st
            tol = 1e-12 * max(1.0, abs(lo), abs(hi))
            if n == 1 and math.isnan(std):
                std = 0.0  # the sample std of one value: NaN by design (n - 1 = 0)
                st[1] = std
            if not all(np.isfinite(st)):
                self.err("/%s[%d]: non-finite statistics %s with n = %d" % (base, p, st, n))
            elif not (lo <= q05 <= q50 <= q95 <= hi and lo - tol <= mean <= hi + tol and std >= 0):
                self.err("/%s[%d]: statistics out of order %s" % (base, p, st))
            elif lo != vals.min() or hi != vals.max():
                self.err("/%s[%d]: min/max %r/%r, trials %r/%r" % (base, p, lo, hi,
                                                                  vals.min(), vals.max()))

    def check_le(self, f, fd, v, done, P):
        base = "summary/%s_le" % fd["name"]
        if base not in f:
            self.err("/%s is missing" % base)
            return
        thr = np.atleast_1d(np.asarray(self.fixed.get(fd["threshold"], []), dtype=float))
        got = f[base + "/threshold"][:]
        if got.shape != thr.shape or not np.array_equal(got, thr):
            self.err("/%s/threshold = %s, the list %s is %s" % (base, got.tolist(),
                                                               fd["threshold"], thr.tolist()))
            return
        hit = v[:, :, None] <= thr[None, None, :]
        self.check_rate(f, base, hit, v, done, P)

    def check_rate(self, f, base, hit, v, done, P):
        """hit (P, T[, E]): the trials' own outcomes."""
        need = ["rate", "ci_low", "ci_high", "k", "n"]
        if any("%s/%s" % (base, s) not in f for s in need):
            self.err("/%s lacks one of %s" % (base, need))
            return
        r = {k: f["%s/%s" % (base, k)][:] for k in need}
        valid = done & ~np.isnan(v)
        n = valid.sum(axis=1)
        if hit.ndim == 3:
            k = (hit & valid[:, :, None]).sum(axis=1)
            nn = n[:, None] * np.ones_like(k)
        else:
            k = (hit & valid).sum(axis=1)
            nn = n
        if r["rate"].shape != k.shape:
            self.err("/%s/rate has shape %s, expected %s" % (base, r["rate"].shape, k.shape))
            return
        if not np.array_equal(r["n"], n):
            self.err("/%s/n = %s, the trials have %s" % (base, r["n"].tolist(), n.tolist()))
        if not np.array_equal(r["k"], k):
            self.err("/%s/k = %s, the trials give %s" % (base, r["k"].tolist(), k.tolist()))
            return
        rate, lo, hi = r["rate"], r["ci_low"], r["ci_high"]
        with np.errstate(invalid="ignore", divide="ignore"):
            want = np.where(nn > 0, k / np.maximum(nn, 1), np.nan)
        has = nn > 0
        if not np.allclose(rate[has], want[has], rtol=1e-15, atol=0):
            self.err("/%s/rate != k/n" % base)
        if (~np.isnan(rate[~has])).any():
            self.err("/%s/rate is not NaN where n = 0" % base)
        for idx in zip(*np.nonzero(has)):
            a, b, c = lo[idx], rate[idx], hi[idx]
            if not (np.isfinite([a, b, c]).all() and 0 <= a <= b <= c <= 1):
                self.err("/%s at %s: ci_low %r, rate %r, ci_high %r (k = %d, n = %d): "
                         "not 0 <= ci_low <= rate <= ci_high <= 1"
                         % (base, tuple(int(i) for i in idx), a, b, c, k[idx], nn[idx]))
                return


def tail(path, n=2):
    try:
        with open(path, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
    except OSError:
        return ""
    s = " | ".join(lines[-n:])
    return s[:300]


def memory_errors(path):
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    for m in MEMORY_ERRORS:
        i = text.find(m)
        if i >= 0:
            line = text[text.rfind("\n", 0, i) + 1:].split("\n", 1)[0]
            return line.strip()[:200]
    return None


def verdict(tables, casedir, outdir, case):
    cid, exp, name, tags, expect = case
    res = os.path.join(outdir, cid + ".res")
    with open(res) as f:
        ranks, rc, irc, secs = (f.read().split() + ["-"] * 4)[:4]
    ranks, rc = int(ranks), int(rc)
    h5 = os.path.join(outdir, cid + ".h5")
    err = os.path.join(outdir, cid + ".err")
    why = []
    mem = memory_errors(err)
    if mem:
        why.append("memory error reported: %s" % mem)
    limit = float(os.environ.get("GPMC_EDGES_TIMEOUT", "20"))
    if rc == 124 or (rc == 137 and secs != "-" and float(secs) >= limit):
        why.append("timed out after %s s (hang): %s" % (secs, tail(err)))
    elif rc > 128:
        why.append("killed by signal %d: %s" % (rc - 128, tail(err)))
    elif rc not in (0, 2):
        why.append("exit %d: %s" % (rc, tail(err)))
    elif rc == 2:
        if "gpmc: error:" not in open(err, errors="replace").read():
            why.append("exit 2 without a 'gpmc: error:' message: %s" % tail(err))
        if os.path.exists(h5) or os.path.exists(h5 + ".tmp"):
            why.append("exit 2 but a file was left behind")
        if expect == "run":
            why.append("exit 2 for a spec the parser accepts: %s" % tail(err, 1))
    else:
        if expect == "refuse":
            why.append("exit 0 for a spec the parser refuses")
        if irc != "0":
            why.append("gpmc info exit %s: %s" % (irc, tail(os.path.join(outdir, cid + ".info"))))
        if os.path.exists(h5):
            fc = FileCheck(tables, h5, exp, ranks)
            why += fc.run()
        else:
            why.append("exit 0 but no file")
    label = "%s %s%s" % (exp, name, " [np=%d]" % ranks if ranks > 1 and "ranks" not in name else "")
    return label, rc, why, secs


_JOB = None


def _verdict_job(case):
    return verdict(*_JOB, case)


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    tables = Tables(argv[1])
    if argv[2].endswith(".h5"):
        nbad = 0
        for path in argv[2:]:
            fc = FileCheck(tables, path)
            errs = fc.run()
            for n in fc.notes:
                print("# note: %s" % n)
            if errs:
                nbad += 1
                print("not ok - %s: %s" % (path, "; ".join(errs)))
            else:
                print("ok - %s" % path)
        return 1 if nbad else 0
    outdir = argv[2]
    cases = read_tsv(os.path.join(argv[1], "cases.tsv"), 5)
    nbad = nrun = nref = ntot = 0
    notes = set()
    todo = [c for c in cases if os.path.exists(os.path.join(outdir, c[0] + ".res"))]
    # One checker per core (the files are independent), reported in case order.
    global _JOB
    _JOB = (tables, argv[1], outdir)
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        verdicts = pool.imap(_verdict_job, todo, chunksize=8)
        for case, (label, rc, why, secs) in zip(todo, verdicts):
            ntot += 1
            nrun += rc == 0
            nref += rc == 2
            if why:
                nbad += 1
                print("not ok - %s: %s  [%s s]" % (label, "; ".join(why), secs))
                with open(os.path.join(argv[1], case[0] + ".ini")) as f:
                    print("#   spec of case %s:" % case[0])
                    for line in f:
                        print("#     " + line.rstrip("\n"))
            else:
                print("ok - %s" % label)
    if tables.fields:
        for exp, fields in tables.fields.items():
            pn = {d["name"] for d in tables.params[exp]}
            for fd in fields:
                r = nan_rule(fd["doc"], pn)
                if r == "any":
                    notes.add("%s.%s: doc mentions NaN without a parsable condition: NaN "
                              "allowed anywhere" % (exp, fd["name"]))
                elif r is not None:
                    notes.add("%s.%s: NaN allowed only where %s = %g (from its doc)"
                              % (exp, fd["name"], " = ".join(r[0]), r[1]))
                if fd["shape"] and re.search(r"\bunit\b", fd["doc"]):
                    notes.add("%s.%s: rows checked for unit norm (its doc says unit)"
                              % (exp, fd["name"]))
    for n in sorted(notes):
        print("# note: %s" % n)
    label = "edges: %d of %d cases ran (exit 0), %d refused (exit 2)" % (nrun, ntot, nref)
    if ntot == 0 or 2 * nrun < ntot:
        print("not ok - %s: fewer than half ran" % label)
        nbad += 1
    else:
        print("ok - %s" % label)
    return 1 if nbad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
