"""Runs are atomic (a run killed midway leaves the previous outputs) and reproducible (same inputs, same bytes)."""

import hashlib
import shutil
import signal
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from tiny_release import proceeding, proceeding_line, write_release

from pdclosures import params, pipeline, report

pytestmark = pytest.mark.slow

ROWS = [
    proceeding(
        i,
        court=["SEA", "TUC", "HOU", "NYC"][i % 4],
        comp=f"2013-{1 + i % 12:02d}-15",
        other="Y" if i % 5 == 0 else ("C" if i % 7 == 0 else ""),
        dec="X",
    )
    for i in range(1, 400)
]


def digests(folder) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def scratch(tmp_path):
    release = write_release(tmp_path / "release.zip", [proceeding_line(r) for r in ROWS], zipped=True)
    paths = pipeline.Paths(tmp_path / "project", notebooks=pipeline.PROJECT_ROOT / "notebooks")
    return paths, release


def test_same_inputs_give_byte_identical_csvs_figures_and_reports(scratch):
    paths, release = scratch
    values = params.resolve(release=str(release), run="twice", min_completions=1)
    pipeline.run(values, paths, log=lambda *_: None)
    first = {name: digests(getattr(paths, name) / "twice") for name in ("processed", "figures", "reports")}
    pipeline.run(values, paths, log=lambda *_: None)
    again = {name: digests(getattr(paths, name) / "twice") for name in ("processed", "figures", "reports")}

    csvs = {name for name in first["processed"] if name.endswith(".csv")}
    assert len(csvs) >= 12
    assert {name: again["processed"][name] for name in csvs} == {name: first["processed"][name] for name in csvs}
    assert again["figures"] == first["figures"]
    assert {"png", "svg", "pdf"} <= {name.rsplit(".", 1)[1] for name in first["figures"]}
    # The executed notebooks differ (papermill's timestamps); the report made from them does not.
    assert again["reports"]["report.html"] == first["reports"]["report.html"]
    # `make report` rebuilds the same report from the published run.
    assert report.main([str(paths.reports / "twice")]) == 0
    assert digests(paths.reports / "twice")["report.html"] == first["reports"]["report.html"]


KILL_THE_RUNNER = """
import os, signal
os.kill(os.getppid(), signal.SIGKILL)  # the kernel's parent is the runner: killed after 01 has written
os._exit(0)
"""


def notebooks(folder, second_cell: str):
    """The real 01_ingest, then a notebook of one cell."""
    folder.mkdir()
    shutil.copy(pipeline.PROJECT_ROOT / "notebooks" / "01_ingest.ipynb", folder)
    second = new_notebook(cells=[new_code_cell(second_cell)])
    second.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(second, folder / "02_second.ipynb")
    return folder


def test_a_run_killed_midway_leaves_the_previous_outputs_intact(scratch, tmp_path):
    project, release = scratch
    paths = pipeline.Paths(project.root, notebooks=notebooks(tmp_path / "good", "print('done')"))
    values = params.resolve(release=str(release), run="kept", min_completions=1)
    pipeline.run(values, paths, log=lambda *_: None)
    before = {name: digests(getattr(paths, name) / "kept") for name in ("processed", "figures", "reports")}
    assert "national.csv" not in before["processed"] and "row_accounting.csv" in before["processed"]

    killing = notebooks(tmp_path / "killing notebooks", KILL_THE_RUNNER)
    script = (
        "import sys; from pathlib import Path; from pdclosures import params, pipeline\n"
        "paths = pipeline.Paths(Path(sys.argv[1]), notebooks=Path(sys.argv[2]))\n"
        "values = params.resolve(release=sys.argv[3], run='kept', start='2013-01-01', end='2013-06-30')\n"
        "pipeline.run(values, paths)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(paths.root), str(killing), str(release)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert (paths.processed / ".kept.tmp" / "ingest.json").is_file()  # 01 had written into the staging folder

    after = {name: digests(getattr(paths, name) / "kept") for name in ("processed", "figures", "reports")}
    assert after == before

    # The next run clears the killed run's staging folders and publishes normally.
    pipeline.run(values, paths, log=lambda *_: None)
    for folder in (paths.processed, paths.figures, paths.reports):
        assert [p.name for p in folder.iterdir()] == ["kept"]
