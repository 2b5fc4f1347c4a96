"""A small version of `make bench`: every variant runs and gives the same counts.

The full-scale benchmark (16.5M proceedings) is too big for CI; this runs the same script on a
small synthetic release so that the script, and the agreement of the variants, stay tested."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pdclosures import sample

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_bench_script_runs_and_all_variants_agree(tmp_path):
    release = tmp_path / "bench release"
    sample.write_full_scale_release(release, proceedings=30_000)
    out = tmp_path / "results.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench.py"),
            "--release",
            str(release),
            "--out",
            str(out),
            "--smoke",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = out.read_text()
    assert "give identical national and per-court counts" in report
    for variant in [
        "(a)",
        "(b)",
        "(b′)",
        "(c)",
        "(f)",
        "(g)",
        "(d)",
        "(e)",
        "(d′)",
        "(e′)",
    ]:  # ASCII: UTF-8 references too
        assert f"| {variant} " in report
    latest = json.loads(out.with_suffix(".json").read_text())  # this run only, one entry per variant
    assert latest["smoke"] is True and latest["problems"] == []
    assert set(latest["variants"]) == {
        "a",
        "b",
        "b_days",
        "c",
        "f",
        "g",
        "d_all",
        "d_usecols",
        "e",
        "d_usecols_utf8",
        "e_utf8",
    }
    assert all(len(variant["wall_runs"]) == 1 for variant in latest["variants"].values())
    assert [goal["goal"][:3] for goal in latest["goals"]] == ["(a)", "(b)", "(c)", "(f)", "(g)", "pea"]
    assert latest["release"]["proceeding_lines"] == 30_000
    assert (tmp_path / "bench release-later" / "manifest.json").is_file()  # (g)'s later release, derived


def test_a_goals_ratio_is_never_rounded_in_the_goals_favour():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench._ratio(1.997, at_least=True) == "1.99×"  # "at least 2×", missed: not shown as 2.00×
    assert bench._ratio(2.0, at_least=True) == "2.00×"
    assert bench._ratio(1.15, at_least=True) == "1.15×"  # 1.15 * 100 is 114.99999999999999
    assert bench._ratio(2.001, at_least=False) == "2.01×"  # "at most 2×", missed
    assert bench._ratio(0.94, at_least=False) == "0.94×"
