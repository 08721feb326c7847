"""table.py: table contents and the Markdown, CSV and LaTeX renderings."""
import csv
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fixtures
import gpmc_h5
import table

TABLE_PY = Path(__file__).resolve().parents[2] / "analysis" / "table.py"


def md_tables(text):
    """Markdown -> {section title: [rows as lists of cells]} (header row first)."""
    out, title = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:]
            out[title] = []
        elif line.startswith("|") and not line.startswith("|---"):
            out[title].append([c.strip() for c in line.strip("|").split("|")])
    return out


def test_success_table_cells(tiny_path):
    run = gpmc_h5.load(tiny_path)
    (t,) = table.success_tables(run, "eps_hat", 0.1)
    assert t.header == ["k \\ n_over_k", "n_over_k=2", "n_over_k=4"]
    assert [r[0] for r in t.rows] == [2, 3]
    cell = t.rows[0][1]
    assert cell.rate == 0.3
    assert (cell.low, cell.high) == pytest.approx((0.0667395111777, 0.65245285006), abs=1e-10)
    assert cell.text(3) == "0.3 [0.0667, 0.652]"


def test_condition_table_cells(tiny_path):
    run = gpmc_h5.load(tiny_path)
    t = table.condition_table(run)
    assert t.header == ["k", "n_over_k", "n", "trials", "q05", "q50", "q95", "mean ± std"]
    assert len(t.rows) == 4
    last = t.rows[3]
    assert last[:4] == [3, 4.0, 12, 8]
    st = run.summary["eps_hat"]
    assert last[4:7] == [st["q05"][3], st["q50"][3], st["q95"][3]]
    assert last[7].mean == pytest.approx(0.275) and last[7].std == st["std"][3]


def test_markdown_document(wdc_path):
    run = gpmc_h5.load(wdc_path)
    text = table.to_markdown(table.document_tables(run), "t", table.preamble(run))
    tables = md_tables(text)
    titles = list(tables)
    assert titles[0].startswith("Condition: eps_hat")
    assert [t.split(",")[0] for t in titles[1:]] == [
        "P(eps_hat <= 0.05)", "P(eps_hat <= 0.1)", "P(eps_hat <= 0.2)"]
    cond = tables[titles[0]]
    assert len(cond) == 1 + 15 and all(len(r) == 8 for r in cond)
    p01 = tables[titles[2]]
    assert p01[0] == ["k \\ n_over_k"] + [f"n_over_k={r:g}" for r in fixtures.WDC_RATIOS]
    assert [r[0] for r in p01[1:]] == ["5", "10", "20"]
    # k=5, n=40: eps_hat = 0.8/sqrt(40) * (1 + 0.5 u): 3 of 10 values <= 0.1
    assert p01[1][3] == "0.3 [0.0667, 0.652]"
    assert "Fixed parameters: depth=2, ensemble=gaussian, eps=0.05,0.1,0.2." in text


def test_csv_is_tidy(tiny_path):
    run = gpmc_h5.load(tiny_path)
    text = table.to_csv(table.document_tables(run, fmt="csv"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    assert list(rows[0])[:9] == ["k", "n_over_k", "n", "trials", "q05", "q50", "q95",
                                 "mean", "std"]
    r = rows[0]
    assert (int(r["k"]), float(r["n_over_k"]), int(r["n"])) == (2, 2.0, 4)
    assert float(r["P(eps_hat <= 0.1) rate"]) == 0.3
    assert float(r["P(eps_hat <= 0.1) ci_low"]) == gpmc_h5.clopper_pearson(3, 10)[0]
    assert float(r["P(eps_hat <= 0.5) rate"]) == 0.7
    assert float(rows[3]["q50"]) == run.summary["eps_hat"]["q50"][3]  # full precision


def test_csv_success_only(tiny_path):
    run = gpmc_h5.load(tiny_path)
    text = table.to_csv(table.document_tables(run, "success", thresholds=[0.3], fmt="csv"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["k", "n_over_k", "n", "P(eps_hat <= 0.3) rate",
                             "P(eps_hat <= 0.3) ci_low", "P(eps_hat <= 0.3) ci_high"]
    assert [float(r["P(eps_hat <= 0.3) rate"]) for r in rows] == [0.5, 1.0, 0.0, 0.5]


def test_latex(tiny_path):
    run = gpmc_h5.load(tiny_path)
    text = table.to_latex(table.document_tables(run, thresholds=[0.1]), "t", ["a line"])
    assert text.count("\\begin{tabular}") == 2 == text.count("\\end{tabular}")
    assert "\\caption{P(eps\\_hat $\\le$ 0.1), 95\\% Clopper-Pearson interval}" in text
    body = [l for l in text.splitlines() if l.endswith("\\\\")]
    assert len(body) == (1 + 4) + (1 + 2)  # header + rows of each table
    assert all(l.count(" & ") == 7 for l in body[:5])
    assert "2 & 0.3 [0.0667, 0.652] & 1 [0.692, 1] \\\\" in body
    assert "$\\pm$" in text and "% a line" in text


def test_extra_axes_give_one_table_each(recovery_path):
    run = gpmc_h5.load(recovery_path)
    tables = table.success_tables(run, rows="m", cols="k")
    assert [t.title.split("(")[-1] for t in tables] == ["ensemble=gaussian)",
                                                        "ensemble=truncated)"]
    assert tables[0].header == ["m \\ k", "k=2", "k=4", "k=8"]
    one = table.success_tables(run.select(ensemble="gaussian", m=40), rows="k")
    assert one[0].header == ["k", "P"] and [r[1].rate for r in one[0].rows] == [1.0, 0.5, 0.0]


def run_cli(*args):
    return subprocess.run([sys.executable, str(TABLE_PY), *map(str, args)],
                          capture_output=True, text=True)


def test_cli_default_writes_markdown(wdc_path, tmp_path):
    out = tmp_path / "demo.md"
    r = run_cli(wdc_path, "--format", "markdown", "-o", out)
    assert r.returncode == 0, r.stderr
    assert len(md_tables(out.read_text())) == 4


@pytest.mark.parametrize("fmt,marker", [("csv", "k,n_over_k,n,trials"),
                                        ("latex", "\\begin{tabular}"),
                                        ("markdown", "| k |")])
def test_cli_formats_to_stdout(tiny_path, fmt, marker):
    r = run_cli(tiny_path, "--format", fmt, "--where", "k=2")
    assert r.returncode == 0, r.stderr
    assert marker in r.stdout


def test_cli_errors_are_clear(tmp_path, tiny_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("x")
    r = run_cli(bad)
    assert r.returncode != 0 and "cannot open as an HDF5 file" in r.stderr
    r = run_cli(tiny_path, "--rows", "zz")
    assert r.returncode != 0 and "'zz' is not a grid axis" in r.stderr


def test_layer_table(tmp_path):
    """(T, d) arrays named *_layer: one line per point and layer, median [min, max]."""
    T = 3
    eps = np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.9]])
    pts = {p: {"eps_layer": eps + p, "wdc_layer": 2 * eps, "witness": np.zeros((T, 2, 6, 3))}
           for p in range(2)}
    path = fixtures.write_run(tmp_path / "r2.h5", "r2wdc", [("k", [3, 4])],
                              {"eps_hat": np.ones((2, T))}, points=pts)
    (t,) = table.layer_tables(gpmc_h5.load(path))
    assert t.header == ["k", "layer", "eps_layer", "wdc_layer"]
    assert [r[:2] for r in t.rows] == [[3, 1], [3, 2], [4, 1], [4, 2]]
    assert tuple(t.rows[1][2]) == pytest.approx((0.5, 0.4, 0.9))
    assert tuple(t.rows[2][2]) == pytest.approx((1.2, 1.1, 1.3))
    assert t.rows[0][3].text(3) == "0.4 [0.2, 0.6]"
    text = table.to_markdown(table.document_tables(gpmc_h5.load(path)))
    assert "## Per-layer arrays" in text


def test_layer_table_real_run_without_axes(tmp_path):
    """A real r2wdc run (no grid axes): thresholds as columns and the per-layer table."""
    spec = tmp_path / "r2.ini"
    spec.write_text("[run]\nexperiment = r2wdc\ntrials = 2\nseed = 3\n[params]\n"
                    "k = 3\nwidths = 8, 6\n")
    out = fixtures.run_gpmc(tmp_path / "r2.h5", spec=spec)
    tabs = md_tables(table.to_markdown(table.document_tables(gpmc_h5.load(out))))
    layers = next(v for k, v in tabs.items() if k.startswith("Per-layer arrays"))
    assert layers[0] == ["layer", "n_{j-1} -> n_j", "eps_layer", "span_layer", "wdc_layer"]
    assert [r[1] for r in layers[1:]] == ["3 -> 8", "8 -> 6"]
    cond = next(v for k, v in tabs.items() if k.startswith("Condition"))
    assert "P(eps_hat <= 0.5)" in cond[0]
