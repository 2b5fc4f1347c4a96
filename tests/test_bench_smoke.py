"""A small version of `make bench`: every variant runs and gives the same counts.

The full-scale benchmark (16.5M proceedings) is too big for CI; this runs the same script on a
small synthetic release so that the script, and the agreement of the variants, stay tested."""

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
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--release", str(release),
                             "--out", str(out), "--smoke"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = out.read_text()
    assert "give identical national and per-court counts" in report
    for variant in ["(a)", "(b)", "(c)", "(d)", "(e)"]:
        assert variant in report
