#!/usr/bin/env python3
"""Tables from a gpmc result file, as Markdown, CSV or LaTeX.

  * condition table: one line per grid point with the q05, q50, q95 and mean ± std of a
    field (default eps_hat);
  * success tables: P(success), or P(field <= threshold) for a thresholded field such as
    wdc's eps_hat <= eps, with Clopper-Pearson 95% intervals, rows and columns over two
    grid axes (one table per value of any other axis). A point with no finished trial
    (n = 0) has no rate and no interval: "n/a" (NaN in CSV). A run without grid axes
    gets them as columns of the condition table instead;
  * layer table (Markdown and LaTeX): per-layer arrays, the (T, d) arrays under /points
    named *_layer (r2wdc's eps_layer, span_layer, wdc_layer), one line per grid point and
    layer with the median over trials and [min, max].

Markdown and LaTeX hold the condition table and one success table per threshold. CSV is
tidy: one line per grid point, the condition statistics and every success probability
as columns (rate, ci_low, ci_high), ready for a spreadsheet or pandas.

    table.py results/demo.h5 --format markdown -o results/demo.md
    table.py run.h5 --kind success --rows k --cols n_over_k --threshold 0.1
    table.py run.h5 --format csv --where ensemble=gaussian -o run.csv
    table.py results/demo.h5 --kind condition --slope n     # + slope.py's fit per k
"""
import argparse
import csv
import io
import itertools
import math
import sys
from collections import namedtuple
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpmc_h5  # noqa: E402
import numpy as np  # noqa: E402

FORMATS = ("markdown", "csv", "latex")


NO_TRIALS = "n/a"  # a point with no finished trial (n = 0) has no rate and no interval


class Interval(namedtuple("Interval", "rate low high n", defaults=(None,))):
    """A success rate with its confidence interval (one cell); n = trials counted."""

    def text(self, digits):
        if self.n == 0 or all(math.isnan(v) for v in (self.rate, self.low, self.high)):
            return NO_TRIALS
        return f"{num(self.rate, digits)} [{num(self.low, digits)}, {num(self.high, digits)}]"

    def columns(self, name):
        return {f"{name} rate": self.rate, f"{name} ci_low": self.low,
                f"{name} ci_high": self.high}


class MeanStd(namedtuple("MeanStd", "mean std")):
    def text(self, digits):
        return f"{num(self.mean, digits)} ± {num(self.std, digits)}"

    def columns(self, name):
        return {"mean": self.mean, "std": self.std}


Table = namedtuple("Table", "title header rows")


def num(v, digits=3):
    """A number for people: ints as they are, floats to `digits` significant digits."""
    if isinstance(v, str):
        return v
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float):
        return "–" if math.isnan(v) else f"{v:.{digits}g}"
    return str(v)


# -- building tables -----------------------------------------------------------------------
def success_specs(run, field=None, thresholds=None):
    """[(field, threshold)] to tabulate: the 0/1 success field (threshold None) and every
    stored threshold of every thresholded field, unless narrowed by field / thresholds."""
    stored = run.threshold_fields()
    if thresholds:
        field = field or (next(iter(stored)) if stored else run.default_field())
        return [(field, float(t)) for t in thresholds]
    if field is not None:
        return [(field, float(t)) for t in stored[field]] if field in stored else [(field, None)]
    specs = [(f, None) for f in run.success_fields()]
    return specs + [(f, float(t)) for f, ths in stored.items() for t in ths]


def success_title(field, threshold):
    what = f"P({field})" if threshold is None else f"P({field} <= {num(threshold, 6)})"
    return f"{what}, 95% Clopper-Pearson interval"


def condition_table(run, field=None, successes=(), stats=True):
    """One line per grid point: the grid values, then (stats) trials, q05 q50 q95 and
    mean ± std of `field`, then one Interval column per (field, threshold) in successes."""
    field = field or run.default_field()
    names = list(run.grid)
    st = run.stats(field)
    rates = [run.success(f, t) for f, t in successes]
    header = names + (["trials", "q05", "q50", "q95", "mean ± std"] if stats else [])
    header += [success_title(f, t).split(",")[0] for f, t in successes]
    rows = []
    for p in range(run.P):
        row = [run.grid[g][p].item() for g in names]
        if stats:
            row += [int(st["n"][p])] + [float(st[q][p]) for q in ("q05", "q50", "q95")]
            row.append(MeanStd(float(st["mean"][p]), float(st["std"][p])))
        row += [_interval(r, p) for r in rates]
        rows.append(row)
    what = f"Condition: {field}" if stats else "Success probabilities"
    return Table(f"{what} per grid point ({run.T} trials)", header, rows)


def _interval(s, at):
    """The Interval at index `at` of a success() / success_table() dict."""
    n = float(s["n"][at]) if "n" in s else float("nan")
    return Interval(*(float(s[k][at]) for k in ("rate", "ci_low", "ci_high")),
                    n=None if math.isnan(n) else int(n))


def success_tables(run, field=None, threshold=None, rows=None, cols=None):
    """Success tables (rows x cols over two axes), one per value of every other axis."""
    axes = list(run.axes)
    if not axes:
        raise ValueError("the file has no grid axes to lay a table over")
    rows = rows or axes[0]
    if cols is None and len(axes) > 1:
        cols = next(a for a in axes if a != rows)
    others = [a for a in axes if a not in (rows, cols)]
    out = []
    for combo in itertools.product(*(run.axes[a] for a in others)):
        fixed = dict(zip(others, (v.item() for v in combo)))
        t = run.success_table(rows, cols, field, threshold, **fixed)
        header = [f"{rows} \\ {cols}" if cols else rows]
        header += [f"{cols}={num(c, 4)}" for c in t["cols"]] if cols else ["P"]
        body = [[r.item()] + [_interval(t, (i, j)) for j in range(len(t["cols"]))]
                for i, r in enumerate(t["rows"])]
        where = ", ".join(f"{k}={num(v, 4)}" for k, v in fixed.items())
        title = success_title(field or run.default_success_field(), threshold)
        out.append(Table(title + (f" ({where})" if where else ""), header, body))
    return out


def document_tables(run, kind="all", field=None, thresholds=None, rows=None, cols=None,
                    fmt="markdown"):
    """The tables of a document: CSV gets one tidy table, Markdown and LaTeX a condition
    table and the success tables of every (field, threshold)."""
    is_success = (field in run.success_fields() or field in run.threshold_fields()
                  or bool(thresholds))
    specs = ([] if kind == "condition"
             else success_specs(run, field if is_success else None, thresholds))
    if kind == "success" and not specs:
        raise ValueError("the file has no success field and no thresholds: "
                         "pass --field FIELD --threshold T")
    cond = None if field == "success" else field
    if fmt == "csv":
        return [condition_table(run, cond, specs, stats=kind != "success")]
    if not run.axes:  # no axes to lay success tables over: they become columns
        return ([] if kind == "success" else [condition_table(run, cond, specs)]) + (
            [] if kind != "all" else layer_tables(run))
    tables = [] if kind == "success" else [condition_table(run, cond)]
    for f, t in specs:
        tables += success_tables(run, f, t, rows, cols)
    return tables + ([] if kind != "all" else layer_tables(run))


class Range(namedtuple("Range", "q50 lo hi")):
    """Median over trials with [min, max]."""

    def text(self, digits):
        if math.isnan(self.q50):
            return NO_TRIALS
        return f"{num(self.q50, digits)} [{num(self.lo, digits)}, {num(self.hi, digits)}]"

    def columns(self, name):
        return {f"{name} q50": self.q50, f"{name} min": self.lo, f"{name} max": self.hi}


def layer_tables(run):
    """One line per grid point and layer j of the (T, d) arrays named *_layer: the median
    over trials [min, max] of each. [] if the file has none."""
    if run.P == 0:
        return []
    shapes = run.point_arrays(0)
    fields = [k for k, s in shapes.items() if k.endswith("_layer") and len(s) == 2]
    if not fields:
        return []
    names = list(run.grid)
    widths = _widths(run)
    rows = []
    for p in range(run.P):
        arrays = {f: np.asarray(run.point_array(p, f), dtype=float) for f in fields}
        for j in range(arrays[fields[0]].shape[1]):
            row = [run.grid[g][p].item() for g in names] + [j + 1]
            if widths:
                row.append(f"{widths[j]} -> {widths[j + 1]}" if j + 1 < len(widths) else "?")
            for f in fields:
                x = arrays[f][:, j]
                x = x[~np.isnan(x)]
                row.append(Range(*(float(np.median(x)), float(x.min()), float(x.max()))
                                 if x.size else (math.nan,) * 3))
            rows.append(row)
    title = f"Per-layer arrays: median over trials [min, max] ({run.T} trials)"
    return [Table(title, names + ["layer"] + (["n_{j-1} -> n_j"] if widths else []) + fields,
                  rows)]


def _widths(run):
    """[k, n_1, ..., n_d] from fixed parameters k and widths, else None."""
    k, w = run.params.get("k"), run.params.get("widths")
    if k is None or w is None:
        return None
    w = w.tolist() if hasattr(w, "tolist") else w
    w = w if isinstance(w, list) else [w]
    return [int(k)] + [int(x) for x in w]


# -- rendering ---------------------------------------------------------------------------
def to_markdown(tables, title=None, preamble=(), digits=3):
    out = [f"# {title}", ""] if title else []
    for line in preamble:
        out += [line, ""]
    for t in tables:
        out += [f"## {t.title}", "", "| " + " | ".join(t.header) + " |",
                "|" + "|".join("---" for _ in t.header) + "|"]
        out += ["| " + " | ".join(_text(c, digits) for c in r) + " |" for r in t.rows]
        out.append("")
    return "\n".join(out)


def to_csv(tables, title=None, preamble=(), digits=None):
    """One tidy table; Interval and MeanStd cells become several columns."""
    if len(tables) != 1:
        raise ValueError("CSV holds a single table")
    t = tables[0]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    dicts = [_columns(t.header, r) for r in t.rows]
    w.writerow(list(dicts[0]) if dicts else t.header)
    for d in dicts:
        w.writerow([_csv_value(v) for v in d.values()])
    return buf.getvalue()


def to_latex(tables, title=None, preamble=(), digits=3):
    """LaTeX fragments (one table environment each) to \\input into a document."""
    out = [f"% {title}"] if title else []
    out += [f"% {line}" for par in preamble for line in par.splitlines() if line]
    for t in tables:
        out += ["\\begin{table}[ht]", "\\centering", f"\\caption{{{_latex(t.title)}}}",
                "\\begin{tabular}{" + "l" * len(t.header) + "}", "\\hline",
                " & ".join(_latex(h) for h in t.header) + " \\\\", "\\hline"]
        out += [" & ".join(_latex(_text(c, digits)) for c in r) + " \\\\" for r in t.rows]
        out += ["\\hline", "\\end{tabular}", "\\end{table}", ""]
    return "\n".join(out)


RENDER = {"markdown": to_markdown, "csv": to_csv, "latex": to_latex}


def _text(cell, digits):
    return cell.text(digits) if hasattr(cell, "text") else num(cell, digits)


def _columns(header, row):
    d = {}
    for name, cell in zip(header, row):
        d.update(cell.columns(name) if hasattr(cell, "columns") else {name: cell})
    return d


def _csv_value(v):
    if hasattr(v, "item"):
        v = v.item()
    return repr(v) if isinstance(v, float) else v


def _latex(s):
    for a, b in (("\\", "\\textbackslash{}"), ("_", "\\_"), ("%", "\\%"), ("&", "\\&"),
                 ("#", "\\#"), ("<=", "$\\le$"), ("±", "$\\pm$")):
        s = s.replace(a, b)
    return s


def preamble(run, spec=True):
    """Paragraphs about the run: provenance, fixed parameters, ratio axes, the spec."""
    a = run.attrs
    out = [f"Experiment `{run.experiment}`: {run.P} grid points × {run.T} trials, "
           f"seed {a.get('seed')}, gpmc {a.get('gpmc_version')} "
           f"(commit {a.get('git_commit')}), created {a.get('created')}."]
    if not a.get("complete", 1):
        out.append(f"**Incomplete run** (shard {a.get('shard')}): "
                   f"{int(run.done.sum())} of {run.done.size} trials done.")
    if run.params:
        out.append("Fixed parameters: "
                   + ", ".join(f"{k}={_param(v)}" for k, v in run.params.items()) + ".")
    for axis in run.axes:
        param, _, base = axis.partition("_over_")
        if base and param in run.grid:
            out.append(f"Axis {axis} is the ratio {param}/{base}; "
                       f"{param} = round({axis} × {base}) at each point.")
    if a.get("overrides"):
        out.append(f"Overrides: {a['overrides']}")
    if spec and a.get("spec"):
        out.append("Spec:\n\n```ini\n" + a["spec"].rstrip("\n") + "\n```")
    return out


def _param(v):
    if hasattr(v, "tolist"):
        v = v.tolist()
    return ",".join(num(x, 6) for x in v) if isinstance(v, list) else num(v, 6)


# -- command line ------------------------------------------------------------------------
def parse_where(items):
    """["k=5", "ensemble=gaussian"] -> {"k": 5, "ensemble": "gaussian"}."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--where {item!r}: expected name=value")
        for conv in (int, float, str):
            try:
                out[name] = conv(value)
                break
            except ValueError:
                pass
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", help="gpmc HDF5 result file")
    ap.add_argument("--format", choices=FORMATS, default="markdown")
    ap.add_argument("-o", "--output", help="output file (default: stdout)")
    ap.add_argument("--kind", choices=("all", "condition", "success"), default="all")
    ap.add_argument("--field", help="field of the condition table and/or the success "
                    "tables (default: eps_hat, or the experiment's success field)")
    ap.add_argument("--threshold", type=float, action="append",
                    help="success = field <= THRESHOLD (repeatable; default: the stored ones)")
    ap.add_argument("--rows", help="grid axis down the rows (default: the first axis)")
    ap.add_argument("--cols", help="grid axis across the columns (default: the next axis)")
    ap.add_argument("--where", action="append", metavar="NAME=VALUE",
                    help="keep only points with this grid value (repeatable)")
    ap.add_argument("--digits", type=int, default=3, help="significant digits (default 3)")
    ap.add_argument("--slope", nargs="?", const="", metavar="KEY",
                    help="add the fitted log-log slope of the median field on KEY with its "
                    "standard error (slope.py; default KEY: the single swept axis) to the "
                    "preamble (Markdown, LaTeX)")
    args = ap.parse_args(argv)
    try:
        run = gpmc_h5.load(args.file)
        run = run.select(**parse_where(args.where)) if args.where else run
        tables = document_tables(run, args.kind, args.field, args.threshold, args.rows,
                                 args.cols, args.format)
        pre = preamble(run)
        if args.slope is not None:
            import slope  # imported here: the tables themselves do not need it
            field = None if args.field == "success" else args.field
            spec = [pre.pop()] if pre and pre[-1].startswith("Spec:") else []
            pre += [f.line() for f in slope.fit_run(run, field, by=args.slope or None)] + spec
        text = RENDER[args.format](tables, f"gpmc results: {run.experiment} ({args.file})",
                                   pre, args.digits)
    except (gpmc_h5.FormatError, KeyError, ValueError) as e:
        raise SystemExit(f"{ap.prog}: {e.args[0] if e.args else e}")
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
