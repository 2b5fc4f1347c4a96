"""The synthetic release generator: determinism, layout and format, and a manifest that agrees
with the files it describes (checked by a simple parse written here, not the pipeline's)."""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from pdclosures import release_format, sample

REPO = Path(__file__).resolve().parents[1]
COMMITTED_ZIP = REPO / "data" / "sample" / "eoir_synthetic_sample.zip"
COMMITTED_MANIFEST = REPO / "data" / "sample" / sample.MANIFEST_NAME
ROOT = sample.RELEASE_ROOT
LOOKUP_COLUMNS = release_format.LOOKUP_COLUMNS
MEMBER_ORDER = [
    sample.README_NAME,
    f"{ROOT}/Count.txt",
    f"{ROOT}/{release_format.PROCEEDING_TABLE}.csv",
    *(f"{ROOT}/Lookup/{table}.csv" for table in LOOKUP_COLUMNS),
]
DATE_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) 00:00:00\.000$")


@pytest.fixture(scope="module")
def default_sample(tmp_path_factory):
    """The default sample, generated once for the tests of this module: (zip path, manifest)."""
    path = tmp_path_factory.mktemp("sample") / "eoir_synthetic_sample.zip"
    return path, sample.write_sample_release(path)


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _data_lines(raw: bytes) -> list[str]:
    text = raw.decode(release_format.ENCODING)
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")[1:]


def _valid_date(text: str) -> date | None:
    """A release date that is real and after 1900, else None (junk)."""
    match = DATE_TEXT.match(text)
    if not match:
        return None
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return day if day.year > 1900 else None


def _proceedings(lines: list[str], columns: list[str]):
    """Rows as {column: cleaned value}: 38-field lines as they are, 39-field lines without the
    stray field, other lines skipped."""
    positions = [release_format.PROCEEDING_COLUMNS.index(column) for column in columns]
    for line in lines:
        fields = line.split("\t")
        if len(fields) == len(release_format.PROCEEDING_COLUMNS) + 1:
            # Where the generator plants the stray field: after IDNCASE (OSC_DATE is then empty
            # and INPUT_DATE holds OSC_DATE's date), or right before COMP_DATE.
            del fields[2 if fields[2] == "" else COMP]
        if len(fields) == len(release_format.PROCEEDING_COLUMNS):
            yield {column: fields[i].replace("\x00", "").strip() for column, i in zip(columns, positions)}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    paths = [tmp_path / name for name in ("a.zip", "b.zip", "c.zip")]
    for path, seed in zip(paths, (7, 7, 8)):
        sample.write_sample_release(path, seed=seed, proceedings=5_000, manifest_path=path.with_suffix(".json"))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    assert paths[0].with_suffix(".json").read_text() == paths[1].with_suffix(".json").read_text()


def test_zip_has_the_release_layout_and_file_format(default_sample):
    path, _ = default_sample
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == MEMBER_ORDER
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_DEFLATED}
    members = _members(path)
    assert "not EOIR data" in members[sample.README_NAME].decode(release_format.ENCODING)
    tables = {
        f"{ROOT}/{release_format.PROCEEDING_TABLE}.csv": release_format.PROCEEDING_COLUMNS,
        **{f"{ROOT}/Lookup/{table}.csv": columns for table, columns in LOOKUP_COLUMNS.items()},
    }
    for name, columns in tables.items():
        raw = members[name]
        raw.decode(release_format.ENCODING)
        assert raw.count(b"\n") == raw.count(b"\r\n"), f"{name}: a line end that is not CRLF"
        assert b'"' not in raw, f"{name}: quoting"
        header = raw[: raw.index(b"\r\n")].decode(release_format.ENCODING)
        assert header.split("\t") == columns, name
    base_city = [
        line.split("\t") for line in _data_lines(members[f"{ROOT}/Lookup/{release_format.BASE_CITY_TABLE}.csv"])
    ]
    assert {row[2] for row in base_city} == {"IMMIGRATION COURT"}
    assert {row[1] for row in base_city} >= {"SEA", "TUC", "HDQ", "BIA"}


def test_manifest_agrees_with_the_files(default_sample):
    path, manifest = default_sample
    members = _members(path)
    lines = _data_lines(members[f"{ROOT}/{release_format.PROCEEDING_TABLE}.csv"])
    field_counts = Counter(line.count("\t") + 1 for line in lines)
    expected = manifest["proceedings_lines"]
    assert {str(k): v for k, v in field_counts.items()} == expected["lines_by_field_count"]
    assert len(lines) == expected["lines"] == expected["expected_loaded"] + expected["expected_quarantined"]
    assert expected["expected_repaired"] == field_counts[39] >= 15
    assert 3 <= expected["expected_quarantined"] <= 5
    nul_lines = sum("\x00" in line for line in lines)
    assert nul_lines == manifest["quirks"]["lines_with_nul"] > 0
    assert any(line.split("\t")[4].endswith(" ") for line in lines if line.count("\t") == 37)

    count_lines = members[f"{ROOT}/Count.txt"].decode(release_format.ENCODING).splitlines()
    counts = dict(line.split("\t") for line in count_lines)
    assert int(counts[release_format.PROCEEDING_TABLE]) == len(lines)
    for table in LOOKUP_COLUMNS:
        physical = len(_data_lines(members[f"{ROOT}/Lookup/{table}.csv"]))
        assert physical == manifest["tables"][table]["physical_data_lines"]
        assert int(counts[table]) == manifest["tables"][table]["rows"]
    assert manifest["synthetic"] is True and "not EOIR data" in manifest["warning"]


def test_planted_truth_matches_a_simple_count_of_the_file(default_sample):
    path, manifest = default_sample
    lines = _data_lines(_members(path)[f"{ROOT}/{release_format.PROCEEDING_TABLE}.csv"])
    rows = list(_proceedings(lines, [*sample.JUNK_DATE_COLUMNS, "OTHER_COMP", "BASE_CITY_CODE"]))
    assert len(rows) == manifest["proceedings_lines"]["expected_loaded"]
    junk = Counter(
        column
        for row in rows
        for column in sample.JUNK_DATE_COLUMNS
        if row[column] and _valid_date(row[column]) is None
    )
    assert dict(junk) == manifest["quirks"]["junk_dates"]
    national = Counter()
    by_court = Counter()
    start, end = date(2012, 10, 1), date(2014, 3, 31)
    for row in rows:
        day = _valid_date(row["COMP_DATE"])
        if day is None or not start <= day <= end or row["OTHER_COMP"] in ("C", "T"):
            continue
        is_pd = row["OTHER_COMP"] in ("Y", "M", "I")
        national["completions"] += 1
        national["pd_closures"] += is_pd
        by_court[row["BASE_CITY_CODE"], "completions"] += 1
        by_court[row["BASE_CITY_CODE"], "pd_closures"] += is_pd
    truth = manifest["truth"]
    assert dict(national) == truth["national"]["trac-2014"]
    for court, counts in truth["by_court"]["trac-2014"].items():
        assert counts == {key: by_court[court, key] for key in ("pd_closures", "completions")}, court


def _dismissal_codes(members: dict[str, bytes]) -> dict[str, set[str]]:
    """{case type: DEC_CODE letters} whose decision-lookup row (strDecType C) says dismissed."""
    found = {}
    for line in _data_lines(members[f"{ROOT}/Lookup/{release_format.DECISION_TABLE}.csv"]):
        fields = dict(zip(release_format.DECISION_COLUMNS, line.split("\t")))
        if fields.get("strDecType") == "C" and "dismiss" in fields["strDecDescription"].lower():
            found.setdefault(fields["strCaseType"], set()).add(fields["strDecCode"])
    return found


def test_planted_truth_of_both_definitions_and_the_new_columns_matches_a_simple_count(default_sample):
    path, manifest = default_sample
    members = _members(path)
    dismissals = _dismissal_codes(members)
    truth = manifest["truth"]
    assert {k: set(v) for k, v in truth["definition_codes"].items()} == dismissals
    lines = _data_lines(members[f"{ROOT}/{release_format.PROCEEDING_TABLE}.csv"])
    columns = [*sample.JUNK_DATE_COLUMNS, "OTHER_COMP", "DEC_CODE", "CASE_TYPE", "NAT", "CUSTODY"]
    windows = {name: [date.fromisoformat(d) for d in days] for name, days in manifest["windows"].items()}
    national, long_run, groups, pending = Counter(), Counter(), Counter(), Counter()
    for row in _proceedings(lines, columns):
        day = _valid_date(row["COMP_DATE"])
        received = _valid_date(row["INPUT_DATE"]) or _valid_date(row["OSC_DATE"])
        is_pd = row["OTHER_COMP"] in ("Y", "M", "I")
        pd_closure = {
            "pd-closures": is_pd,
            "pd-dismissals": is_pd or row["DEC_CODE"] in dismissals.get(row["CASE_TYPE"], ()),
        }
        completion = day is not None and row["OTHER_COMP"] not in ("C", "T")
        for name, (start, end) in windows.items():
            if received is not None and received < start and (day is None or day >= start):
                pending[name, row["NAT"], "pending_at_start"] += 1
                pending[name, row["NAT"], "pd_closures"] += bool(day and day <= end and is_pd)
            if not completion or not start <= day <= end:
                continue
            for definition, flag in pd_closure.items():
                national[name, definition, "completions"] += 1
                national[name, definition, "pd_closures"] += flag
            for group, key in (("nationalities", "NAT"), ("custody", "CUSTODY"), ("case_types", "CASE_TYPE")):
                groups[group, name, row[key], "completions"] += 1
                groups[group, name, row[key], "pd_closures"] += is_pd
        if completion:
            for definition, flag in pd_closure.items():
                long_run[definition, day.strftime("%Y-%m"), "completions"] += 1
                long_run[definition, day.strftime("%Y-%m"), "pd_closures"] += flag
    keys = ("pd_closures", "completions")
    for name, by_definition in truth["national_by_definition"].items():
        for definition, planted in by_definition.items():
            assert planted == {k: national[name, definition, k] for k in keys}, (name, definition)
        assert truth["national"][name] == by_definition["pd-closures"]
    for definition, months in truth["long_run"].items():
        for month, planted in months.items():
            assert planted == {k: long_run[definition, month, k] for k in keys}, (definition, month)
    for group in ("nationalities", "custody", "case_types"):
        for name, planted in truth[group].items():
            found = {code for g, n, code, _ in groups if g == group and n == name}
            assert set(planted) == found, (group, name)
            for code, value in planted.items():
                assert value == {k: groups[group, name, code, k] for k in keys}, (group, name, code)
    for name, planted in truth["pending_by_nationality"].items():
        for nat, value in planted.items():
            assert value == {k: pending[name, nat, k] for k in ("pending_at_start", "pd_closures")}, (name, nat)
        assert sum(v["pending_at_start"] for v in planted.values()) == sum(
            count for (n, _, k), count in pending.items() if n == name and k == "pending_at_start"
        )


def test_the_new_code_columns_carry_real_codes_with_padding_and_nul_bytes(default_sample):
    path, manifest = default_sample
    members = _members(path)
    lines = [line.split("\t") for line in _data_lines(members[f"{ROOT}/{release_format.PROCEEDING_TABLE}.csv"])]
    lines = [fields for fields in lines if len(fields) == len(release_format.PROCEEDING_COLUMNS)]
    for column, table, key in [
        ("NAT", release_format.NATIONALITY_TABLE, "NAT_CODE"),
        ("CUSTODY", release_format.CUSTODY_TABLE, "strCode"),
        ("LANG", release_format.LANGUAGE_TABLE, "strCode"),
    ]:
        position = release_format.PROCEEDING_COLUMNS.index(column)
        raw = [fields[position] for fields in lines]
        lookup = _data_lines(members[f"{ROOT}/Lookup/{table}.csv"])
        index = LOOKUP_COLUMNS[table].index(key)
        codes = {row.split("\t")[index] for row in lookup}
        assert {value.replace("\x00", "").strip() for value in raw} - {""} == codes, column
        quirks = manifest["quirks"]
        assert sum(value.endswith(" ") for value in raw) == quirks["space_padded_fields"][column] > 0, column
        assert sum("\x00" in value for value in raw) == quirks["nul_fields"][column] > 0, column
    assert {"MX", "CH", "KS", "CM", "IN"} <= set(manifest["truth"]["pending_by_nationality"]["trac-2012-nationality"])


COMP = release_format.PROCEEDING_COLUMNS.index("COMP_DATE")


def test_tab_shifted_lines_have_one_well_formed_realignment(default_sample):
    path, manifest = default_sample
    lines = _data_lines(_members(path)[f"{ROOT}/{release_format.PROCEEDING_TABLE}.csv"])
    shifted = [line.split("\t") for line in lines if line.count("\t") == 38]
    before_comp = [fields for fields in shifted if fields[2] != ""]
    # Some strays sit before COMP_DATE, as in the real release: a date right after an empty field
    # where COMP_DATE belongs, and the OTHER_COMP and APPEAL_RSVD that a removal further left would
    # slide into OTHER_COMP both empty, so that every such removal gives the same kept values.
    assert len(before_comp) == manifest["quirks"]["tab_shifted_lines"]["before_comp_date"] > 0
    for fields in before_comp:
        assert fields[COMP] == "" and _valid_date(fields[COMP + 1])
        other_comp = release_format.PROCEEDING_COLUMNS.index("OTHER_COMP")
        assert fields[other_comp] == fields[other_comp + 1] == ""
        # Removing a field after the stray instead would put the date in ABSENTIA.
        assert not re.fullmatch(r"[A-Za-z0-9 ]{0,12}", fields[COMP + 1])
    for fields in shifted:
        if fields[2] != "":
            continue
        assert fields[2] == ""
        repaired = dict(zip(release_format.PROCEEDING_COLUMNS, fields[:2] + fields[3:]))
        assert _valid_date(repaired["OSC_DATE"]) and _valid_date(repaired["INPUT_DATE"])
        assert re.fullmatch(r"[A-Z]{3}", repaired["BASE_CITY_CODE"])
        # Removing any later empty field instead would leave a date in BASE_CITY_CODE.
        later_empty = [i for i, value in enumerate(fields) if value == "" and i > 2]
        for position in later_empty:
            wrong = fields[:position] + fields[position + 1 :]
            assert _valid_date(wrong[release_format.PROCEEDING_COLUMNS.index("BASE_CITY_CODE")])


def test_committed_sample_is_what_the_generator_makes_now(default_sample):
    regenerated, _ = default_sample
    # Compare the members' bytes and entries, not the compressed stream, which depends on the
    # zlib build (e.g. zlib-ng) rather than on the generator.
    with zipfile.ZipFile(COMMITTED_ZIP) as committed, zipfile.ZipFile(regenerated) as fresh:
        assert [(i.filename, i.date_time) for i in committed.infolist()] == [
            (i.filename, i.date_time) for i in fresh.infolist()
        ]
    assert _members(COMMITTED_ZIP) == _members(regenerated), (
        "data/sample is stale: python -m pdclosures.sample --out data/sample/eoir_synthetic_sample.zip"
    )
    assert (regenerated.parent / sample.MANIFEST_NAME).read_text() == COMMITTED_MANIFEST.read_text()


def test_committed_sample_is_calibrated_to_trac_figures():
    truth = json.loads(COMMITTED_MANIFEST.read_text())["truth"]

    def rate(counts):
        return 100 * counts["pd_closures"] / counts["completions"]

    assert 6.3 <= rate(truth["national"]["trac-2014"]) <= 7.2
    courts = truth["by_court"]["trac-2014"]
    for court, low, high in [
        ("SEA", 27, 33),
        ("TUC", 27, 33),
        ("LOS", 22, 26),
        ("OMA", 20, 26),
        ("PHO", 18.5, 23.5),
        ("HOU", 0, 3),
        ("BUF", 0, 3),
        ("ELP", 0, 3),
        ("NYC", 3, 4),
        ("SNA", 3, 4),
        ("LVG", 3, 4),
        ("NEW", 3, 4),
        ("CHI", 4, 6),
        ("MIA", 5, 7),
    ]:
        assert low <= rate(courts[court]) <= high, court
        assert courts[court]["completions"] >= 40, court
    # Seattle and Tucson are ranked (at least 100 completions, the pipeline's min_completions).
    assert courts["SEA"]["completions"] >= 120 and courts["TUC"]["completions"] >= 120


def test_committed_sample_is_a_scale_model_of_each_era():
    manifest = json.loads(COMMITTED_MANIFEST.read_text())
    truth, scale = manifest["truth"], manifest["scale"]
    assert scale == sample.SAMPLE_SCALE == 50 and manifest["synthetic"] is True
    national = truth["national"]
    # TRAC's 6.7% for October 2012 to March 2014 (to one decimal, as the validation compares it).
    assert 6.65 <= 100 * national["trac-2014"]["pd_closures"] / national["trac-2014"]["completions"] < 6.75
    # Completions per fiscal year: TRAC report 339's totals at the planted scale, within 5%.
    for fy, published in (("FY2012", 206_330), ("FY2013", 191_803)):
        assert abs(truth["by_fiscal_year"][fy]["completions"] * scale / published - 1) < 0.05, fy
    long_run = truth["long_run"]

    def per_month(definition, first, last):
        months = [m for m in long_run[definition] if first <= m <= last]
        return scale * sum(long_run[definition][m]["pd_closures"] for m in months) / len(months)

    assert list(long_run["pd-closures"])[0] == "2011-10" and list(long_run["pd-closures"])[-1] == "2025-09"
    assert 2_000 <= per_month("pd-closures", "2016-02", "2016-06") <= 2_800  # report 474: about 2,400
    assert per_month("pd-closures", "2017-02", "2017-06") < 100  # report 474: fewer than 100
    assert per_month("pd-closures", "2017-02", "2021-05") < 100
    # June 2021 to January 2025: PD as dismissals; few after.
    doyle = truth["national_by_definition"]["doyle"]
    assert doyle["pd-dismissals"]["pd_closures"] > 20 * doyle["pd-closures"]["pd_closures"]
    assert per_month("pd-dismissals", "2025-02", "2025-09") < per_month("pd-dismissals", "2022-04", "2023-09") / 3
    # The same letter is a dismissal in one case type and not in another: U for removal, D for
    # deportation (where U is a deportation order); D is "Deny" in asylum-only cases.
    codes = truth["definition_codes"]
    assert codes["RMV"] == ["U"] and codes["DEP"] == ["D"] and "D" not in codes["AOC"] and "EXC" not in codes
    # TRAC's 2012 nationality figures (pending basis): Mexico and South Korea well above China and India.
    pending = truth["pending_by_nationality"]["trac-2012-nationality"]

    def share(nat):
        return pending[nat]["pd_closures"] / pending[nat]["pending_at_start"]

    assert min(share("MX"), share("KS")) > 2 * max(share("CH"), share("IN"))
    assert 1.5 <= 100 * share("MX") <= 3.5


def test_full_scale_mode_writes_a_folder_with_a_consistent_manifest(tmp_path):
    manifest = sample.write_full_scale_release(tmp_path, proceedings=50_000, seed=3)
    assert not list(tmp_path.glob("*.zip"))
    for name in MEMBER_ORDER:
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / sample.MANIFEST_NAME).read_text()) == manifest
    lines = _data_lines((tmp_path / ROOT / f"{release_format.PROCEEDING_TABLE}.csv").read_bytes())
    assert len(lines) == 50_000 == manifest["proceedings"]
    field_counts = Counter(str(line.count("\t") + 1) for line in lines)
    assert dict(field_counts) == manifest["proceedings_lines"]["lines_by_field_count"]
    ids = [int(line.split("\t", 1)[0]) for line in lines]
    assert ids == sorted(set(ids))
    truth = manifest["truth"]
    assert sum(month["completions"] for month in truth["long_run"]["pd-closures"].values()) == sum(
        year["completions"] for year in truth["by_fiscal_year"].values()
    )
    assert manifest["scale"] == round(sample.SAMPLE_SCALE * sample.SAMPLE_PROCEEDINGS / 50_000, 4)
