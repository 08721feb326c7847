"""Read gpmc HDF5 result files (format_version 1) with h5py and numpy alone.

    run = load("results/demo.h5")
    run.axes                      {'k': array([5, 10, 20]), 'n_over_k': array([...])}
    run.grid["n"]                 (P,) value of n at every point (derived params too)
    run.trials["eps_hat"]         (P, T), NaN where the trial was not run; run.done (P, T)
    run.summary["eps_hat"]["q50"] (P,)
    run.grid_array("eps_hat", "q50")                 summary reshaped to the axis shape
    run.select(k=10)                                 the sub-run at k = 10
    run.success("eps_hat", 0.1)                      P(eps_hat <= 0.1) per point, with CI
    run.success_table("k", "n_over_k", "eps_hat", 0.1)

Success probabilities and Clopper-Pearson 95% intervals come from /summary when the file
stores them. Where it does not -- no summary group, no ci_low/ci_high, a NaN interval at a
point with n > 0, or a group that gpmc flagged with an `error` attribute -- they are
recomputed: from the stored counts k, n when present, else from /trials. A point with no
finished trial (n = 0) has NaN rate, ci_low and ci_high, whatever an older file stored.
run.summary_errors lists the groups gpmc flagged.
"""
import warnings

try:
    import h5py
    import numpy as np
    import scipy  # noqa: F401  (scipy.stats itself is imported when an interval is computed)
except ImportError as e:  # e.g. a python3 other than Debian's
    raise SystemExit(f"gpmc analysis needs numpy, h5py and scipy ({e}): run it with "
                     "/usr/bin/python3 (Debian's python3-h5py, python3-scipy) or install them "
                     "for this interpreter") from None

FORMAT, FORMAT_VERSION = "gpmc", 1
LEVEL = 0.95
_STATS = ("mean", "std", "min", "q05", "q50", "q95", "max", "n")
_RATE_KEYS = ("rate", "ci_low", "ci_high", "n", "k")


class FormatError(ValueError):
    """The file is not a gpmc result file this module can read."""


def _py(v):
    """HDF5 attribute value -> str / int / float / list of str / numeric ndarray."""
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode()
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "SOU":
            return [_py(x) for x in v.ravel()]
        return v
    if isinstance(v, np.generic):
        return v.item()
    return v


def _attrs(obj):
    return {k: _py(v) for k, v in obj.attrs.items()}


def _read(ds):
    """Dataset -> ndarray; strings (fixed-length or variable) become a numpy str array."""
    a = ds[()]
    if a.dtype.kind == "S":
        return np.char.decode(a, "utf-8")
    if a.dtype.kind == "O":
        return np.asarray(ds.asstr()[()], dtype=str)
    return a


def _tree(group):
    """Group -> nested dict of ndarrays."""
    return {k: _tree(v) if isinstance(v, h5py.Group) else _read(v) for k, v in group.items()}


def load(path):
    """Read a gpmc result file (everything except the per-point arrays under /points)."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise FormatError(f"{path}: cannot open as an HDF5 file ({e})") from None
    with f:
        attrs = _attrs(f)
        if attrs.get("format") != FORMAT:
            raise FormatError(f"{path}: not a gpmc result file (root attribute format="
                              f"{attrs.get('format')!r}, expected {FORMAT!r})")
        if attrs.get("format_version") != FORMAT_VERSION:
            raise FormatError(f"{path}: gpmc format_version {attrs.get('format_version')!r}; "
                              f"this reader understands version {FORMAT_VERSION} only")
        for g in ("grid", "trials"):
            if g not in f:
                raise FormatError(f"{path}: gpmc file without /{g}")
        gattrs = _attrs(f["grid"])
        names = list(gattrs.get("axes", []))
        shape = gattrs.get("shape", [])  # "" when the spec has no grid
        shape = () if isinstance(shape, str) else tuple(int(s) for s in np.atleast_1d(shape))
        grid = _tree(f["grid"])  # axes in spec order first, then derived parameters
        grid = {g: grid[g] for g in names if g in grid} | {g: grid[g] for g in grid}
        trials = _tree(f["trials"])
        done = trials.pop("done", None)
        summary, summary_attrs = {}, {}
        if "summary" in f:
            summary = _tree(f["summary"])
            summary_attrs = {k: _attrs(g) for k, g in f["summary"].items()
                             if isinstance(g, h5py.Group)}
        return Run(path=path, attrs=attrs, axis_names=names, shape=shape,
                   grid=grid, trials=trials, done=done,
                   timing=_tree(f["timing"]) if "timing" in f else {},
                   summary=summary,
                   params=_attrs(f["params"]) if "params" in f else {},
                   code=_attrs(f["code"]) if "code" in f else {},
                   summary_attrs=summary_attrs)


def clopper_pearson(k, n, level=LEVEL):
    """Exact two-sided (Clopper-Pearson) interval for k successes in n trials.

    With a = 1 - level, the limits solve P(X >= k | lo) = a/2 and P(X <= k | hi) = a/2 for
    X ~ Binomial(n, p), i.e. they are beta quantiles:
        lo = B^-1(a/2; k, n-k+1)      (0 for k = 0)
        hi = B^-1(1 - a/2; k+1, n-k)  (1 for k = n), taken as the inverse survival
                                       function at a/2 so that 1 - a/2 is never rounded,
    as gpmc's C code (src/numerics/stats.c) and R's binom.test compute them.

    k and n broadcast against each other: scalars give a pair of floats, arrays a pair of
    arrays, so a whole (P, E) table costs one vectorised call. A point with n = 0 (no
    finished trial) or a NaN count gives (NaN, NaN). Counts that are not integers with
    0 <= k <= n raise ValueError."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"clopper_pearson: level {level!r} is not in (0, 1)")
    scalar = np.ndim(k) == 0 and np.ndim(n) == 0
    k, n = np.broadcast_arrays(np.asarray(k, float), np.asarray(n, float))
    known = np.isfinite(k) & np.isfinite(n)
    bad = known & ((k < 0) | (k > n) | (k != np.floor(k)) | (n != np.floor(n)))
    if bad.any():
        raise ValueError(f"clopper_pearson: need integer counts 0 <= k <= n, got "
                         f"k={k[bad].flat[0]:g}, n={n[bad].flat[0]:g}")
    from scipy.stats import beta  # 0.2 s to import: only when an interval is computed

    a2 = (1.0 - level) / 2.0
    lo, hi = np.full(k.shape, np.nan), np.full(k.shape, np.nan)
    some = known & (n > 0)
    inner = some & (k > 0)
    lo[some & (k == 0)] = 0.0
    lo[inner] = beta.ppf(a2, k[inner], n[inner] - k[inner] + 1)
    inner = some & (k < n)
    hi[some & (k == n)] = 1.0
    hi[inner] = beta.isf(a2, k[inner] + 1, n[inner] - k[inner])
    if scalar:
        return float(lo), float(hi)
    return lo, hi


def _fill_intervals(group, level=LEVEL, flagged=False):
    """A stored {rate, ci_low, ci_high, k, n} group made whole from its own counts.

    Points with n = 0 get NaN rate and interval (older files stored [0, 1] there); points
    with n > 0 whose rate or interval is missing or NaN get them from k and n, as do all
    points of a group gpmc flagged with an `error` attribute. Returns a new dict, or the
    group unchanged when its counts are missing or do not fit (success() then counts the
    trials)."""
    if not ("k" in group and "n" in group):
        return group
    k, n = np.asarray(group["k"], float), np.asarray(group["n"], float)
    if n.ndim < k.ndim:  # /summary/<field>_le: n is (P,), k is (P, E)
        n = n.reshape(n.shape + (1,) * (k.ndim - n.ndim))
    try:
        n = np.broadcast_to(n, k.shape)
    except ValueError:
        return group
    out = dict(group)
    cols = {}
    for name in ("rate", "ci_low", "ci_high"):
        a = np.asarray(group.get(name, np.full(k.shape, np.nan)), float)
        if a.shape != k.shape:
            return group
        cols[name] = a.copy()
    usable = np.isfinite(k) & np.isfinite(n) & (k >= 0) & (k <= n) & (n > 0)
    missing = ~np.isfinite(cols["rate"]) | ~np.isfinite(cols["ci_low"]) \
        | ~np.isfinite(cols["ci_high"])
    redo = usable & (missing | flagged)
    if redo.any():
        cols["ci_low"][redo], cols["ci_high"][redo] = clopper_pearson(k[redo], n[redo], level)
        cols["rate"][redo] = k[redo] / n[redo]
    for a in cols.values():
        a[n == 0] = np.nan
    out.update(cols)
    return out


def _is_rate_group(group):
    """A /summary group of success counts: success, <field>_le."""
    return (isinstance(group, dict) and "k" in group and "n" in group
            and any(s in group for s in ("rate", "ci_low", "ci_high", "threshold")))


def _complete(d):
    """A {rate, ci_low, ci_high, n, k} dict with an interval at every point with n > 0."""
    if not all(s in d for s in _RATE_KEYS):
        return False
    n = np.asarray(d["n"], float)
    have = np.isfinite(d["rate"]) & np.isfinite(d["ci_low"]) & np.isfinite(d["ci_high"])
    return bool(np.all(have | ~(n > 0)))


def _match(values, v):
    """Boolean mask of values equal to v (floats compared with a relative tolerance)."""
    values = np.asarray(values)
    if values.dtype.kind in "fc":
        return np.isclose(values, float(v), rtol=1e-9, atol=0.0)
    if values.dtype.kind in "iub":
        return values == v
    return values == str(v)


def _take(d, idx, P):
    """Rows idx of every per-point array in a nested dict (thresholds stay whole)."""
    return {k: _take(v, idx, P) if isinstance(v, dict)
            else v if k == "threshold" or np.ndim(v) == 0 or len(v) != P else v[idx]
            for k, v in d.items()}


class Run:
    """One gpmc result file in memory. P points, T trials per point."""

    def __init__(self, path, attrs, axis_names, shape, grid, trials, done, timing,
                 summary, params, code=None, summary_attrs=None):
        self.path, self.attrs, self.params, self.code = path, attrs, params, code or {}
        self.grid, self.trials, self.timing = grid, trials, timing
        self.summary_attrs = summary_attrs or {}
        # {group: message} for the /summary groups gpmc could not fully compute
        self.summary_errors = {g: a["error"] for g, a in self.summary_attrs.items()
                               if "error" in a}
        self.summary = {}
        for name, group in summary.items():
            if _is_rate_group(group):
                a = self.summary_attrs.get(name, {})
                group = _fill_intervals(group, float(a.get("level", LEVEL)),
                                        flagged="error" in a)
            self.summary[name] = group
        self.shape = tuple(int(x) for x in shape)
        self.P = int(np.prod(self.shape))
        for name, a in list(grid.items()) + list(trials.items()):
            if len(a) != self.P:
                raise FormatError(f"{path}: {name} has {len(a)} rows, the grid {self.shape} "
                                  f"has {self.P} points")
        self.T = int(np.shape(done)[1]) if done is not None else int(attrs.get("trials", 0))
        self.done = (np.ones((self.P, self.T), bool) if done is None
                     else np.asarray(done).astype(bool))
        self.axes = {}
        for i, name in enumerate(axis_names):
            if name not in grid:
                raise FormatError(f"{path}: grid axis {name!r} has no /grid/{name}")
            index = tuple(slice(None) if j == i else 0 for j in range(len(self.shape)))
            self.axes[name] = grid[name].reshape(self.shape)[index]

    @property
    def experiment(self):
        return self.attrs.get("experiment", "")

    def point_values(self, p):
        """{name: value} of every grid parameter (axes and derived) at point p."""
        return {k: v[p].item() for k, v in self.grid.items()}

    def point_array(self, p, field):
        """The per-point array /points/<p>/<field>, shape (T, dims...)."""
        with h5py.File(self.path, "r") as f:
            return f[f"points/{p}/{field}"][()]

    def point_arrays(self, p):
        """{name: shape} of the per-point arrays /points/<p>/* (shape (T, dims...))."""
        with h5py.File(self.path, "r") as f:
            g = f.get(f"points/{p}")
            return {} if g is None else {k: g[k].shape for k in g}

    # -- fields and thresholds ---------------------------------------------------------
    def threshold_fields(self):
        """{field: thresholds} for every /summary/<field>_le group."""
        return {k[:-3]: np.atleast_1d(v["threshold"]) for k, v in self.summary.items()
                if k.endswith("_le") and isinstance(v, dict) and "threshold" in v}

    def success_fields(self):
        """The 0/1 success-like fields, in file order: "success" (cs), or several (landscape:
        near_x0, near_neg_rho, elsewhere): those whose /summary/<field> holds a rate."""
        names = [k for k, v in self.summary.items()
                 if not k.endswith("_le") and isinstance(v, dict) and "rate" in v]
        if "success" in self.trials and "success" not in names:
            names.insert(0, "success")
        return names

    def has_success_field(self):
        return bool(self.success_fields())

    def default_field(self):
        """The field a condition table or plot shows when none is named: eps_hat, else a
        thresholded field, else the first non-0/1 trial field (by name)."""
        binary = set(self.success_fields())
        for name in ("eps_hat", *self.threshold_fields(), *self.trials):
            if name in self.trials and name not in binary:
                return name
        raise ValueError(f"{self.path}: no scalar trial fields")

    def stats(self, field):
        """{mean, std, min, q05, q50, q95, max, n} (P,) of a scalar field: /summary when
        stored, else computed from the trials (sample std, linear quantiles)."""
        stored = self.summary.get(field, {})
        if "q50" in stored and (field not in self.trials or self._stats_stored(field)):
            return {k: np.asarray(v) for k, v in stored.items() if k in _STATS}
        x = self._field(field)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanquantile(x, [0.05, 0.5, 0.95], axis=1)
            return {"mean": np.nanmean(x, 1), "std": np.nanstd(x, 1, ddof=1),
                    "min": np.nanmin(x, 1), "q05": q[0], "q50": q[1], "q95": q[2],
                    "max": np.nanmax(x, 1), "n": (~np.isnan(x)).sum(1)}

    def _stats_stored(self, field):
        """The stored statistics of a field are whole: every one present, not flagged by
        gpmc, and no NaN location statistic at a point with a value."""
        stored = self.summary[field]
        if field in self.summary_errors or not all(s in stored for s in _STATS):
            return False
        n = np.asarray(stored["n"], float)
        for s in ("mean", "min", "q05", "q50", "q95", "max"):
            if np.any(np.isnan(stored[s]) & (n > 0)):
                return False
        return True

    # -- reshaping and slicing ---------------------------------------------------------
    def grid_array(self, name, stat=None):
        """A grid parameter, summary statistic or trial field reshaped to the axis shape.

        grid_array("n") -> shape; grid_array("eps_hat", "q50") -> shape;
        grid_array("eps_hat") -> shape + (T,) (the trials); grid_array("eps_hat_le",
        "rate") -> shape + (E,); grid_array("success") -> rate of the success field."""
        if name in self.grid and stat is None:
            a = self.grid[name]
        elif stat is None and name in self.trials:
            a = self.trials[name]
        else:
            group = self.summary.get(name)
            if group is None:
                raise KeyError(f"{name!r} is neither a grid parameter, a trial field nor a "
                               f"summary group (have {sorted(self.summary)})")
            stat = stat or ("rate" if "rate" in group else "mean")
            if stat not in group:
                raise KeyError(f"summary {name!r} has no {stat!r} (have {sorted(group)})")
            a = group[stat]
        return np.asarray(a).reshape(self.shape + np.shape(a)[1:])

    def indices(self, **fixed):
        """Point indices whose grid values equal every name=value given."""
        mask = np.ones(self.P, bool)
        for name, v in fixed.items():
            if name not in self.grid:
                raise KeyError(f"{name!r} is not a grid parameter (have {sorted(self.grid)})")
            m = _match(self.grid[name], v)
            if not m.any():
                raise KeyError(f"no point has {name}={v!r} (values: {np.unique(self.grid[name])})")
            mask &= m
        return np.flatnonzero(mask)

    def select(self, **fixed):
        """The sub-run of the points with the given grid values. Fixing axes keeps a grid
        over the other axes; fixing a derived parameter leaves a flat list of points."""
        idx = self.indices(**fixed)
        if all(k in self.axes for k in fixed):
            names = [a for a in self.axes if a not in fixed]
            shape = tuple(len(self.axes[a]) for a in names)
        else:
            names, shape = [], (len(idx),)
        take = lambda d: _take(d, idx, self.P)
        return Run(self.path, self.attrs, names, shape, take(self.grid), take(self.trials),
                   self.done[idx], take(self.timing), take(self.summary), self.params,
                   self.code, self.summary_attrs)

    # -- success probabilities ---------------------------------------------------------
    def success(self, field=None, threshold=None):
        """Per point: {rate, ci_low, ci_high, n, k} as (P,) arrays.

        field=None picks the 0/1 `success` field, else the only thresholded field.
        A 0/1 field needs no threshold; a thresholded field gives P(field <= threshold)
        (threshold=None is allowed when the file stores a single threshold).
        Stored values are used where the file has them (filled from the stored counts at
        load); when an interval is still missing at a point with n > 0 (no counts either)
        everything is counted again from the trials. n = 0 gives NaN rate and interval."""
        field = field or self.default_success_field()
        if threshold is None and field not in self.threshold_fields():  # a 0/1 field
            stored = self.summary.get(field, {})  # /summary/<field>: rate, ci_*, k, n
            stored = {s: np.asarray(stored[s]) for s in _RATE_KEYS if s in stored}
            if _complete(stored) or ("rate" in stored and field not in self.trials):
                return stored
            return self._recompute(self._field(field), lambda x: x > 0.5)
        stored = self.summary.get(field + "_le")
        if stored is not None:
            th = np.atleast_1d(stored["threshold"])
            if threshold is None and len(th) == 1:
                threshold = th[0]
            if threshold is None:
                raise ValueError(f"{field}: choose a threshold among {list(th)}")
            j = np.flatnonzero(np.isclose(th, float(threshold), rtol=1e-9, atol=0))
            if len(j):
                col = lambda a: np.asarray(a)[:, j[0]] if np.ndim(a) == 2 else np.asarray(a)
                d = {s: col(stored[s]) for s in _RATE_KEYS if s in stored}
                if _complete(d) or field not in self.trials:
                    return d
        if threshold is None:
            raise ValueError(f"{field}: the file stores no thresholds; pass threshold=")
        return self._recompute(self._field(field), lambda x: x <= float(threshold))

    def _field(self, field):
        if field not in self.trials:
            raise KeyError(f"{field!r} is not a trial field (have {sorted(self.trials)})")
        return self.trials[field]

    def default_success_field(self):
        if self.has_success_field():
            return self.success_fields()[0]
        th = self.threshold_fields()
        if len(th) == 1:
            return next(iter(th))
        raise ValueError(f"{self.path}: name the field (thresholded fields: {sorted(th)})")

    def _recompute(self, values, hit):
        """Counts over the done trials with a value (NaN = no value), as gpmc does."""
        valid = self.done & ~np.isnan(values)
        n = valid.sum(axis=1)
        k = (valid & hit(np.where(valid, values, 0.0))).sum(axis=1)
        lo, hi = clopper_pearson(k, n)
        rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        return {"rate": rate, "ci_low": lo, "ci_high": hi, "n": n, "k": k}

    def success_table(self, row_axis, col_axis=None, field=None, threshold=None, **fixed):
        """{rate, ci_low, ci_high, n, k}: arrays (rows, cols) over two axes (or (rows, 1)
        with col_axis=None), plus "rows"/"cols" (the axis values). Every other axis must
        be fixed with name=value."""
        for name in (row_axis, col_axis):
            if name is not None and name not in self.axes:
                raise KeyError(f"{name!r} is not a grid axis (axes: {list(self.axes)})")
        index, kept = [], []
        for name, values in self.axes.items():
            if name in (row_axis, col_axis):
                index.append(slice(None))
                kept.append(name)
            elif name in fixed and _match(values, fixed[name]).any():
                index.append(int(np.flatnonzero(_match(values, fixed[name]))[0]))
            else:
                raise ValueError(f"axis {name!r} is neither a row, a column nor fixed to one "
                                 f"of its values ({name}=one of {list(values)})")
        s = self.success(field, threshold)
        out = {}
        for key, a in s.items():
            a = np.asarray(a).reshape(self.shape)[tuple(index)]
            if col_axis is None:
                a = a.reshape(-1, 1)
            elif kept != [row_axis, col_axis]:
                a = a.T
            out[key] = a
        out["rows"] = self.axes[row_axis]
        out["cols"] = self.axes[col_axis] if col_axis else np.array([""])
        return out
