"""Runs are atomic (a killed run leaves the previous outputs) and reproducible (same inputs, same bytes)."""

import hashlib
import signal
import subprocess
import sys
import time

import pytest
from tiny_release import proceeding, proceeding_line, write_release

from pdclosures import params, pipeline

pytestmark = pytest.mark.slow

ROWS = [proceeding(i, court=["SEA", "TUC", "HOU", "NYC"][i % 4], comp=f"2013-{1 + i % 12:02d}-15",
                   other="Y" if i % 5 == 0 else ("C" if i % 7 == 0 else ""), dec="X") for i in range(1, 400)]


def digests(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def scratch(tmp_path):
    release = write_release(tmp_path / "release.zip", [proceeding_line(r) for r in ROWS], zipped=True)
    paths = pipeline.Paths(tmp_path / "project", notebooks=pipeline.PROJECT_ROOT / "notebooks")
    return paths, release


def test_same_inputs_give_byte_identical_csvs_and_figures(scratch):
    paths, release = scratch
    values = params.resolve(release=str(release), run="twice", min_completions=1)
    pipeline.run(values, paths, log=lambda *_: None)
    first_csvs = {k: v for k, v in digests(paths.processed / "twice").items() if k.endswith(".csv")}
    first_figures = digests(paths.figures / "twice")
    pipeline.run(values, paths, log=lambda *_: None)
    assert {k: v for k, v in digests(paths.processed / "twice").items() if k.endswith(".csv")} == first_csvs
    assert digests(paths.figures / "twice") == first_figures
    assert len(first_csvs) >= 12 and any(name.endswith(".svg") for name in first_figures)


def test_a_run_killed_midway_leaves_the_previous_outputs_intact(scratch):
    paths, release = scratch
    values = params.resolve(release=str(release), run="kept", min_completions=1)
    pipeline.run(values, paths, log=lambda *_: None)
    before = {name: digests(getattr(paths, name) / "kept") for name in ("processed", "figures", "reports")}

    script = (f"from pathlib import Path; from pdclosures import params, pipeline\n"
              f"paths = pipeline.Paths(Path({str(paths.root)!r}), notebooks=Path({str(paths.notebooks)!r}))\n"
              f"pipeline.run(params.resolve(release={str(release)!r}, run='kept', start='2013-01-01', "
              f"end='2013-06-30'), paths)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    # Kill it once the first notebook has written into the staging folder.
    while not list(paths.processed.glob(".kept.tmp-*/ingest.json")) and time.monotonic() < deadline:
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait()
    after = {name: digests(getattr(paths, name) / "kept") for name in ("processed", "figures", "reports")}
    assert after == before

    # The next run clears the killed run's staging folders and publishes normally.
    pipeline.run(params.resolve(release=str(release), run="kept", min_completions=1), paths, log=lambda *_: None)
    for folder in (paths.processed, paths.figures, paths.reports):
        assert [p.name for p in folder.iterdir()] == ["kept"]
