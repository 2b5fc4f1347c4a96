"""03_figures and 04_validate run side by side: with stand-ins for them that only pass when the
other one runs at the same time, a failure in one of them is still one line and leaves the
previous outputs as they were."""

import json
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from tiny_release import proceeding, proceeding_line, write_release

from pdclosures import params, pipeline
from pdclosures.errors import UserError

pytestmark = pytest.mark.slow

ROWS = [proceeding(i, court=["SEA", "TUC", "HOU"][i % 3], comp=f"2013-{1 + i % 12:02d}-15",
                   other="Y" if i % 4 == 0 else "", dec="X") for i in range(1, 60)]

PARAMETERS = "\n".join(f"{name} = {value!r}" for name, value in {
    **params.DEFAULTS, "release": "", "interim_dir": "", "processed_dir": "", "figures_dir": ""}.items())

# Each stand-in says it has started, then waits (at most a minute) for the other one to say so.
WAIT_FOR_THE_OTHER = """
import time
from pathlib import Path
(Path(processed_dir) / "{me}.started").write_text("")
deadline = time.monotonic() + 60
while not (Path(processed_dir) / "{other}.started").exists():
    assert time.monotonic() < deadline, "{other} is not running beside {me}"
    time.sleep(0.05)
"""


def stand_in(path: Path, me: str, other: str, then: str = "") -> None:
    nb = new_notebook(cells=[
        new_markdown_cell(f"# {me} stand-in"),
        new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        new_code_cell(WAIT_FOR_THE_OTHER.format(me=me, other=other) + then),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def notebooks(folder: Path, figures_then: str = "", validate_then: str = "") -> Path:
    """The real 01 and 02, and stand-ins for 03 and 04."""
    folder.mkdir(parents=True)
    for name in ["01_ingest.ipynb", "02_rates.ipynb"]:
        shutil.copy(pipeline.PROJECT_ROOT / "notebooks" / name, folder / name)
    stand_in(folder / "03_figures.ipynb", "03_figures", "04_validate", figures_then)
    stand_in(folder / "04_validate.ipynb", "04_validate", "03_figures", validate_then)
    return folder


@pytest.fixture()
def project(tmp_path):
    release = write_release(tmp_path / "release.zip", [proceeding_line(r) for r in ROWS], zipped=True)
    return tmp_path / "project", release


def kernels_left() -> list[str]:
    """Command lines of this process's live children that are notebook kernels."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == os.getpid() and state != "Z" and "ipykernel" in cmdline:
            found.append(cmdline)
    return found


def test_stages():
    names = ["01_ingest", "02_rates", "03_figures", "04_validate"]
    assert [[p.stem for p in stage] for stage in pipeline._stages([Path(f"{n}.ipynb") for n in names])] == [
        ["01_ingest"], ["02_rates"], ["03_figures", "04_validate"]]
    assert [[p.stem for p in stage] for stage in pipeline._stages(
        [Path(f"{n}.ipynb") for n in ["01_ingest", "03_figures", "02_rates", "04_validate"]])] == [
        ["01_ingest"], ["03_figures"], ["02_rates"], ["04_validate"]]


def test_03_and_04_run_side_by_side(project, tmp_path):
    root, release = project
    paths = pipeline.Paths(root, notebooks=notebooks(tmp_path / "notebooks"))
    messages = []
    out = pipeline.run(params.resolve(release=str(release), run="both", min_completions=1), paths,
                       log=messages.append)
    assert messages[:4] == [f"[both] {n} ..." for n in ["01_ingest", "02_rates", "03_figures", "04_validate"]]
    timings = json.loads((out / "run.json").read_text())["timings_seconds"]
    assert list(timings) == ["01_ingest", "02_rates", "03_figures", "04_validate", "total"]
    assert all(seconds > 0 for seconds in timings.values())
    reports = root / "reports" / "both"
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        [f"{n}.{e}" for n in ["01_ingest", "02_rates", "03_figures", "04_validate"] for e in ("ipynb", "html")]
        + ["report.html"])
    assert (out / "03_figures.started").exists() and (out / "04_validate.started").exists()


@pytest.mark.parametrize("failing", ["03_figures", "04_validate"])
def test_a_failure_beside_another_notebook_is_one_line_and_keeps_the_previous_outputs(project, tmp_path, failing):
    root, release = project
    good = pipeline.Paths(root, notebooks=notebooks(tmp_path / "good"))
    values = params.resolve(release=str(release), run="keep", min_completions=1)
    pipeline.run(values, good, log=lambda *_: None)
    before = {folder: sorted(p.name for p in (root / folder / "keep").iterdir())
              for folder in ["data/processed", "figures", "reports"]}
    national = (root / "data/processed/keep/national.csv").read_bytes()

    broken = "raise RuntimeError('drawing broke')"
    bad = pipeline.Paths(root, notebooks=notebooks(
        tmp_path / "bad", **{"figures_then" if failing == "03_figures" else "validate_then": broken}))
    with pytest.raises(UserError) as error:
        pipeline.run(values, bad, log=lambda *_: None)
    message = str(error.value)
    assert "\n" not in message
    assert message == (f"{failing}.ipynb failed (RuntimeError: drawing broke); "
                       "the executed notebook is in reports/keep.failed/")
    # Both notebooks ran to their end, and the failed copy has both.
    failed = root / "reports" / "keep.failed"
    assert {"03_figures.ipynb", "04_validate.ipynb"} <= {p.name for p in failed.iterdir()}

    assert {folder: sorted(p.name for p in (root / folder / "keep").iterdir()) for folder in before} == before
    assert (root / "data/processed/keep/national.csv").read_bytes() == national
    for folder in ["data/processed", "figures", "reports"]:
        assert not [p.name for p in (root / folder).iterdir() if p.name.startswith(".")]
    deadline = time.monotonic() + 10
    while kernels_left() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert kernels_left() == []


def test_an_error_before_the_notebooks_kills_the_kernels_started_ahead(project, tmp_path):
    root, release = project
    paths = pipeline.Paths(root, notebooks=notebooks(tmp_path / "notebooks"))
    with pytest.raises(UserError, match="XXX"):
        pipeline.run(params.resolve(release=str(release), run="nope", courts="SEA,XXX"), paths, log=lambda *_: None)
    assert not (root / "data/processed/nope").exists()
    deadline = time.monotonic() + 10
    while kernels_left() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert kernels_left() == []


def test_jsonschema_is_imported_without_rfc3987_syntax_only_for_that_import():
    import subprocess
    import sys

    code = ("import sys\n"
            "from pdclosures import pipeline  # imports report, which imports jsonschema the short way\n"
            "assert 'jsonschema' in sys.modules and 'rfc3987_syntax' not in sys.modules\n"
            "import nbformat\n"
            "assert 'rfc3987_syntax' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_socket_folders_of_killed_runs_are_removed():
    import subprocess
    import sys
    import tempfile

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = Path(tempfile.mkdtemp(prefix=f"{pipeline.SOCKETS_PREFIX}{gone.pid}-"))
    mine = Path(tempfile.mkdtemp(prefix=f"{pipeline.SOCKETS_PREFIX}{os.getpid()}-"))
    try:
        pipeline._remove_socket_folders_of_killed_runs()
        assert not stale.exists() and mine.exists()
    finally:
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
