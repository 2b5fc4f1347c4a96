"""Ingest: one tiny hand-built release per quirk, each with its accounting asserted."""

import hashlib
import json
import os
import zipfile

import pandas as pd
import pyarrow.parquet as pq
import pytest
from tiny_release import lookup_tables, proceeding, proceeding_line, write_release

from pdclosures import cleaning, release_format
from pdclosures import ingest as ingest_module
from pdclosures import release as release_files
from pdclosures.errors import ReleaseError

TABLE_ORDER = [
    "B_TblProceeding",
    "tblLookupBaseCity",
    "tblLookupHloc",
    "tblLookupCourtDecision",
    "tblLookupCaseType",
]  # the README's checksum order


def ingest(tmp_path, lines, **kwargs):
    release = write_release(tmp_path / "release", lines, **kwargs)
    return ingest_module.ingest_release(release, tmp_path / "interim", progress=False)


def proceedings(result) -> pd.DataFrame:
    return pq.read_table(result.proceedings_path).to_pandas().sort_values("IDNPROCEEDING").reset_index(drop=True)


def accounting(result, table=release_format.PROCEEDING_TABLE) -> dict:
    rows = result.accounting.set_index("table")
    return rows.loc[table].to_dict()


def quarantine(result, table=release_format.PROCEEDING_TABLE) -> list[tuple]:
    """(line number or None, reason, raw line) for each quarantined line, as written."""
    rows = pd.read_csv(result.cache_dir / "quarantine" / f"{table}.tsv", sep="\t", keep_default_na=False, dtype=str)
    return [(int(line) if line else None, reason, raw) for line, reason, raw in rows.itertuples(index=False)]


def shifted(row: dict, *, after: int = 1, strays: int = 1) -> str:
    fields = proceeding_line(row).split("\t")
    for _ in range(strays):
        fields.insert(after + 1, "")
    return "\t".join(fields)


def test_clean_lines_load_with_typed_columns(tmp_path):
    result = ingest(tmp_path, [proceeding_line(proceeding(1, case=10, other="Y")), proceeding_line(proceeding(2))])
    assert accounting(result) == {"lines": 2, "loaded": 2, "repaired": 0, "quarantined": 0}
    frame = proceedings(result)
    assert frame["IDNCASE"].tolist() == [10, 2]
    assert str(frame.loc[0, "COMP_DATE"]) == "2013-01-15"
    assert frame.loc[0, "OTHER_COMP"] == "Y" and pd.isna(frame.loc[1, "OTHER_COMP"])


def test_nul_bytes_and_padding_are_stripped_from_codes(tmp_path):
    row = proceeding(1, court="TUC \x00", other="Y\x00", case_type=" RMV ", hloc="TUC  ")
    frame = proceedings(ingest(tmp_path, [proceeding_line(row)]))
    assert frame.loc[0, ["BASE_CITY_CODE", "OTHER_COMP", "CASE_TYPE", "HEARING_LOC_CODE"]].tolist() == [
        "TUC",
        "Y",
        "RMV",
        "TUC",
    ]


def test_tab_shifted_line_with_one_stray_empty_field_is_realigned(tmp_path):
    lines = [proceeding_line(proceeding(1)), shifted(proceeding(2, court="SEA", other="Y"))]
    result = ingest(tmp_path, lines)
    assert accounting(result) == {"lines": 2, "loaded": 2, "repaired": 1, "quarantined": 0}
    frame = proceedings(result)
    assert frame["REPAIRED"].tolist() == [False, True]
    row = frame.iloc[1]
    assert (row["IDNPROCEEDING"], row["BASE_CITY_CODE"], row["OTHER_COMP"]) == (2, "SEA", "Y")
    assert str(row["COMP_DATE"]) == "2013-01-15"


def test_stray_field_with_a_trailing_empty_is_not_silently_accepted(tmp_path):
    # 39 fields whose extra one is at the end: a lenient reader would take the row as it is. NAT is
    # empty and LANG is not: the stray could be NAT's empty field (LANG's 'SP' moves into NAT, two
    # letters, well formed) or any empty field after LANG. Two different rows: quarantined, not guessed.
    line = proceeding_line(proceeding(1, other="Y", lang="SP")) + "\t"
    result = ingest(tmp_path, [line])
    assert accounting(result) == {"lines": 1, "loaded": 0, "repaired": 0, "quarantined": 1}
    reasons = result.data_quality["issue"].tolist()
    assert "quarantined: 39 fields, expected 38; stray field position ambiguous" in reasons


def test_a_trailing_stray_field_is_repaired_when_the_code_widths_leave_one_way(tmp_path):
    # Removing an empty field between COMP_DATE and CUSTODY would move 'RMV' into CUSTODY, which
    # holds one letter: only the removals of the empty fields after LANG fit, and they all give the
    # same row.
    row = proceeding(1, other="Y", nat="MX", custody="D", lang="SP")
    result = ingest(tmp_path, [proceeding_line(row) + "\t"])
    assert accounting(result) == {"lines": 1, "loaded": 1, "repaired": 1, "quarantined": 0}
    frame = proceedings(result)
    assert frame.loc[0, ["OTHER_COMP", "CUSTODY", "CASE_TYPE", "NAT", "LANG"]].tolist() == ["Y", "D", "RMV", "MX", "SP"]


def test_ambiguous_or_unrepairable_lines_are_quarantined_with_reason(tmp_path):
    lines = [
        proceeding_line(proceeding(1)),
        shifted(proceeding(2), strays=2),  # 40 fields
        "\t".join(proceeding_line(proceeding(3)).split("\t")[:20]),  # cut short
    ]
    result = ingest(tmp_path, lines)
    assert accounting(result) == {"lines": 3, "loaded": 1, "repaired": 0, "quarantined": 2}
    found = quarantine(result)
    assert [reason for _, reason, _ in found] == ["40 fields, expected 38", "20 fields, expected 38"]
    assert [line for line, _, _ in found] == [3, 4]  # the header is line 1
    assert [raw[:3] for _, _, raw in found] == ["2\\t", "3\\t"]


def test_junk_dates_become_null_and_are_counted_per_column(tmp_path):
    rows = [
        proceeding(1, comp="1899-12-31 00:00:00.000"),
        proceeding(2, comp="1900-01-01 00:00:00.000"),
        proceeding(3, comp="2013-02-30 00:00:00.000"),  # would roll over to March 2
        proceeding(4, comp="UNKNOWN"),
        proceeding(5, comp="2013-02-28 00:00:00.000", OSC_DATE="0000-00-00 00:00:00.000"),
        proceeding(6, comp=""),  # pending: empty is not junk
    ]
    result = ingest(tmp_path, [proceeding_line(r) for r in rows])
    frame = proceedings(result)
    assert frame["COMP_DATE"].isna().tolist() == [True, True, True, True, False, True]
    assert str(frame.loc[4, "COMP_DATE"]) == "2013-02-28"
    quality = result.data_quality.set_index(["column", "issue"])["rows"]
    assert quality[("COMP_DATE", "junk date set to null")] == 4
    assert quality[("OSC_DATE", "junk date set to null")] == 1


def test_lines_whose_ids_are_not_numbers_are_quarantined(tmp_path):
    result = ingest(tmp_path, [proceeding_line(proceeding(1)), proceeding_line(proceeding("X7"))])
    assert accounting(result) == {"lines": 2, "loaded": 1, "repaired": 0, "quarantined": 1}
    raw = proceeding_line(proceeding("X7")).replace("\t", "\\t")  # TABs escaped in the file
    assert quarantine(result) == [(3, "IDNPROCEEDING and IDNCASE not a whole number", raw)]


def test_a_bad_id_on_a_realigned_line_is_quarantined_with_its_line_and_raw_text(tmp_path):
    # Ids of 19 digits are well formed enough to realign a line, but too long for the cache. The
    # parser's rows come first and realigned rows after, so the realigned line is listed second.
    lines = [
        proceeding_line(proceeding(1)),
        shifted(proceeding(10**18, case=2)),
        proceeding_line(proceeding(3, case="Z4")),
    ]
    result = ingest(tmp_path, lines)
    assert accounting(result) == {"lines": 3, "loaded": 1, "repaired": 1, "quarantined": 2}
    assert quarantine(result) == [
        (4, "IDNCASE not a whole number", lines[2].replace("\t", "\\t")),
        (3, "IDNPROCEEDING longer than 18 digits", lines[1].replace("\t", "\\t")),
    ]


def test_ids_that_are_not_plain_digits_take_the_careful_path_in_any_piece(tmp_path):
    # Plain ids are parsed straight to integers; a piece holding one padded, NUL-stuffed, empty or
    # non-numeric id is parsed again with ids as text. Either way the same rows load.
    rows = [
        proceeding(1),
        proceeding(" 2 ", case="20\x00"),
        proceeding(3, case=""),
        proceeding("4x", case=4),
        proceeding(5, other="Y"),
    ]
    result = ingest(tmp_path, [proceeding_line(r) for r in rows])
    assert accounting(result) == {"lines": 5, "loaded": 3, "repaired": 0, "quarantined": 2}
    frame = proceedings(result)
    assert frame["IDNPROCEEDING"].tolist() == [1, 2, 5] and frame["IDNCASE"].tolist() == [1, 20, 5]
    reasons = sorted(result.data_quality["issue"])
    assert reasons == ["quarantined: IDNCASE not a whole number", "quarantined: IDNPROCEEDING not a whole number"]


def test_a_realigned_line_with_a_padded_id_loads(tmp_path):
    result = ingest(tmp_path, [proceeding_line(proceeding(1)), shifted(proceeding(" 2", other="Y"))])
    assert accounting(result) == {"lines": 2, "loaded": 2, "repaired": 1, "quarantined": 0}
    assert proceedings(result)["IDNPROCEEDING"].tolist() == [1, 2]


def test_empty_lines_are_quarantined_not_skipped(tmp_path):
    result = ingest(tmp_path, [proceeding_line(proceeding(1)), "", proceeding_line(proceeding(2))])
    assert accounting(result) == {"lines": 3, "loaded": 2, "repaired": 0, "quarantined": 1}
    assert quarantine(result) == [(3, "empty line", "")]


def test_an_empty_line_and_a_line_of_empty_fields_are_told_apart(tmp_path):
    # The parser reads both as a row of empty fields; only the empty line is called one.
    empty_fields = "\t" * (len(release_format.PROCEEDING_COLUMNS) - 1)
    lines = [empty_fields, proceeding_line(proceeding(1)), "", "", proceeding_line(proceeding(2)), ""]
    result = ingest(tmp_path, lines)
    assert accounting(result) == {"lines": 6, "loaded": 2, "repaired": 0, "quarantined": 4}
    assert quarantine(result) == [
        (2, "IDNPROCEEDING and IDNCASE not a whole number", "\\t" * 37),
        (4, "empty line", ""),
        (5, "empty line", ""),
        (7, "empty line", ""),
    ]


def test_columns_are_found_by_name_and_unknown_columns_ignored(tmp_path):
    columns = list(reversed(release_format.PROCEEDING_COLUMNS)) + ["NEW_COLUMN"]
    rows = [proceeding(1, other="Y", NEW_COLUMN="zz"), proceeding(2, court="TUC")]
    lines = [proceeding_line(r, columns) for r in rows]
    frame = proceedings(ingest(tmp_path, lines, header="\t".join(columns)))
    assert frame["OTHER_COMP"].tolist()[0] == "Y" and frame["BASE_CITY_CODE"].tolist() == ["SEA", "TUC"]


def test_lookup_with_a_line_break_inside_a_description_parses(tmp_path):
    lookups = lookup_tables()
    header, *rows = lookups[release_format.DECISION_TABLE]
    broken = rows[0].replace("Prosecutorial Discretion", "Prosecutorial\r\nDiscretion")
    lookups[release_format.DECISION_TABLE] = [header, broken, *rows[1:]]
    result = ingest(tmp_path, [proceeding_line(proceeding(1))], lookups=lookups)
    assert accounting(result, release_format.DECISION_TABLE) == {
        "lines": 3,
        "loaded": 3,
        "repaired": 1,
        "quarantined": 0,
    }
    decisions = pd.read_parquet(result.lookup_path(release_format.DECISION_TABLE))
    # The cached lookup is sorted by its key (strCaseType, strDecCode, strDecType): C, T, Y.
    assert decisions["strDecCode"].tolist() == ["C", "T", "Y"]
    assert decisions.loc[2, "strDecDescription"] == "Prosecutorial Discretion - Admin Close"


def test_count_file_mismatch_is_reported(tmp_path):
    counts = f"{release_format.PROCEEDING_TABLE}\t5\r\n{release_format.BASE_CITY_TABLE}\t4\r\n".encode()
    result = ingest(tmp_path, [proceeding_line(proceeding(1))], extra_files={"EOIR Case Data/Count.txt": counts})
    issues = result.data_quality
    mismatch = issues[issues["issue"].str.startswith("Count.txt")]
    assert mismatch["table"].tolist() == [release_format.PROCEEDING_TABLE]
    assert result.manifest["published_counts"][release_format.BASE_CITY_TABLE] == 4


@pytest.mark.parametrize("zipped", [True, False])
@pytest.mark.parametrize("folder", ["EOIR Case Data/", "", "outer/EOIR Case Data/"])
@pytest.mark.parametrize("lower_case", [True, False])
def test_zip_or_folder_nested_or_flat_any_case_give_the_same_result(tmp_path, zipped, folder, lower_case):
    lines = [
        proceeding_line(proceeding(i, other="Y" if i % 3 == 0 else "", court="SEA" if i % 2 else "TUC"))
        for i in range(1, 40)
    ] + [shifted(proceeding(40, other="Y"))]
    release = write_release(
        tmp_path / ("r.zip" if zipped else "r"), lines, zipped=zipped, folder=folder, lower_case=lower_case
    )
    result = ingest_module.ingest_release(release, tmp_path / "interim", progress=False)
    assert accounting(result) == {"lines": 40, "loaded": 40, "repaired": 1, "quarantined": 0}
    frame = proceedings(result)
    assert (frame["OTHER_COMP"] == "Y").sum() == 14
    assert frame["BASE_CITY_CODE"].value_counts().to_dict() == {"SEA": 21, "TUC": 19}


def test_release_path_with_spaces(tmp_path):
    release = write_release(tmp_path / "my data" / "EOIR Case Data.zip", [proceeding_line(proceeding(1))], zipped=True)
    result = ingest_module.ingest_release(release, tmp_path / "interim", progress=False)
    assert accounting(result)["loaded"] == 1
    assert result.manifest["release_id"].startswith("eoir-case-data-")


def test_cache_is_reused_and_rebuilt_when_the_release_changes(tmp_path):
    release = write_release(tmp_path / "r.zip", [proceeding_line(proceeding(1))], zipped=True)
    first = ingest_module.ingest_release(release, tmp_path / "interim", progress=False)
    built_at = first.proceedings_path.stat().st_mtime_ns
    again = ingest_module.ingest_release(release, tmp_path / "interim", progress=False)
    assert again.cache_dir == first.cache_dir and again.proceedings_path.stat().st_mtime_ns == built_at
    write_release(release, [proceeding_line(proceeding(1)), proceeding_line(proceeding(2))], zipped=True)
    changed = ingest_module.ingest_release(release, tmp_path / "interim", progress=False)
    assert changed.cache_dir != first.cache_dir  # a new size gives a new release id
    assert changed.manifest["accounting"][0]["loaded"] == 2


def test_a_cache_folder_opens_by_its_release_id_and_nothing_else_passes_for_one(tmp_path):
    release = write_release(tmp_path / "r.zip", [proceeding_line(proceeding(1))], zipped=True)
    built = ingest_module.ingest_release(release, tmp_path / "interim", progress=False)
    opened = ingest_module.open_cache(tmp_path / "interim" / built.manifest["release_id"])
    assert opened.cache_dir == built.cache_dir and opened.manifest == built.manifest
    assert ingest_module.open_cache(release) is None  # a release path, not a cache
    other = tmp_path / "later-release"  # a folder whose manifest.json is not a cache's (a later release's)
    other.mkdir()
    (other / ingest_module.MANIFEST_FILE).write_text(json.dumps({"synthetic": True}))
    assert ingest_module.open_cache(other) is None


def test_a_zip_checksum_comes_from_its_download_record_only_while_the_file_is_unchanged(tmp_path):
    release = write_release(tmp_path / "r.zip", [proceeding_line(proceeding(1))], zipped=True)
    actual = hashlib.sha256(release.read_bytes()).hexdigest()
    stat = release.stat()
    recorded = "0" * 64  # not the file's hash: it shows which checksum the ingest took
    release_files.record_path(release).write_text(
        json.dumps({"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": recorded})
    )

    def checksum(interim):
        return ingest_module.ingest_release(release, tmp_path / interim, progress=False).manifest["checksum_sha256"]

    assert checksum("i1") == recorded
    os.utime(release, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched since the download
    assert checksum("i2") == actual
    release_files.record_path(release).write_text(json.dumps({"size": stat.st_size, "sha256": recorded}))
    assert checksum("i3") == actual


def test_a_folder_checksum_is_the_sha256_of_sha256sum_output_as_the_readme_says(tmp_path):
    folder = write_release(tmp_path / "r", [proceeding_line(proceeding(1))])
    manifest = ingest_module.ingest_release(folder, tmp_path / "i", progress=False).manifest
    order = TABLE_ORDER
    listing = "".join(
        f"{hashlib.sha256((folder / manifest['members'][t]).read_bytes()).hexdigest()}  {manifest['members'][t]}\n"
        for t in order
    )
    assert manifest["checksum_of"] == "table files"
    assert manifest["checksum_sha256"] == hashlib.sha256(listing.encode()).hexdigest()


def test_chunk_boundaries_do_not_lose_or_split_lines(tmp_path):
    lines = [proceeding_line(proceeding(i, other="Y" if i % 7 == 0 else "")) for i in range(1, 501)]
    lines[250] = shifted(proceeding(251, other="Y"))
    release = write_release(tmp_path / "r", lines)
    opened = release_files.open_release(release)
    out = tmp_path / "p.parquet"
    counted, quarantined, _, _ = ingest_module.read_proceedings(opened, out, progress=False, chunk_bytes=1000)
    assert (counted.lines, counted.loaded, counted.repaired, counted.quarantined) == (500, 500, 1, 0)
    frame = pq.read_table(out).to_pandas()
    assert sorted(frame["IDNPROCEEDING"]) == list(range(1, 501))
    assert (frame["OTHER_COMP"] == "Y").sum() == 500 // 7 + 1


def test_the_number_of_parse_workers_does_not_change_the_result(tmp_path, monkeypatch):
    lines = [proceeding_line(proceeding(i, other="Y" if i % 7 == 0 else "")) for i in range(1, 401)]
    lines[120] = shifted(proceeding(121, other="Y"))  # realigned
    lines[260] = shifted(proceeding(261), strays=2)  # quarantined, with its line number
    lines[333] = ""  # quarantined: empty line
    release = release_files.open_release(write_release(tmp_path / "r", lines))
    results = []
    for workers in (1, 2, 4):
        monkeypatch.setattr(ingest_module, "PARSE_THREADS", workers)
        out = tmp_path / f"p{workers}.parquet"
        counted, quarantined, digest, dates = ingest_module.read_proceedings(
            release, out, progress=False, chunk_bytes=700
        )
        results.append((counted.row(), quarantined, digest, dates, pq.read_table(out).to_pylist()))
    assert results[0][0]["loaded"] == 398
    assert [(line, reason) for line, reason, _ in results[0][1]] == [
        (262, "40 fields, expected 38"),
        (335, "empty line"),
    ]
    assert results[1] == results[0] and results[2] == results[0]


@pytest.mark.parametrize(
    "drop, message",
    [
        (release_format.PROCEEDING_TABLE, "no B_TblProceeding table found"),
        (release_format.BASE_CITY_TABLE, "no tblLookupBaseCity table found"),
    ],
)
def test_missing_table_is_named(tmp_path, drop, message):
    release = write_release(tmp_path / "r.zip", [proceeding_line(proceeding(1))], zipped=True, drop_tables=(drop,))
    with pytest.raises(ReleaseError, match=message):
        ingest_module.ingest_release(release, tmp_path / "interim", progress=False)


def test_missing_needed_column_is_named_with_the_file(tmp_path):
    header = "\t".join("OTHER_COMPLETION" if c == "OTHER_COMP" else c for c in release_format.PROCEEDING_COLUMNS)
    release = write_release(tmp_path / "r", [proceeding_line(proceeding(1))], header=header)
    with pytest.raises(ReleaseError, match=r"B_TblProceeding.csv: missing column OTHER_COMP"):
        ingest_module.ingest_release(release, tmp_path / "interim", progress=False)


def test_a_lone_carriage_return_splits_a_line_and_both_pieces_are_accounted(tmp_path):
    broken = proceeding_line(proceeding(2)).replace("\t2012-01-06", "\r2012-01-06", 1)
    result = ingest(tmp_path, [proceeding_line(proceeding(1)), broken, proceeding_line(proceeding(3))])
    assert accounting(result) == {"lines": 4, "loaded": 2, "repaired": 0, "quarantined": 2}


def test_bad_ids_that_cannot_be_paired_with_lines_keep_their_reason_without_a_line_number(tmp_path):
    # The parser splits the second line at its lone CR (two short rows); read by line feeds it is
    # a whole line with a bad id, so bad-id lines and rows no longer pair up one to one.
    broken = proceeding_line(proceeding("Y5")).replace("\t2012-01-06", "\r\t2012-01-06", 1)
    result = ingest(tmp_path, [proceeding_line(proceeding("X7")), broken, proceeding_line(proceeding(3))])
    assert accounting(result) == {"lines": 4, "loaded": 1, "repaired": 0, "quarantined": 3}
    found = quarantine(result)
    assert (
        None,
        "IDNPROCEEDING and IDNCASE not a whole number",
        "IDNPROCEEDING=X7\\tIDNCASE=X7\\tOSC_DATE=2012-01-05 00:00:00.000\\tINPUT_DATE=2012-01-06 00:00:00.000"
        "\\tCOMP_DATE=2013-01-15 00:00:00.000\\tBASE_CITY_CODE=SEA\\tHEARING_LOC_CODE=SEA\\tOTHER_COMP="
        "\\tCASE_TYPE=RMV\\tDEC_CODE=\\tNAT=\\tCUSTODY=\\tLANG=\\tIJ_CODE=",
    ) in found
    assert sorted(reason for _, reason, _ in found) == [
        "3 fields, expected 38",
        "36 fields, expected 38",
        "IDNPROCEEDING and IDNCASE not a whole number",
    ]


def test_latin1_bytes_in_a_quarantined_line_are_kept(tmp_path):
    shifted_twice = shifted(proceeding(2, NAT="\xe9"), strays=2)
    result = ingest(tmp_path, [proceeding_line(proceeding(1, hloc="S\xe9A")), shifted_twice])
    assert accounting(result) == {"lines": 2, "loaded": 1, "repaired": 0, "quarantined": 1}
    assert proceedings(result).loc[0, "HEARING_LOC_CODE"] == "S\xe9A"
    assert "\xe9" in result.quarantine_path(release_format.PROCEEDING_TABLE).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Ids: whole numbers of 1 to 18 digits, in every piece (a piece of plain ids took a faster path)


@pytest.mark.parametrize(
    "bad_id, reason",
    [
        ("-5", "IDNPROCEEDING not a whole number"),
        ("0x7", "IDNPROCEEDING not a whole number"),
        ("+6", "IDNPROCEEDING not a whole number"),
        ("1" + "0" * 18, "IDNPROCEEDING longer than 18 digits"),
        ("0" * 18 + "1", "IDNPROCEEDING longer than 18 digits"),
    ],
)
def test_an_id_that_is_not_1_to_18_digits_is_quarantined_among_plain_ids(tmp_path, bad_id, reason):
    lines = [proceeding_line(proceeding(1)), proceeding_line(proceeding(bad_id, case=9))]
    result = ingest(tmp_path, lines)
    assert accounting(result) == {"lines": 2, "loaded": 1, "repaired": 0, "quarantined": 1}
    assert proceedings(result)["IDNPROCEEDING"].tolist() == [1]
    assert quarantine(result) == [(3, reason, lines[1].replace("\t", "\\t"))]


def test_ids_of_18_digits_and_padded_ids_load(tmp_path):
    lines = [proceeding_line(proceeding("9" * 18, case="007")), proceeding_line(proceeding("\x00 12 ", case=3))]
    frame = proceedings(ingest(tmp_path, lines))
    assert frame["IDNPROCEEDING"].tolist() == [12, 999_999_999_999_999_999]
    assert frame["IDNCASE"].tolist() == [3, 7]


# --------------------------------------------------------------------------------------------
# The quarantine file: TAB, CR, LF, NUL and backslash escaped, so each line stays one row


def unescape(text: str) -> str:
    """The README's escapes undone, written out here rather than taken from the code under test."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            out.append({"t": "\t", "r": "\r", "n": "\n", "0": "\x00", "\\": "\\"}[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def test_the_quarantine_file_escapes_tab_cr_lf_nul_and_backslash(tmp_path):
    raws = ["a\tb", "c\rd", "e\nf", "g\x00h", "C:\\temp", "\\\t\\t", ""]
    path = tmp_path / "q.tsv"
    cleaning.write_quarantine(path, [(n, "why", raw) for n, raw in enumerate(raws, start=2)] + [(None, "lost", "x")])
    assert path.read_bytes().decode("utf-8") == (
        "line\treason\traw_line\n"
        "2\twhy\ta\\tb\n"
        "3\twhy\tc\\rd\n"
        "4\twhy\te\\nf\n"
        "5\twhy\tg\\0h\n"
        "6\twhy\tC:\\\\temp\n"  # a backslash before a t stays a backslash, not a TAB
        "7\twhy\t\\\\\\t\\\\t\n"
        "8\twhy\t\n"
        "\tlost\tx\n"
    )
    rows = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    assert len(rows) == len(raws) + 1
    assert [unescape(raw) for raw in rows["raw_line"]] == raws + ["x"]


def test_a_quarantined_line_with_nul_and_backslash_reads_back_as_it_was(tmp_path):
    fields = proceeding_line(proceeding(2, court="SE\x00A", hloc="A\\B")).split("\t")[:30]
    line = "\t".join(fields)  # 30 fields: quarantined
    result = ingest(tmp_path, [proceeding_line(proceeding(1)), line])
    assert accounting(result) == {"lines": 2, "loaded": 1, "repaired": 0, "quarantined": 1}
    text = result.quarantine_path(release_format.PROCEEDING_TABLE).read_text(encoding="utf-8")
    assert "\tSE\\0A\tA\\\\B\t" not in text and "\\tSE\\0A\\tA\\\\B\\t" in text
    assert [(n, reason, unescape(raw)) for n, reason, raw in quarantine(result)] == [
        (3, "30 fields, expected 38", line)
    ]


# --------------------------------------------------------------------------------------------
# Release: checksum and release date


def test_release_checksum_of_a_zip_is_the_sha256_of_the_file(tmp_path):
    path = write_release(tmp_path / "r.zip", [proceeding_line(proceeding(1))], zipped=True)
    release = release_files.open_release(path)
    assert release.checksum() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert release.checksum_of == "zip file"


def test_release_checksum_takes_the_download_record_only_while_size_and_mtime_match(tmp_path):
    path = write_release(tmp_path / "r.zip", [proceeding_line(proceeding(1))], zipped=True)
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    stat = path.stat()
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": "f" * 64}
    release_files.record_path(path).write_text(json.dumps(record))
    assert release_files.open_release(path).checksum() == "f" * 64
    release_files.record_path(path).write_text(json.dumps({**record, "size": stat.st_size + 1}))
    assert release_files.open_release(path).checksum() == actual
    release_files.record_path(path).write_text(json.dumps({**record, "mtime_ns": stat.st_mtime_ns + 1}))
    assert release_files.open_release(path).checksum() == actual


def test_release_checksum_of_a_folder_is_the_sha256_of_sha256sum_output(tmp_path):
    folder = write_release(tmp_path / "r", [proceeding_line(proceeding(1))], folder="EOIR Case Data/")
    members = {"B_TblProceeding": "EOIR Case Data/B_TblProceeding.csv"} | {
        t: f"EOIR Case Data/Lookup/{t}.csv" for t in TABLE_ORDER[1:]
    }
    digests = {t: hashlib.sha256((folder / members[t]).read_bytes()).hexdigest() for t in TABLE_ORDER}
    listing = "".join(f"{digests[t]}  {members[t]}\n" for t in TABLE_ORDER)  # as sha256sum prints it
    release = release_files.open_release(folder)
    assert release.checksum() == hashlib.sha256(listing.encode()).hexdigest()
    assert release.checksum_of == "table files"
    # A digest already taken (the ingest hashes the big table as it reads it) is used as given.
    known = {members["B_TblProceeding"]: "0" * 64}
    listing = listing.replace(digests["B_TblProceeding"], "0" * 64)
    assert release.checksum(known) == hashlib.sha256(listing.encode()).hexdigest()


def test_release_date_from_the_download_record_else_the_newest_member_date(tmp_path):
    path = tmp_path / "r.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, when in [("a/B_TblProceeding.csv", (2026, 3, 30, 8, 0, 0)), ("a/Count.txt", (2026, 4, 2, 9, 0, 0))]:
            archive.writestr(zipfile.ZipInfo(name, when), b"x")
    assert release_files.open_release(path).release_date() == "2026-04-02"
    record = {"size": path.stat().st_size, "last_modified_date": "2026-04-06"}
    release_files.record_path(path).write_text(json.dumps(record))
    assert release_files.open_release(path).release_date() == "2026-04-06"
    folder = write_release(tmp_path / "f", [proceeding_line(proceeding(1))])
    assert release_files.open_release(folder).release_date() is None


def test_a_zip_with_only_1980_member_dates_has_no_release_date(tmp_path):
    path = tmp_path / "r.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("B_TblProceeding.csv", (1980, 1, 1, 0, 0, 0)), b"x")
    assert release_files.open_release(path).release_date() is None


# --------------------------------------------------------------------------------------------
# A renamed column: the alias map lets a release with the old name load


def test_a_column_under_its_old_name_loads_through_the_alias_map(tmp_path, monkeypatch):
    old_names = {"OTHER_COMP": "OTHER_COMPLETION", "BASE_CITY_CODE": "BASE_CITY_CD"}
    header = "\t".join(old_names.get(c, c) for c in release_format.PROCEEDING_COLUMNS)
    decisions_header, *decisions = lookup_tables()[release_format.DECISION_TABLE]
    lookups = {release_format.DECISION_TABLE: [decisions_header.replace("strDecCode", "strDecisionCode"), *decisions]}
    lines = [proceeding_line(proceeding(1, other="Y", court="TUC")), proceeding_line(proceeding(2))]
    release = write_release(tmp_path / "r", lines, header=header, lookups=lookups)
    with pytest.raises(ReleaseError, match="missing column BASE_CITY_CODE, OTHER_COMP"):
        ingest_module.preflight(release)
    aliases = {"OTHER_COMPLETION": "OTHER_COMP", "BASE_CITY_CD": "BASE_CITY_CODE", "strDecisionCode": "strDecCode"}
    monkeypatch.setattr(release_format, "COLUMN_ALIASES", aliases)
    ingest_module.preflight(release)
    result = ingest_module.ingest_release(release, tmp_path / "interim", progress=False)
    frame = proceedings(result)
    assert frame["OTHER_COMP"].tolist()[0] == "Y" and frame["BASE_CITY_CODE"].tolist() == ["TUC", "SEA"]
    # sorted by key: C, T, Y
    assert pd.read_parquet(result.lookup_path(release_format.DECISION_TABLE))["strDecCode"].tolist() == ["C", "T", "Y"]


def test_an_old_name_beside_its_current_name_is_left_alone(tmp_path, monkeypatch):
    # tblLookupBaseCity has both BASE_CITY (the city) and BASE_CITY_CODE: an alias BASE_CITY ->
    # BASE_CITY_CODE must not rename the city column onto the code column.
    monkeypatch.setattr(release_format, "COLUMN_ALIASES", {"BASE_CITY": "BASE_CITY_CODE"})
    result = ingest(tmp_path, [proceeding_line(proceeding(1))])
    base_city = pd.read_parquet(result.lookup_path(release_format.BASE_CITY_TABLE))
    # sorted by code: HOU, NYC, SEA, TUC
    assert base_city[["BASE_CITY_CODE", "BASE_CITY"]].values.tolist()[2:] == [["SEA", "SEATTLE"], ["TUC", "TUCSON"]]


# --------------------------------------------------------------------------------------------
# Deflate64: a real Deflate64 zip, written by the test, read end to end


def test_a_deflate64_release_is_read_end_to_end(tmp_path):
    lines = [
        proceeding_line(proceeding(i, other="Y" if i % 3 == 0 else "", court="SEA" if i % 2 else "TUC"))
        for i in range(1, 3001)
    ]
    path = write_release(tmp_path / "d64.zip", lines, deflate64=True)
    with zipfile.ZipFile(path) as archive:
        assert {info.compress_type for info in archive.infolist()} == {9}
    result = ingest_module.ingest_release(path, tmp_path / "interim", progress=False)
    assert accounting(result) == {"lines": 3000, "loaded": 3000, "repaired": 0, "quarantined": 0}
    frame = proceedings(result)
    assert (frame["OTHER_COMP"] == "Y").sum() == 1000  # every third of 3,000
    assert frame["BASE_CITY_CODE"].value_counts().to_dict() == {"SEA": 1500, "TUC": 1500}
    assert accounting(result, release_format.DECISION_TABLE)["loaded"] == 3
    assert result.manifest["release_date"] == "2026-04-01"  # the members' date, as written
    assert result.manifest["checksum_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_reading_deflate64_leaves_zip_writing_working(tmp_path):
    # zipfile-inflate64 0.1 replaces zipfile's compressor factory with one that takes one argument
    # where Python passes two: without release.py's repair no compressed zip could be written.
    assert release_files.zipfile is zipfile
    with zipfile.ZipFile(tmp_path / "w.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", b"a" * 1000)
    with zipfile.ZipFile(tmp_path / "w.zip") as archive:
        assert archive.read("a.txt") == b"a" * 1000


def test_a_compression_method_zipfile_cannot_read_is_one_line(tmp_path, monkeypatch):
    path = write_release(tmp_path / "d64.zip", [proceeding_line(proceeding(1))], deflate64=True)
    original = zipfile._get_decompressor

    def without_deflate64(compress_type):
        if compress_type == 9:
            raise NotImplementedError("That compression method is not supported")
        return original(compress_type)

    monkeypatch.setattr(zipfile, "_get_decompressor", without_deflate64)
    message = r"d64.zip:EOIR Case Data/.*\.csv: compressed with method 9 \(deflate64\), which needs zipfile-inflate64"
    with pytest.raises(ReleaseError, match=message):
        ingest_module.preflight(path)
    with pytest.raises(ReleaseError, match=message):
        ingest_module.ingest_release(path, tmp_path / "interim", progress=False)


def test_quarantined_lists_every_table_with_line_numbers_and_reasons(tmp_path):
    short = "\t".join(proceeding_line(proceeding(3)).split("\t")[:20])
    lookups = lookup_tables()
    lookups[release_format.HLOC_TABLE].append("99\tXX\tA\tB")  # after the header and 5 rows: line 7
    result = ingest(tmp_path, [proceeding_line(proceeding("X7")), "", short], lookups=lookups)
    frame = result.quarantined().sort_values(["table", "line"])
    assert frame.columns.tolist() == ["table", "line", "reason", "raw_line"]
    assert frame[["table", "line", "reason"]].values.tolist() == [
        ["B_TblProceeding", 2, "IDNPROCEEDING and IDNCASE not a whole number"],
        ["B_TblProceeding", 3, "empty line"],
        ["B_TblProceeding", 4, "20 fields, expected 38"],
        ["tblLookupHloc", 7, "4 fields, expected 28"],
    ]
    assert frame["raw_line"].tolist()[-1] == "99\\tXX\\tA\\tB"


# --------------------------------------------------------------------------------------------
# Tab shifts wherever the stray cell sits (public loaders find them before COMP_DATE)


def stray_before(row: dict, column: str, value: str = "") -> str:
    fields = proceeding_line(row).split("\t")
    fields.insert(release_format.PROCEEDING_COLUMNS.index(column), value)
    return "\t".join(fields)


def test_a_stray_field_before_comp_date_is_repaired(tmp_path):
    # A merits completion: every removal of an empty field up to the stray gives the same kept
    # values (OTHER_COMP empty, COMP_DATE the date); any removal after it puts the date in ABSENTIA.
    line = stray_before(proceeding(1, dec="X", court="TUC"), "COMP_DATE")
    result = ingest(tmp_path, [line, proceeding_line(proceeding(2))])
    assert accounting(result) == {"lines": 2, "loaded": 2, "repaired": 1, "quarantined": 0}
    row = proceedings(result).iloc[0]
    assert (str(row["COMP_DATE"]), row["BASE_CITY_CODE"], row["CASE_TYPE"], row["REPAIRED"]) == (
        "2013-01-15",
        "TUC",
        "RMV",
        True,
    )
    assert pd.isna(row["OTHER_COMP"])


def test_a_stray_field_that_is_not_empty_is_removed_and_its_value_recorded(tmp_path):
    # 'ZZ' in front of OSC_DATE: no removal of an empty field fits (OSC_DATE would hold 'ZZ'), and
    # of the others only removing 'ZZ' itself leaves every column well formed.
    line = stray_before(proceeding(1, other="Y"), "OSC_DATE", "ZZ")
    result = ingest(tmp_path, [line])
    assert accounting(result) == {"lines": 1, "loaded": 1, "repaired": 1, "quarantined": 0}
    row = proceedings(result).iloc[0]
    assert (str(row["OSC_DATE"]), row["OTHER_COMP"], row["BASE_CITY_CODE"]) == ("2012-01-05", "Y", "SEA")
    quality = result.data_quality.set_index(["column", "issue"])["rows"]
    assert quality[("OSC_DATE", "tab-shifted line realigned (stray field 'ZZ' removed)")] == 1


def test_an_ambiguous_stray_field_before_comp_date_is_quarantined(tmp_path):
    # A PD closure (OTHER_COMP Y) with an empty stray before COMP_DATE: removing the stray gives
    # OTHER_COMP Y, but removing the empty DEPORTED_2 instead moves Y into DEPORTED_2 and leaves
    # OTHER_COMP empty, and that row is well formed too. Two answers: quarantined, not guessed.
    line = stray_before(proceeding(1, other="Y"), "COMP_DATE")
    result = ingest(tmp_path, [proceeding_line(proceeding(2)), line])
    assert accounting(result) == {"lines": 2, "loaded": 1, "repaired": 0, "quarantined": 1}
    assert quarantine(result) == [
        (3, "39 fields, expected 38; stray field position ambiguous", line.replace("\t", "\\t"))
    ]


def test_codes_of_the_wrong_length_rule_a_realignment_out():
    header = release_format.PROCEEDING_COLUMNS
    assert cleaning.field_is_well_formed("BASE_CITY_CODE", "SEA")
    assert not cleaning.field_is_well_formed("BASE_CITY_CODE", "SEAT")
    assert not cleaning.field_is_well_formed("OTHER_COMP", "YY")
    assert not cleaning.field_is_well_formed("COMP_DATE", "X")
    fields = stray_before(proceeding(1, other="Y"), "OSC_DATE", "ZZ").split("\t")
    fixed = cleaning.realign(fields, header)
    assert (fixed.position, fixed.removed) == (2, "ZZ")
    assert fixed.fields == proceeding_line(proceeding(1, other="Y")).split("\t")


def test_the_new_code_columns_are_cleaned_and_kept_as_dictionaries(tmp_path):
    row = proceeding(1, dec="X\x00", nat="MX ", custody=" D", lang="SP\x00 ", judge="ABC  ")
    result = ingest(tmp_path, [proceeding_line(row), proceeding_line(proceeding(2))])
    table = pq.read_table(result.proceedings_path)
    for column in ["DEC_CODE", "NAT", "CUSTODY", "LANG", "IJ_CODE"]:
        assert str(table.schema.field(column).type) == "dictionary<values=string, indices=int32, ordered=0>"
    frame = proceedings(result)
    assert frame.loc[0, ["DEC_CODE", "NAT", "CUSTODY", "LANG", "IJ_CODE"]].tolist() == ["X", "MX", "D", "SP", "ABC"]
    assert frame.loc[1, ["DEC_CODE", "NAT", "CUSTODY", "LANG", "IJ_CODE"]].isna().all()  # empty -> null


def test_real_codes_with_punctuation_do_not_rule_a_realignment_out(tmp_path):
    # NAT '??' (UNKNOWN NATIONALITY) and LANG '<A>' are real codes: a tab-shifted line holding them
    # is realigned like any other.
    row = proceeding(1, other="Y", nat="??", custody="N", lang="<A>")
    result = ingest(tmp_path, [shifted(row)])
    assert accounting(result) == {"lines": 1, "loaded": 1, "repaired": 1, "quarantined": 0}
    assert proceedings(result).loc[0, ["NAT", "LANG"]].tolist() == ["??", "<A>"]
    assert cleaning.field_is_well_formed("NAT", "??") and not cleaning.field_is_well_formed("NAT", "MEX")
    assert not cleaning.field_is_well_formed("CUSTODY", "RMV") and not cleaning.field_is_well_formed("DEC_CODE", "XY")


def test_a_merits_decision_in_the_wrong_column_makes_a_realignment_ambiguous(tmp_path):
    # DEC_CODE is kept now: with DEC_TYPE empty (not so in real rows), removing an empty field before
    # it moves 'X' into DEC_TYPE and leaves DEC_CODE empty, a second well-formed row: quarantined.
    row = proceeding(1, dec="X", DEC_TYPE="")
    result = ingest(tmp_path, [stray_before(row, "COMP_DATE")])
    assert accounting(result) == {"lines": 1, "loaded": 0, "repaired": 0, "quarantined": 1}
