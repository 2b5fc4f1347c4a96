"""The runner end to end: the real notebooks on a tiny release with counts known by hand, and
stand-in notebooks for what the runner itself promises (parameters, one-line errors, .failed copies)."""

import hashlib
import json
import subprocess
import sys

import nbformat
import pandas as pd
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from tiny_release import proceeding, proceeding_line, write_release

import pdclosures
from pdclosures import params, pipeline
from pdclosures.errors import ReleaseError, UserError

pytestmark = pytest.mark.slow

ROWS = [
    proceeding(1, court="SEA", comp="2011-11-01", other="Y"),
    proceeding(2, court="SEA", comp="2012-03-01", dec="X"),
    proceeding(3, court="TUC", comp="2012-09-30", other="M"),  # the window's last day; M is not PD with pd_codes=Y
    proceeding(4, court="TUC", comp="2012-10-01", other="Y"),  # FY2013: outside an FY2012 run
    proceeding(5, court="HOU", comp="2012-05-05", other="C"),  # change of venue: not counted
    proceeding(6, court="HOU", comp="2012-06-06", dec="R", case_type="DEP"),
]


def quiet(*_):
    pass


@pytest.fixture()
def project(tmp_path):
    """A scratch project root with the real notebooks and a tiny release with a space in its path."""
    release = write_release(tmp_path / "in put" / "EOIR Case Data.zip", [proceeding_line(r) for r in ROWS], zipped=True)
    return pipeline.Paths(tmp_path / "project", notebooks=pipeline.PROJECT_ROOT / "notebooks"), release


def test_the_real_chain_counts_a_tiny_release_as_by_hand(project):
    paths, release = project
    values = params.resolve(
        release=str(release), start="2011-10-01", end="2012-09-30", run="fy2012", pd_codes="Y", min_completions=1
    )
    messages = []
    out = pipeline.run(values, paths, log=messages.append)
    assert out == paths.processed / "fy2012"
    stems = [p.stem for p in paths.notebook_files()]
    assert messages[:-2] == [f"[fy2012] {stem} ..." for stem in stems]  # no coverage warning: the window has data
    # The guard: 1 PD closure in FY2012's 12 months (the release's dates cover it all) is far below 100 a month.
    guard = messages[-2]
    assert guard.startswith("[fy2012] warning: 0.1 PD closures a month under pd-closures in 2011-10-01 to 2012-09-30")
    assert messages[-1].startswith("[fy2012] done in ")

    # In FY2012: rows 1, 2, 3 and 6 complete (5 is a change of venue, 4 is in FY2013); only row 1 is Y.
    national = pd.read_csv(out / "national.csv")
    assert national.columns.tolist() == [
        "start",
        "end",
        "pd_closures",
        "completions",
        "pd_rate",
        "ci_low",
        "ci_high",
        "definition",
    ]
    row = national.iloc[0]
    assert row["definition"] == "pd-closures"
    assert (row["start"], row["end"], row["pd_closures"], row["completions"]) == ("2011-10-01", "2012-09-30", 1, 4)
    assert row["pd_rate"] == 0.25
    # Wilson 95% interval of 1 in 4: (0.25 + z²/8 ∓ z·sqrt(0.25·0.75/4 + z²/64)) / (1 + z²/4), z = 1.96
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(0.0456, abs=1e-4), pytest.approx(0.6994, abs=1e-4))

    courts = pd.read_csv(out / "courts.csv").set_index("base_city_code")
    assert courts.index[0] == "SEA"  # the highest rate first
    assert courts.loc["SEA", "court"] == "Seattle, WA"
    assert courts[["pd_closures", "completions"]].to_dict("index") == {
        "SEA": {"pd_closures": 1, "completions": 2},
        "TUC": {"pd_closures": 0, "completions": 1},
        "HOU": {"pd_closures": 0, "completions": 1},
    }
    years = pd.read_csv(out / "fiscal_years.csv")
    assert years[["fiscal_year", "pd_closures", "completions"]].values.tolist() == [[2012, 1, 4]]
    months = pd.read_csv(out / "months.csv").set_index("month")
    assert len(months) == 12 and months["completions"].sum() == 4
    assert months.loc["2011-11", ["pd_closures", "completions"]].tolist() == [1, 1]
    assert months.loc["2012-09", ["pd_closures", "completions"]].tolist() == [0, 1]

    accounting = pd.read_csv(out / "row_accounting.csv").set_index("table")
    assert accounting.loc["B_TblProceeding"].tolist() == [6, 6, 0, 0]  # lines, loaded, repaired, quarantined
    assert accounting.loc["tblLookupBaseCity", "lines"] == 4 and accounting.loc["tblLookupHloc", "lines"] == 5

    run = json.loads((out / "run.json").read_text())
    assert run["parameters"] == {**values, "release": str(release)}
    assert run["release"]["checksum_sha256"] == hashlib.sha256(release.read_bytes()).hexdigest()
    assert run["release"]["checksum_of"] == "zip file" and run["release"]["synthetic"] is False
    assert run["synthetic_sample"] is False and "warning" not in run
    assert run["release_path"] == str(release)
    assert run["code"]["version"] == pdclosures.__version__
    assert run["dependencies"]["papermill"] == papermill.__version__ and run["dependencies"]["duckdb"]
    assert run["row_accounting"] == accounting.reset_index().to_dict("records")
    assert run["warnings"] == [guard.removeprefix("[fy2012] ")]
    # The whole release (November 2011 to October 2012), whatever the window; pd-dismissals left out, as
    # this release's decision lookup has no C rows to decode dismissals from.
    long_run = pd.read_csv(out / "long_run.csv")
    assert long_run["month"].tolist() == ["2011-11", "2011-12"] + [f"2012-{month:02d}" for month in range(1, 11)]
    assert set(long_run["definition"]) == {"pd-closures"} and long_run["pd_closures"].sum() == 2  # Y in Nov, Oct
    assert list(run["timings_seconds"]) == [*stems, "report", "total"]
    assert run["timings_seconds"]["total"] >= sum(run["timings_seconds"][stem] for stem in stems)

    reports = paths.reports / "fy2012"
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        [f"{stem}.{ext}" for stem in stems for ext in ("ipynb", "html")] + ["report.html"]
    )
    text = (reports / "report.html").read_text(encoding="utf-8")
    assert "run <code>fy2012</code>" in text and "completions from 2011-10-01 to 2012-09-30" in text
    assert 'class="pd-synthetic"' not in text  # a real-format release, not the sample
    assert list((paths.figures / "fy2012").glob("*.png"))
    for notebook in paths.notebook_files():  # each got what its parameters cell declares, no more
        received = nbformat.read(reports / notebook.name, as_version=4).metadata["papermill"]["parameters"]
        assert set(received) == set(papermill.inspect_notebook(str(notebook))), notebook.name
        assert {k: v for k, v in values.items() if k in received} == {k: v for k, v in received.items() if k in values}
    for folder in (paths.processed, paths.figures, paths.reports):  # nothing staged is left behind
        assert [p.name for p in folder.iterdir()] == ["fy2012"]


def test_a_window_with_no_completions_runs_to_the_end_with_zero_counts(project):
    paths, release = project
    messages = []
    values = params.resolve(release=str(release), start="2020-01-01", end="2020-06-30", run="empty")
    out = pipeline.run(values, paths, log=messages.append)
    assert messages[1] == (
        "[empty] warning: the window 2020-01-01..2020-06-30 lies outside the release's "
        "completion dates (2011-11-01..2012-10-01); every count is zero"
    )
    national = pd.read_csv(out / "national.csv").iloc[0]
    assert (national["pd_closures"], national["completions"]) == (0, 0) and pd.isna(national["pd_rate"])
    assert pd.read_csv(out / "courts.csv").empty
    assert len(pd.read_csv(out / "months.csv")) == 6


def test_papermill_cli_yaml_and_p_parameters_survive_as_strings(project, tmp_path):
    """A user running notebooks with the papermill CLI: unquoted YAML dates, -p dates, YAML lists."""
    paths, release = project
    processed = tmp_path / "processed"
    preset = tmp_path / "my params.yaml"
    preset.write_text("start: 2011-10-01\npd_codes: [Y, M]\nmin_completions: 0\n")
    common = [
        "-p",
        "release",
        str(release),
        "-p",
        "interim_dir",
        str(tmp_path / "interim"),
        "-p",
        "processed_dir",
        str(processed),
        "-p",
        "figures_dir",
        str(tmp_path / "figures"),
    ]
    for notebook, extra in [("01_ingest", []), ("02_rates", ["-f", str(preset), "-p", "end", "2012-09-30"])]:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "papermill",
                str(paths.notebooks / f"{notebook}.ipynb"),
                str(tmp_path / f"{notebook}.ipynb"),
                "--cwd",
                str(paths.notebooks),
                "--no-progress-bar",
                *common,
                *extra,
            ],
            check=True,
            capture_output=True,
        )
    national = pd.read_csv(processed / "national.csv").iloc[0]
    assert (national["start"], national["end"]) == ("2011-10-01", "2012-09-30")
    assert (national["pd_closures"], national["completions"]) == (2, 4)  # rows 1 (Y) and 3 (M) of 1, 2, 3, 6


def test_cli_bad_parameter_is_one_line_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "pdclosures.pipeline", "--start", "2012-13-01"], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr == "error: START='2012-13-01': not a date; use YYYY-MM-DD, e.g. 2012-10-01\n"


# --------------------------------------------------------------------------------------------
# Stand-in notebooks: a real ingest, then cells that say what they received or fail on purpose

INGEST = (
    "from pdclosures import ingest\n"
    "ingest.write_ingest_outputs(ingest.ingest_release(release, interim_dir, progress=False), processed_dir)"
)


def stand_in(path, declared: dict, code: str):
    notebook = new_notebook(
        cells=[
            new_markdown_cell(f"# {path.stem} stand-in"),
            new_code_cell(
                "\n".join(f"{name} = {value!r}" for name, value in declared.items()), metadata={"tags": ["parameters"]}
            ),
            new_code_cell(code),
        ]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


def stand_ins(folder, last_code: str = "print('fine')"):
    """01 ingests; 02 declares three parameters and records them; 03 runs `last_code`."""
    folder.mkdir(parents=True)
    stand_in(folder / "01_ingest.ipynb", {"release": "", "interim_dir": "", "processed_dir": ""}, INGEST)
    stand_in(
        folder / "02_record.ipynb",
        {"start": "2000-01-01", "min_completions": 0, "figures_dir": ""},
        "import json, pathlib\n"
        "pathlib.Path(figures_dir, 'received.json').write_text(json.dumps([start, min_completions]))",
    )
    stand_in(folder / "03_last.ipynb", {"run": ""}, last_code)
    (folder / "notes.ipynb").write_text("not numbered: not part of the chain")
    return folder


@pytest.fixture()
def scratch(tmp_path):
    release = write_release(tmp_path / "release.zip", [proceeding_line(r) for r in ROWS], zipped=True)
    return tmp_path, release


def test_each_notebook_gets_only_the_parameters_its_cell_declares(scratch):
    root, release = scratch
    paths = pipeline.Paths(root / "project", notebooks=stand_ins(root / "notebooks"))
    pipeline.run(
        params.resolve(release=str(release), run="only", start="2011-10-01", min_completions=7), paths, log=quiet
    )
    received = {
        p.stem: nbformat.read(p, as_version=4).metadata["papermill"]["parameters"]
        for p in sorted((paths.reports / "only").glob("*.ipynb"))
    }
    staging = root / "project" / "data" / "processed" / ".only.tmp"
    assert received == {
        "01_ingest": {"release": str(release), "interim_dir": str(paths.interim), "processed_dir": str(staging)},
        "02_record": {"start": "2011-10-01", "min_completions": 7, "figures_dir": str(paths.figures / ".only.tmp")},
        "03_last": {"run": "only"},
    }
    assert json.loads((paths.figures / "only" / "received.json").read_text()) == ["2011-10-01", 7]


def test_a_failing_notebook_is_one_line_with_a_failed_copy_and_the_previous_outputs_intact(scratch):
    root, release = scratch
    good = pipeline.Paths(root / "project", notebooks=stand_ins(root / "good"))
    values = params.resolve(release=str(release), run="keep")
    pipeline.run(values, good, log=quiet)
    before = {
        folder: {p.name: p.read_bytes() for p in (good.root / folder / "keep").iterdir()}
        for folder in ["data/processed", "figures", "reports"]
    }

    bad = pipeline.Paths(good.root, notebooks=stand_ins(root / "bad", "raise RuntimeError('drawing broke')\n"))
    with pytest.raises(UserError) as error:
        pipeline.run(values, bad, log=quiet)
    assert type(error.value) is UserError
    assert str(error.value) == (
        "03_last.ipynb failed (RuntimeError: drawing broke); the executed notebook is in reports/keep.failed/"
    )
    failed = good.reports / "keep.failed"
    assert sorted(p.name for p in failed.iterdir()) == ["01_ingest.ipynb", "02_record.ipynb", "03_last.ipynb"]
    error_cells = [
        cell
        for cell in nbformat.read(failed / "03_last.ipynb", as_version=4).cells
        if any(out.get("ename") == "RuntimeError" for out in cell.get("outputs", []))
    ]
    assert len(error_cells) == 1

    after = {folder: {p.name: p.read_bytes() for p in (good.root / folder / "keep").iterdir()} for folder in before}
    assert after == before
    for folder in (good.processed, good.figures):
        assert [p.name for p in folder.iterdir()] == ["keep"]
    assert sorted(p.name for p in good.reports.iterdir()) == ["keep", "keep.failed"]

    pipeline.run(values, good, log=quiet)  # a later success: the stale copy goes
    assert [p.name for p in good.reports.iterdir()] == ["keep"]


def test_our_own_error_inside_a_notebook_is_its_one_line_without_a_failed_copy(scratch):
    root, release = scratch
    raising = "from pdclosures.errors import ReleaseError\nraise ReleaseError('x.zip: something the user can fix')"
    paths = pipeline.Paths(root / "project", notebooks=stand_ins(root / "notebooks", raising))
    with pytest.raises(ReleaseError) as error:
        pipeline.run(params.resolve(release=str(release), run="mine"), paths, log=quiet)
    assert str(error.value) == "x.zip: something the user can fix"
    for folder in (paths.processed, paths.figures, paths.reports):
        assert list(folder.iterdir()) == []
