"""`make compare` end to end: the notebook run by the pipeline on two tiny releases, published like a
run; bad inputs refused in one line before any work; the later synthetic sample derived from any
release, its planted truth found exactly, and the committed one what `make sample-later` makes now."""

import hashlib
import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from test_compare import EXPECTED_DIFF, OLD, later_rows
from tiny_release import proceeding, proceeding_line, write_release

from pdclosures import compare, ingest, later_release, params, pipeline
from pdclosures.errors import ReleaseError, UserError

pytestmark = pytest.mark.slow


def quiet(*_):
    pass


@pytest.fixture()
def project(tmp_path):
    old = write_release(
        tmp_path / "in put" / "old" / "EOIR Case Data.zip", [proceeding_line(r) for r in OLD], zipped=True
    )
    new = write_release(
        tmp_path / "in put" / "new" / "eoir later.zip", [proceeding_line(r) for r in later_rows()], zipped=True
    )
    return pipeline.Paths(tmp_path / "project", notebooks=pipeline.PROJECT_ROOT / "notebooks"), old, new


def test_make_compare_publishes_the_tables_the_figure_the_report_and_run_json(project):
    paths, old, new = project
    values = compare.resolve(old=str(old), new=str(new), start="2012-10-01", end="2013-09-30")
    messages = []
    out = compare.run_compare(values, paths, log=messages.append)
    name = f"{compare.release_id(old)}_vs_{compare.release_id(new)}"  # the default RUN names both ids
    assert out == paths.processed / name and name.startswith("eoir-case-data-") and "_vs_eoir-later-" in name
    assert messages[0] == f"[{name}] compare_releases ..." and messages[-1].startswith(f"[{name}] done in ")

    diff = pd.read_csv(out / "proceedings_diff.csv")
    assert dict(zip(diff["change"], diff["proceedings"])) == EXPECTED_DIFF
    national = pd.read_csv(out / "national_compare.csv")
    assert national[["pd_closures", "completions"]].values.tolist() == [[4, 10], [6, 9], [2, -1]]
    assert pd.read_csv(out / "courts_compare.csv")["base_city_code"].tolist() == ["NYC", "SEA", "TUC", "HOU"]
    assert len(pd.read_csv(out / "changed_proceedings_sample.csv")) == sum(EXPECTED_DIFF.values())

    run = json.loads((out / "run.json").read_text())
    assert run["parameters"]["old"] == str(old) and run["parameters"]["new"] == str(new)
    assert run["parameters"]["run"] == name and "release" not in run["parameters"]
    for side, path in (("old", old), ("new", new)):
        assert run["releases"][side]["checksum_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert run["releases"][side]["release_id"] == compare.release_id(path)
        assert run["release_paths"][side] == str(path)
    assert run["synthetic_sample"] is False and "warning" not in run
    assert list(run["timings_seconds"]) == ["compare_releases", "report", "total"]

    assert sorted(p.name for p in (paths.figures / name).iterdir()) == [
        f"compare_courts_change.{ext}" for ext in ("pdf", "png", "svg")
    ]
    report = (paths.reports / name / "report.html").read_text(encoding="utf-8")
    assert re.search(r"Release:</strong> EOIR Case Data\.zip[^<]* \(old\) and eoir later\.zip[^<]* \(new\)", report)
    for folder in (paths.processed, paths.figures, paths.reports):  # nothing staged is left behind
        assert [p.name for p in folder.iterdir()] == [name]

    def outputs():
        files = [*out.glob("*.csv"), *(paths.figures / name).iterdir()]
        return {p.name: p.read_bytes() for p in files}

    first = outputs()
    compare.run_compare(values, paths, log=quiet)  # again: the same bytes, published over the first
    assert outputs() == first and len(first) == 8


def test_the_same_release_twice_says_so_and_compares_nothing(project, tmp_path):
    paths, old, _ = project
    copy = tmp_path / "copy.zip"
    copy.write_bytes(old.read_bytes())
    for other in (old, copy):
        with pytest.raises(UserError, match=r"^OLD and NEW are the same release \(.*\): nothing to compare$"):
            compare.run_compare(compare.resolve(old=str(old), new=str(other)), paths, log=quiet)
    assert not paths.root.exists()  # no cache, no output folder


def test_an_unreadable_release_fails_before_any_work_in_one_line(project, tmp_path):
    paths, old, _ = project
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ReleaseError, match=r"^NEW=.*broken\.zip: not a zip file") as error:
        compare.run_compare(compare.resolve(old=str(old), new=str(broken)), paths, log=quiet)
    assert "\n" not in str(error.value)
    with pytest.raises(ReleaseError, match=r"^OLD=.*missing\.zip: release not found"):
        compare.run_compare(compare.resolve(old=str(tmp_path / "missing.zip"), new=str(old)), paths, log=quiet)
    assert not paths.root.exists()
    result = subprocess.run(
        [sys.executable, "-m", "pdclosures.compare", "--old", str(old), "--new", str(broken)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and result.stderr.startswith("error: NEW=")


def test_bad_parameters_are_refused_by_name():
    with pytest.raises(Exception, match="END=2012-01-01 is before START=2013-01-01"):
        compare.resolve(start="2013-01-01", end="2012-01-01")
    with pytest.raises(Exception, match="unknown parameter release"):
        compare.resolve(release="x.zip")


def test_a_later_release_derived_from_a_tiny_one_is_found_exactly(tmp_path):
    """Every proceeding well formed: the derivation's own truth (the default window) is what compare finds."""
    rows = [
        proceeding(
            i,
            court=["SEA", "TUC", "HOU", "NYC"][i % 4],
            comp=f"{2012 + i % 3}-{1 + i % 12:02d}-{1 + i % 28:02d}" if i % 7 else "",
            other=["Y", "", "", "C", "M", "", "T", ""][i % 8],
            dec="" if i % 8 in (0, 3, 4, 6) else "X",
        )
        for i in range(1, 1001)
    ]
    source = write_release(tmp_path / "tiny.zip", [proceeding_line(r) for r in rows], zipped=True)
    later = tmp_path / "tiny_later.zip"
    manifest = later_release.derive_later_release(source, later, seed=7)
    assert manifest["changes"] == {"removed": 15, "recoded": 5, "date_moved": 10, "court_changed": 5, "added": 20}
    again = later_release.derive_later_release(source, tmp_path / "again.zip", seed=7)
    assert (tmp_path / "again.zip").read_bytes() == later.read_bytes() and again["truth"] == manifest["truth"]

    interim = tmp_path / "interim"
    pair = [ingest.ingest_release(path, interim, progress=False) for path in (source, later)]
    assert pair[1].synthetic and not pair[0].synthetic  # the derived release is labelled synthetic
    window = params.parse_window(manifest["truth"]["start"], manifest["truth"]["end"])
    tables = compare.Comparison(pair[0], pair[1], window).all_tables()
    diff = tables["proceedings_diff"]
    assert dict(zip(diff["change"], diff["proceedings"])) == manifest["truth"]["proceedings_diff"]
    assert sum(manifest["truth"]["proceedings_diff"].values()) > 10
    difference = tables["national_compare"].set_index("release").loc["difference"]
    assert {k: int(difference[k]) for k in ("pd_closures", "completions")} == manifest["truth"]["national_difference"]
    accounting = pair[1].accounting.set_index("table").loc["B_TblProceeding"]
    assert accounting["lines"] == 1000 - 15 + 20 and accounting["quarantined"] == 0

    folder = tmp_path / "tiny_later_folder"  # a name without .zip: an unpacked folder (make bench's)
    assert later_release.derive_later_release(source, folder, seed=7)["truth"] == manifest["truth"]
    unpacked = ingest.ingest_release(folder, interim, progress=False)
    assert unpacked.synthetic and (folder / "manifest.json").is_file()
    again = compare.Comparison(pair[0], unpacked, window).proceedings_diff()
    assert dict(zip(again["change"], again["proceedings"])) == manifest["truth"]["proceedings_diff"]


def test_the_committed_later_sample_is_what_make_sample_later_makes_from_the_sample(tmp_path):
    """After the sample changes, `make sample-later` (and a commit of both files) brings this back."""
    root = pipeline.PROJECT_ROOT
    committed = root / compare.SAMPLE_LATER_RELEASE
    manifest = later_release.derive_later_release(root / params.SAMPLE_RELEASE, tmp_path / committed.name)
    assert (tmp_path / committed.name).read_bytes() == committed.read_bytes(), "run make sample-later"
    stored = json.loads(committed.with_name(committed.stem + "_manifest.json").read_text())
    assert stored == manifest


def test_the_sample_pair_compares_to_the_planted_truth(tmp_path):
    root = pipeline.PROJECT_ROOT
    later = root / compare.SAMPLE_LATER_RELEASE
    manifest = json.loads(later.with_name(later.stem + "_manifest.json").read_text())
    sample_sha256 = hashlib.sha256((root / params.SAMPLE_RELEASE).read_bytes()).hexdigest()
    assert manifest["derived_from"]["checksum_sha256"] == sample_sha256, "the sample changed: run make sample-later"
    truth = manifest["truth"]
    pair = [ingest.ingest_release(p, tmp_path, progress=False) for p in (root / params.SAMPLE_RELEASE, later)]
    assert all(r.synthetic for r in pair)
    tables = compare.Comparison(*pair, params.parse_window(truth["start"], truth["end"])).all_tables()
    diff = tables["proceedings_diff"]
    assert dict(zip(diff["change"], diff["proceedings"])) == truth["proceedings_diff"]
    difference = tables["national_compare"].set_index("release").loc["difference"]
    assert {k: int(difference[k]) for k in ("pd_closures", "completions")} == truth["national_difference"]
