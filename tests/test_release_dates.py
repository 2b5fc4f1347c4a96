"""Dates after the release's own date are junk: nulled and counted per column, never moved."""

import datetime as dt
import os

import pandas as pd
import pyarrow.parquet as pq
from tiny_release import MEMBER_DATE, proceeding, proceeding_line, write_release

from pdclosures import cleaning, release_format
from pdclosures import ingest as ingest_module
from pdclosures import release as release_files

# The Deflate64 writer dates every member 2026-04-01: that is the release date.
RELEASE_DAY = dt.date(*MEMBER_DATE)
ROWS = [
    proceeding(1, comp="2026-04-01"),  # the release date itself: kept
    proceeding(2, comp="2026-04-02"),  # the day after: nulled, counted under COMP_DATE
    proceeding(3, comp="2013-01-15", OSC_DATE="2099-01-01 00:00:00.000"),  # nulled, under OSC_DATE
    proceeding(4, comp="2013-02-30"),  # junk as before, not counted as after the release
]


def quality(result) -> dict:
    frame = result.data_quality
    frame = frame[frame["table"] == release_format.PROCEEDING_TABLE]
    return {(c, i): r for c, i, r in zip(frame["column"], frame["issue"], frame["rows"])}


def cached(result) -> pd.DataFrame:
    return pq.read_table(result.proceedings_path).to_pandas().sort_values("IDNPROCEEDING").reset_index(drop=True)


def test_a_date_after_the_release_date_is_nulled_and_counted(tmp_path):
    path = write_release(tmp_path / "r.zip", [proceeding_line(r) for r in ROWS], deflate64=True)
    result = ingest_module.ingest_release(path, tmp_path / "interim", progress=False)
    assert result.manifest["release_date"] == "2026-04-01"
    assert result.manifest["dates_valid_through"] == "2026-04-01"
    assert result.manifest["dates_valid_through_from"] == "release date"
    frame = cached(result)
    assert [None if pd.isna(d) else d for d in frame["COMP_DATE"]] == [
        RELEASE_DAY,
        None,
        dt.date(2013, 1, 15),
        None,
    ]
    assert pd.isna(frame.loc[2, "OSC_DATE"])
    issues = quality(result)
    assert issues[("COMP_DATE", cleaning.FUTURE_DATE)] == 1
    assert issues[("OSC_DATE", cleaning.FUTURE_DATE)] == 1
    assert issues[("COMP_DATE", cleaning.JUNK_DATE)] == 1
    assert ("INPUT_DATE", cleaning.FUTURE_DATE) not in issues
    assert result.manifest["data_through"] == "2026-04-01"


def test_without_a_release_date_a_folder_is_dated_by_its_newest_table_file(tmp_path):
    rows = [proceeding(1, comp="2020-06-30"), proceeding(2, comp="2020-07-01")]
    folder = write_release(tmp_path / "r", [proceeding_line(r) for r in rows])
    stamp = dt.datetime(2020, 6, 30, 12, tzinfo=dt.timezone.utc).timestamp()
    for path in folder.rglob("*.csv"):
        os.utime(path, (stamp, stamp))
    opened = release_files.open_release(folder)
    assert opened.release_date() is None
    assert opened.latest_valid_date() == (dt.date(2020, 6, 30), "newest modification time of the table files")
    result = ingest_module.ingest_release(folder, tmp_path / "interim", progress=False)
    assert quality(result)[("COMP_DATE", cleaning.FUTURE_DATE)] == 1
    assert cached(result)["COMP_DATE"].notna().tolist() == [True, False]


def test_the_latest_valid_date_is_never_after_today(tmp_path):
    folder = write_release(tmp_path / "r", [proceeding_line(proceeding(1))])
    stamp = dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    for path in folder.rglob("*.csv"):
        os.utime(path, (stamp, stamp))
    opened = release_files.open_release(folder)
    assert opened.latest_valid_date(today=dt.date(2026, 12, 5))[0] == dt.date(2026, 12, 5)
