"""A catalogue of bad parameters and broken inputs: each gets one clear line naming the parameter or
file, fails before any work where it can, and leaves no partial output behind."""

import hashlib
import shutil
import subprocess
import sys
import zipfile

import pytest
from tiny_release import lookup_tables, proceeding, proceeding_line, write_release

from pdclosures import params, pipeline, release_format
from pdclosures.errors import ParameterError, ReleaseError, UserError

LINES = [proceeding_line(proceeding(i, other="Y" if i % 2 else "")) for i in range(1, 30)]
HEADER = "\t".join(release_format.PROCEEDING_COLUMNS)

BAD_PARAMETERS = [
    (dict(start="2012-13-01"), r"^START='2012-13-01': not a date; use YYYY-MM-DD"),
    (dict(start="10/01/2012"), r"^START='10/01/2012': not a date"),
    (dict(end="2014-02-30"), r"^END='2014-02-30': not a date"),
    (dict(start="2014-01-01", end="2013-01-01"), r"^END=2013-01-01 is before START=2014-01-01$"),
    (dict(pd_codes="Y,Q"), r"^pd_codes: unknown code Q \(known: "),
    (dict(pd_codes=","), r"^pd_codes: give at least one code$"),
    (dict(pd_codes="Y,C"), r"^pd_codes and excluded_codes both contain C$"),
    (dict(excluded_codes="C,ZZ"), r"^excluded_codes: unknown code ZZ"),
    (dict(case_types="RMV,XXX"), r"^case_types: unknown code XXX"),
    (dict(unit="person"), r"^unit='person': use one of proceeding, case$"),
    (dict(min_completions=-5), r"^min_completions=-5: must be 0 or more$"),
    (dict(min_completions="ten"), r"^min_completions='ten': not a whole number$"),
    (dict(run="my run/1"), r"^RUN='my run/1': use letters, digits"),
    (dict(courts="SEA,S-E"), r"^courts: S-E is not a base-city code"),
]


@pytest.mark.parametrize("overrides, message", BAD_PARAMETERS, ids=[m for _, m in BAD_PARAMETERS])
def test_bad_parameter_is_named(overrides, message):
    with pytest.raises(ParameterError, match=message):
        params.resolve(**overrides)


@pytest.mark.parametrize(
    "text, message",
    [
        ("start: [2012", r"^PARAMS=.*bad.yaml: not valid YAML"),
        ("stat: 2012-10-01", r"^PARAMS=.*bad.yaml: unknown parameter stat"),
        ("- 2012-10-01", r"^PARAMS=.*bad.yaml: expected 'name: value' lines"),
    ],
)
def test_bad_preset_file(tmp_path, text, message):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ParameterError, match=message):
        params.resolve(tmp_path / "bad.yaml")


def test_missing_preset_file(tmp_path):
    with pytest.raises(ParameterError, match=r"^PARAMS=.*nope.yaml: preset file not found"):
        params.resolve(tmp_path / "nope.yaml")


def test_unquoted_yaml_dates_in_a_preset_are_read_as_dates(tmp_path):
    (tmp_path / "p.yaml").write_text("start: 2011-10-01\nend: 2012-09-30\npd_codes: [Y, M]\n")
    values = params.resolve(tmp_path / "p.yaml")
    assert (values["start"], values["end"], values["pd_codes"], values["run"]) == (
        "2011-10-01",
        "2012-09-30",
        "Y,M",
        "p",
    )


def broken_releases(tmp_path):
    """name -> (release path, expected message): every way a release file can be unusable."""
    good_zip = write_release(tmp_path / "good.zip", LINES, zipped=True)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good_zip.read_bytes()[: good_zip.stat().st_size // 2])
    text = tmp_path / "notes.zip"
    text.write_text("this is not a zip\n")

    def table(name, data: bytes):
        return write_release(tmp_path / name, data)

    def lookup(name, table_name, lines):
        return write_release(tmp_path / name, LINES, lookups={table_name: lines})

    tsv = "".join(line + "\r\n" for line in [HEADER, *LINES])
    base_header, *base_rows = lookup_tables()[release_format.BASE_CITY_TABLE]
    return {
        "missing path": (tmp_path / "nowhere" / "EOIR Case Data.zip", r"EOIR Case Data.zip: release not found"),
        "not a zip": (text, r"notes.zip: not a zip file \(or a truncated one\)"),
        "truncated zip": (truncated, r"truncated.zip: not a zip file \(or a truncated one\)"),
        "no proceeding table": (
            write_release(tmp_path / "noproc.zip", LINES, zipped=True, drop_tables=(release_format.PROCEEDING_TABLE,)),
            r"noproc.zip: no B_TblProceeding table found",
        ),
        "no lookup table": (
            write_release(tmp_path / "nohloc", LINES, drop_tables=(release_format.HLOC_TABLE,)),
            r"nohloc: no tblLookupHloc table found",
        ),
        "empty table": (table("empty", b""), r"B_TblProceeding.csv: empty file \(no header line\)"),
        "header only": (
            table("header", (HEADER + "\r\n").encode()),
            r"B_TblProceeding.csv: has a header but no data lines",
        ),
        "binary": (table("binary", bytes(range(256)) * 40), r"B_TblProceeding.csv: header is not text"),
        "utf-16": (table("utf16", tsv.encode("utf-16")), r"B_TblProceeding.csv: looks like UTF-16 text"),
        "comma-separated": (
            table("comma", tsv.replace("\t", ",").encode()),
            r"B_TblProceeding.csv: header is comma-separated; expected TAB-delimited",
        ),
        "renamed column": (
            table("renamed", tsv.replace("OTHER_COMP", "OTHERCOMP", 1).encode()),
            r"B_TblProceeding.csv: missing column OTHER_COMP",
        ),
        "lookup column renamed": (
            lookup(
                "lookupcol", release_format.BASE_CITY_TABLE, [base_header.replace("BASE_STATE", "STATE"), *base_rows]
            ),
            r"tblLookupBaseCity.csv: missing column BASE_STATE",
        ),
    }


CASES = [
    "missing path",
    "not a zip",
    "truncated zip",
    "no proceeding table",
    "no lookup table",
    "empty table",
    "header only",
    "binary",
    "utf-16",
    "comma-separated",
    "renamed column",
    "lookup column renamed",
]


@pytest.mark.parametrize("case", CASES)
def test_broken_release_fails_with_its_file_named_and_leaves_nothing(tmp_path, case):
    release, message = broken_releases(tmp_path)[case]
    paths = pipeline.Paths(tmp_path / "project", notebooks=pipeline.PROJECT_ROOT / "notebooks")
    with pytest.raises(ReleaseError, match=message):
        pipeline.run(params.resolve(release=str(release), run="broken"), paths, log=lambda *_: None)
    for folder in (paths.processed, paths.figures, paths.reports, paths.interim):
        assert not folder.exists() or not any(folder.iterdir()), folder


def test_a_bad_input_after_a_good_run_leaves_its_outputs_as_they_were(tmp_path):
    notebooks = tmp_path / "notebooks"  # the real ingest only: enough for a run to publish
    notebooks.mkdir()
    shutil.copy(pipeline.PROJECT_ROOT / "notebooks" / "01_ingest.ipynb", notebooks)
    paths = pipeline.Paths(tmp_path / "project", notebooks=notebooks)
    good = write_release(tmp_path / "good.zip", LINES, zipped=True)
    pipeline.run(params.resolve(release=str(good), run="keep"), paths, log=lambda *_: None)

    def outputs():
        return {
            p.relative_to(paths.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(paths.root.rglob("*"))
            if p.is_file() and "interim" not in p.parts
        }

    before = outputs()
    assert "data/processed/keep/run.json" in before and "reports/keep/report.html" in before
    renamed = write_release(
        tmp_path / "renamed",
        "".join(line + "\r\n" for line in [HEADER.replace("OTHER_COMP", "OTHERCOMP", 1), *LINES]).encode(),
    )
    with pytest.raises(ReleaseError, match="missing column OTHER_COMP"):
        pipeline.run(params.resolve(release=str(renamed), run="keep"), paths, log=lambda *_: None)
    with pytest.raises(ParameterError, match="ABC is not a court"):
        pipeline.run(params.resolve(release=str(good), run="keep", courts="ABC"), paths, log=lambda *_: None)
    assert outputs() == before


def test_unknown_court_fails_before_any_notebook(tmp_path):
    release = write_release(tmp_path / "r.zip", LINES, zipped=True)
    paths = pipeline.Paths(tmp_path / "project", notebooks=pipeline.PROJECT_ROOT / "notebooks")
    with pytest.raises(ParameterError, match=r"^courts: ABC is not a court in this release's tblLookupBaseCity$"):
        pipeline.run(params.resolve(release=str(release), courts="SEA,ABC"), paths, log=lambda *_: None)
    assert not paths.processed.exists() or not any(paths.processed.iterdir())


@pytest.mark.slow
def test_corrupt_member_data_fails_during_ingest_with_the_file_named(tmp_path):
    """Central directory intact, compressed bytes damaged: found only when the table is read."""
    lines = [proceeding_line(proceeding(i, other="Y" if i % 2 else "", NAT=f"N{i % 97}")) for i in range(1, 20000)]
    release = write_release(tmp_path / "damaged.zip", lines, zipped=True)
    with zipfile.ZipFile(release) as archive:
        info = archive.getinfo(f"EOIR Case Data/{release_format.PROCEEDING_TABLE}.csv")
    data = bytearray(release.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    middle = start + info.compress_size // 2
    data[middle : middle + 64] = bytes(64)
    release.write_bytes(bytes(data))
    paths = pipeline.Paths(tmp_path / "project", notebooks=pipeline.PROJECT_ROOT / "notebooks")
    with pytest.raises(UserError, match=r"damaged.zip:EOIR Case Data/B_TblProceeding.csv: cannot read"):
        pipeline.run(params.resolve(release=str(release), run="damaged"), paths, log=lambda *_: None)
    for folder in (paths.processed, paths.figures, paths.reports):  # nothing staged left, no .failed copy
        assert list(folder.iterdir()) == []


def test_cli_prints_one_line_for_a_broken_release(tmp_path):
    not_a_zip = tmp_path / "EOIR Case Data.zip"
    not_a_zip.write_text("hello")
    result = subprocess.run(
        [sys.executable, "-m", "pdclosures.pipeline", "--release", str(not_a_zip)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {not_a_zip}: not a zip file")


def test_a_window_outside_the_data_is_a_warning_not_a_failure():
    manifest = {"data_from": "2010-10-01", "data_through": "2015-09-30"}
    outside = params.parse_window("2020-01-01", "2020-12-31")
    assert params.coverage_warning(outside, manifest) == (
        "warning: the window 2020-01-01..2020-12-31 lies outside the release's completion dates "
        "(2010-10-01..2015-09-30); every count is zero"
    )
    assert params.coverage_warning(params.parse_window("2015-09-01", "2016-12-31"), manifest) is None
