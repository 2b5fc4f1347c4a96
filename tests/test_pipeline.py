"""The notebook chain end to end under papermill, on tiny releases with known answers."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from tiny_release import proceeding, proceeding_line, write_release

from pdclosures import params, pipeline

pytestmark = pytest.mark.slow

ROWS = [
    proceeding(1, court="SEA", comp="2011-11-01", other="Y"),
    proceeding(2, court="SEA", comp="2012-03-01", dec="X"),
    proceeding(3, court="TUC", comp="2012-09-30", other="M"),
    proceeding(4, court="TUC", comp="2012-10-01", other="Y"),  # FY2013: outside an FY2012 run
    proceeding(5, court="HOU", comp="2012-05-05", other="C"),  # change of venue: not counted
    proceeding(6, court="HOU", comp="2012-06-06", dec="R", case_type="DEP"),
]


@pytest.fixture()
def project(tmp_path):
    """A scratch project root with the real notebooks and a tiny release with a space in its name."""
    release = write_release(tmp_path / "in put" / "EOIR Case Data.zip", [proceeding_line(r) for r in ROWS],
                            zipped=True)
    return pipeline.Paths(tmp_path / "project", notebooks=pipeline.PROJECT_ROOT / "notebooks"), release


def test_chain_runs_with_non_default_parameters(project):
    paths, release = project
    values = params.resolve(release=str(release), start="2011-10-01", end="2012-09-30", run="fy2012",
                            pd_codes="Y", min_completions=1)
    out = pipeline.run(values, paths, log=lambda *_: None)
    national = pd.read_csv(out / "national.csv")
    assert national.columns.tolist() == ["start", "end", "pd_closures", "completions", "pd_rate", "ci_low", "ci_high"]
    assert national.iloc[0][["start", "end", "pd_closures", "completions"]].tolist() == ["2011-10-01", "2012-09-30", 1, 4]
    courts = pd.read_csv(out / "courts.csv")
    assert courts.columns.tolist() == ["base_city_code", "court", "state", "pd_closures", "completions", "pd_rate",
                                       "ci_low", "ci_high"]
    assert courts.set_index("base_city_code").loc["SEA", "court"] == "Seattle, WA"
    accounting = pd.read_csv(out / "row_accounting.csv")
    assert accounting.columns.tolist() == ["table", "lines", "loaded", "repaired", "quarantined"]
    assert (accounting["lines"] == accounting["loaded"] + accounting["quarantined"]).all()
    for name in ["fiscal_years", "months", "hearing_locations", "states", "circuits", "regions"]:
        assert (out / f"{name}.csv").is_file(), name
    run = json.loads((out / "run.json").read_text())
    assert run["parameters"]["start"] == "2011-10-01" and run["parameters"]["pd_codes"] == "Y"
    assert run["release"]["checksum_sha256"] and run["code"]["version"]
    assert run["dependencies"]["duckdb"] and run["timings_seconds"]["total"] > 0
    reports = paths.reports / "fy2012"
    assert (reports / "report.html").is_file()
    assert sorted(p.name for p in reports.glob("*.html") if p.name != "report.html") == [
        p.with_suffix(".html").name for p in paths.notebook_files()]
    assert list((paths.figures / "fy2012").glob("*.png"))
    # Nothing staged is left behind.
    assert not [p for p in paths.processed.iterdir() if p.name.startswith(".")]


def test_a_failing_run_leaves_the_previous_outputs_intact(project):
    paths, release = project
    good = params.resolve(release=str(release), run="keep", min_completions=1)
    out = pipeline.run(good, paths, log=lambda *_: None)
    before = (out / "national.csv").read_bytes()
    broken = write_release(release.parent / "broken", [proceeding_line(r) for r in ROWS],
                           header="\t".join(["IDNPROCEEDING", "IDNCASE", "X"]))
    with pytest.raises(Exception, match="missing column"):
        pipeline.run(params.resolve(release=str(broken), run="keep"), paths, log=lambda *_: None)
    assert (out / "national.csv").read_bytes() == before
    assert not [p for p in paths.processed.iterdir() if p.name.startswith(".")]


def test_papermill_cli_yaml_and_p_parameters_survive_as_strings(project, tmp_path):
    """A user running notebooks with the papermill CLI: unquoted YAML dates, -p dates, YAML lists."""
    paths, release = project
    processed = tmp_path / "processed"
    preset = tmp_path / "my params.yaml"
    preset.write_text("start: 2011-10-01\npd_codes: [Y, M]\nmin_completions: 0\n")
    common = ["-p", "release", str(release), "-p", "interim_dir", str(tmp_path / "interim"),
              "-p", "processed_dir", str(processed), "-p", "figures_dir", str(tmp_path / "figures")]
    notebooks = pipeline.PROJECT_ROOT / "notebooks"
    for notebook, extra in [("01_ingest", []), ("02_rates", ["-f", str(preset), "-p", "end", "2012-09-30"])]:
        subprocess.run([sys.executable, "-m", "papermill", str(notebooks / f"{notebook}.ipynb"),
                        str(tmp_path / f"{notebook}.ipynb"), "--cwd", str(notebooks), "--no-progress-bar",
                        *common, *extra], check=True, capture_output=True)
    national = pd.read_csv(processed / "national.csv").iloc[0]
    assert (national["start"], national["end"]) == ("2011-10-01", "2012-09-30")
    assert (national["pd_closures"], national["completions"]) == (2, 4)


def test_cli_bad_parameter_is_one_line_without_traceback():
    result = subprocess.run([sys.executable, "-m", "pdclosures.pipeline", "--start", "2012-13-01"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: START='2012-13-01': not a date; use YYYY-MM-DD, e.g. 2012-10-01"


def test_a_window_with_no_completions_runs_to_the_end_with_zero_counts(project):
    paths, release = project
    messages = []
    values = params.resolve(release=str(release), start="2020-01-01", end="2020-06-30", run="empty")
    out = pipeline.run(values, paths, log=messages.append)
    assert any("lies outside the release's completion dates" in m for m in messages)
    national = pd.read_csv(out / "national.csv").iloc[0]
    assert (national["pd_closures"], national["completions"]) == (0, 0) and pd.isna(national["pd_rate"])
    assert pd.read_csv(out / "courts.csv").empty
    assert len(pd.read_csv(out / "months.csv")) == 6
    assert len(list((paths.figures / "empty").glob("*.png"))) >= 6


@pytest.mark.skipif(not os.path.exists("/proc/self/cmdline"), reason="finds the kernel through /proc")
def test_a_kernel_still_running_after_its_shutdown_is_killed_and_only_it(tmp_path):
    sleeping = [sys.executable, "-c", "import time; time.sleep(60)", "-f"]
    kernel = subprocess.Popen(sleeping + [str(tmp_path / "kernel-1.json")], start_new_session=True)
    other = subprocess.Popen(sleeping + [str(tmp_path / "kernel-2.json")], start_new_session=True)
    try:
        pipeline._kill_if_still_running(kernel.pid, str(tmp_path / "kernel-1.json"))
        assert not os.path.exists(f"/proc/{kernel.pid}")  # killed, and reaped
        assert other.poll() is None  # another connection file: left alone
        pipeline._kill_if_still_running(None, str(tmp_path / "kernel-2.json"))  # no pid: nothing to do
        assert other.poll() is None
    finally:
        for process in (kernel, other):
            process.kill()
            process.wait()
