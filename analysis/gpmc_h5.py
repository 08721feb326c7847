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
stores them, and are recomputed from /trials otherwise (exact binomial inversion).
"""
import math
import warnings

try:
    import h5py
    import numpy as np
except ImportError as e:  # e.g. a python3 other than Debian's
    raise SystemExit(f"gpmc analysis needs numpy and h5py ({e}): run it with /usr/bin/python3 "
                     "(Debian's python3-h5py) or install them for this interpreter") from None

FORMAT, FORMAT_VERSION = "gpmc", 1
LEVEL = 0.95
_STATS = ("mean", "std", "min", "q05", "q50", "q95", "max", "n")


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
        return Run(path=path, attrs=attrs, axis_names=names, shape=shape,
                   grid=grid, trials=trials, done=done,
                   timing=_tree(f["timing"]) if "timing" in f else {},
                   summary=_tree(f["summary"]) if "summary" in f else {},
                   params=_attrs(f["params"]) if "params" in f else {},
                   code=_attrs(f["code"]) if "code" in f else {})


def clopper_pearson(k, n, level=LEVEL):
    """Exact two-sided binomial interval for k successes in n trials; n = 0 gives (0, 1).

    Solves P(X >= k | lo) = a/2 and P(X <= k | hi) = a/2 (a = 1 - level) by bisection on
    the binomial sum: the same numbers as the beta-quantile form, without scipy."""
    k, n = int(k), int(n)
    if n == 0:
        return 0.0, 1.0
    a = (1.0 - level) / 2.0
    j = np.arange(n + 1)
    logc = np.array([math.lgamma(n + 1) - math.lgamma(x + 1) - math.lgamma(n - x + 1)
                     for x in j])

    def cdf(m, p):  # P(X <= m | p) for 0 < p < 1; decreasing in p
        t = j[:m + 1]
        return float(np.exp(logc[:m + 1] + t * math.log(p) + (n - t) * math.log1p(-p)).sum())

    def root(f):  # the zero in (0, 1) of a decreasing function
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
        return 0.5 * (lo + hi)

    low = 0.0 if k == 0 else root(lambda p: cdf(k - 1, p) - (1.0 - a))
    high = 1.0 if k == n else root(lambda p: cdf(k, p) - a)
    return low, high


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
                 summary, params, code=None):
        self.path, self.attrs, self.params, self.code = path, attrs, params, code or {}
        self.grid, self.trials, self.timing, self.summary = grid, trials, timing, summary
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

    # -- fields and thresholds ---------------------------------------------------------
    def threshold_fields(self):
        """{field: thresholds} for every /summary/<field>_le group."""
        return {k[:-3]: np.atleast_1d(v["threshold"]) for k, v in self.summary.items()
                if k.endswith("_le") and isinstance(v, dict) and "threshold" in v}

    def has_success_field(self):
        return "success" in self.trials or "rate" in self.summary.get("success", {})

    def default_field(self):
        """The field a condition table or plot shows when none is named."""
        for name in ("eps_hat", *self.threshold_fields(), *self.trials):
            if name in self.trials and name != "success":
                return name
        raise ValueError(f"{self.path}: no scalar trial fields")

    def stats(self, field):
        """{mean, std, min, q05, q50, q95, max, n} (P,) of a scalar field: /summary when
        stored, else computed from the trials (sample std, linear quantiles)."""
        stored = self.summary.get(field, {})
        if "q50" in stored:
            return {k: np.asarray(v) for k, v in stored.items() if k in _STATS}
        x = self._field(field)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanquantile(x, [0.05, 0.5, 0.95], axis=1)
            return {"mean": np.nanmean(x, 1), "std": np.nanstd(x, 1, ddof=1),
                    "min": np.nanmin(x, 1), "q05": q[0], "q50": q[1], "q95": q[2],
                    "max": np.nanmax(x, 1), "n": (~np.isnan(x)).sum(1)}

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
                   self.code)

    # -- success probabilities ---------------------------------------------------------
    def success(self, field=None, threshold=None):
        """Per point: {rate, ci_low, ci_high, n, k} as (P,) arrays.

        field=None picks the 0/1 `success` field, else the only thresholded field.
        A 0/1 field needs no threshold; a thresholded field gives P(field <= threshold)
        (threshold=None is allowed when the file stores a single threshold)."""
        field = field or self.default_success_field()
        keys = ("rate", "ci_low", "ci_high", "n", "k")
        if threshold is None and field not in self.threshold_fields():  # a 0/1 field
            stored = self.summary.get("success", {}) if field == "success" else {}
            if "rate" in stored:
                return {s: np.asarray(stored[s]) for s in keys}
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
                return {s: col(stored[s]) for s in keys}
        if threshold is None:
            raise ValueError(f"{field}: the file stores no thresholds; pass threshold=")
        return self._recompute(self._field(field), lambda x: x <= float(threshold))

    def _field(self, field):
        if field not in self.trials:
            raise KeyError(f"{field!r} is not a trial field (have {sorted(self.trials)})")
        return self.trials[field]

    def default_success_field(self):
        if self.has_success_field():
            return "success"
        th = self.threshold_fields()
        if len(th) == 1:
            return next(iter(th))
        raise ValueError(f"{self.path}: name the field (thresholded fields: {sorted(th)})")

    def _recompute(self, values, hit):
        """Counts over the done trials with a value (NaN = no value), as gpmc does."""
        valid = self.done & ~np.isnan(values)
        n = valid.sum(axis=1)
        k = (valid & hit(np.where(valid, values, 0.0))).sum(axis=1)
        ci = np.array([clopper_pearson(kk, nn) for kk, nn in zip(k, n)]).reshape(-1, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        return {"rate": rate, "ci_low": ci[:, 0], "ci_high": ci[:, 1], "n": n, "k": k}

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
