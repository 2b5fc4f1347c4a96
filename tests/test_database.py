"""eoir.duckdb: views over the cache, read-only, exactly the loaded lines, labels decoded as the rate
tables decode them, still working once the cache folder is moved. Every expected value is read off
the tiny release written here."""

import shutil

import duckdb
import pandas as pd
import pytest
from test_lookups import BASE_CITIES, HEARING_LOCATIONS
from tiny_release import lookup_lines, lookup_tables, proceeding, proceeding_line, write_release

from pdclosures import database, ingest, params, rates, release_format
from pdclosures.errors import ReleaseError

DECISIONS = [  # (case type, code, type, description): D means different things in RMV and DEP
    ("RMV", "Y", "O", "Prosecutorial Discretion - Admin Close"),
    ("RMV", "C", "O", "Change of Venue"),
    ("RMV", "X", "C", "Removal"),
    ("RMV", "D", "C", "Deny"),
    ("RMV", "U", "C", "Dismissed by IJ"),
    ("DEP", "D", "C", "DISMISSED"),
    ("DEP", "Y", "O", "Prosecutorial Discretion - Admin Close"),
]
ROWS = [
    proceeding(1, court="SEA", hloc="IAD", other="Y", nat="MX", custody="D", lang="SP", judge="AB1"),
    proceeding(2, court="HOU", hloc="IAD", dec="D", nat="CH", custody="N", lang="MAN"),
    proceeding(3, court="HOU", hloc="IAD", dec="D", case_type="DEP", nat="??", custody="R", lang="KOR"),
    proceeding(4, court="TUC", hloc="TAC", dec="U", nat="ZZ"),  # ZZ: not in the lookup
    proceeding(5, court="XYZ", hloc="XYZ", comp=""),  # pending, codes in no lookup
    proceeding(6, court="EMP", hloc="", other="C", case_type="AOL"),  # a stray case type
]
LABELS = [
    "court",
    "hearing_location",
    "nationality",
    "custody_status",
    "language",
    "case_type_name",
    "decision",
    "other_completion",
]


def decision_lines():
    rows = [
        {
            "idnCourtDecision": str(i),
            "strCaseType": case_type,
            "strDecCode": code,
            "strDecType": kind,
            "strDecDescription": text,
            "blnActive": "1",
        }
        for i, (case_type, code, kind, text) in enumerate(DECISIONS, 1)
    ]
    return lookup_lines(release_format.DECISION_TABLE, rows)


def case_type_lines():
    rows = [{"idnCaseType": "1", "strCode": "RMV", "strDescription": "Removal"}]
    rows.append({"idnCaseType": "2", "strCode": "DEP", "strDescription": "Deportation"})
    return lookup_lines(release_format.CASE_TYPE_TABLE, rows)


def build(tmp_path, drop=()):
    lookups = {
        release_format.BASE_CITY_TABLE: lookup_lines(release_format.BASE_CITY_TABLE, BASE_CITIES),
        release_format.HLOC_TABLE: lookup_lines(release_format.HLOC_TABLE, HEARING_LOCATIONS),
        release_format.DECISION_TABLE: decision_lines(),
        release_format.CASE_TYPE_TABLE: case_type_lines(),
    }
    release = write_release(tmp_path / "release", [proceeding_line(r) for r in ROWS], lookups=lookups, drop_tables=drop)
    return ingest.ingest_release(release, tmp_path / "interim", progress=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("database"))


def labels(con) -> pd.DataFrame:
    return con.execute(f"SELECT IDNPROCEEDING, {', '.join(LABELS)} FROM proceedings ORDER BY 1").df()


def test_the_database_is_built_with_the_cache_and_opens_read_only(built):
    assert built.database_path == built.cache_dir / "eoir.duckdb" and built.database_path.is_file()
    con = database.connect(built)
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("CREATE TABLE t AS SELECT 1")
    views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert views == {"proceedings", *database.LOOKUP_VIEWS.values()}
    assert not {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}  # no copy


def test_proceedings_holds_exactly_the_loaded_lines_with_every_cached_column(tmp_path):
    lines = [proceeding_line(r) for r in ROWS] + ["", "not\ta\tline"]  # two quarantined lines
    release = write_release(tmp_path / "r", lines)
    result = ingest.ingest_release(release, tmp_path / "interim", progress=False)
    loaded = result.accounting.set_index("table").loc[release_format.PROCEEDING_TABLE, "loaded"]
    con = database.connect(result)
    assert con.execute("SELECT count(*) FROM proceedings").fetchone()[0] == loaded == len(ROWS)
    columns = [row[0] for row in con.execute("DESCRIBE proceedings").fetchall()]
    assert columns == release_format.PROCEEDING_CACHE_COLUMNS + ["REPAIRED"] + LABELS


def test_labels_are_decoded_per_case_type_and_court(built):
    frame = labels(database.connect(built)).set_index("IDNPROCEEDING")
    rows = frame.astype(object).where(frame.notna(), None).to_dict("index")
    assert rows[1] == {
        "court": "Seattle, WA",
        "hearing_location": "IAD HLOC -SEA, WASHINGTON",  # IAD's row for SEA, not the inactive duplicate
        "nationality": "MEXICO",
        "custody_status": "Detained",
        "language": "SPANISH",
        "case_type_name": "Removal",
        "decision": None,
        "other_completion": "Prosecutorial Discretion - Admin Close",
    }
    # D is 'Deny' in a removal case and 'DISMISSED' in a deportation case.
    assert (rows[2]["decision"], rows[3]["decision"]) == ("Deny", "DISMISSED")
    assert (rows[2]["hearing_location"], rows[3]["case_type_name"]) == ("IAD HLOC -HOU, TEXAS", "Deportation")
    assert (rows[3]["nationality"], rows[3]["custody_status"], rows[3]["language"]) == (
        "UNKNOWN NATIONALITY",
        "Released",
        "KOREAN",
    )
    assert (rows[4]["decision"], rows[4]["hearing_location"], rows[4]["nationality"]) == (
        "Dismissed by IJ",
        "TACOMA DETENTION",  # TAC's one row (SEA's) for a TUC proceeding
        None,  # ZZ is in no lookup row: the code stays, the label is null
    )
    assert (rows[5]["court"], rows[5]["hearing_location"]) == ("(unknown code XYZ)", "(unknown code XYZ)")
    assert (rows[6]["court"], rows[6]["hearing_location"]) == (
        "(code EMP, no city in lookup)",
        "(no hearing location code)",
    )
    assert (rows[6]["other_completion"], rows[6]["case_type_name"]) == (None, None)  # AOL: no lookup rows


def test_court_and_hearing_location_match_the_rate_tables(built):
    # The rate tables count completions only (not proceeding 6, a change of venue): compared on theirs.
    tables = rates.RateCalculator(built, params.parse_window("2013-01-01", "2013-01-31")).all_tables()
    con = database.connect(built)
    courts = dict(con.execute("SELECT DISTINCT BASE_CITY_CODE, court FROM proceedings").fetchall())
    expected = dict(zip(tables["courts"]["base_city_code"], tables["courts"]["court"]))
    assert len(expected) == 3 and {code: courts[code] for code in expected} == expected
    places = con.execute(
        "SELECT DISTINCT HEARING_LOC_CODE, BASE_CITY_CODE, hearing_location FROM proceedings"
    ).fetchall()
    places = {(code, court): name for code, court, name in places}
    expected = {
        (r.hearing_loc_code, r.base_city_code): r.hearing_location for r in tables["hearing_locations"].itertuples()
    }
    assert len(expected) == 3 and {key: places[key] for key in expected} == expected


def test_a_missing_lookup_leaves_an_empty_view_and_null_labels(tmp_path):
    result = build(tmp_path, drop=(release_format.NATIONALITY_TABLE, release_format.LANGUAGE_TABLE))
    con = database.connect(result)
    assert con.execute("SELECT count(*) FROM nationalities").fetchone()[0] == 0
    assert [row[0] for row in con.execute("DESCRIBE nationalities").fetchall()] == release_format.NATIONALITY_COLUMNS
    frame = con.execute(
        "SELECT NAT, nationality, language, custody_status FROM proceedings ORDER BY IDNPROCEEDING"
    ).df()
    assert frame["NAT"].tolist()[:2] == ["MX", "CH"] and frame["nationality"].isna().all()
    assert frame["language"].isna().all() and frame["custody_status"].tolist()[0] == "Detained"


def test_the_database_works_after_the_cache_folder_is_moved(built, tmp_path, monkeypatch):
    moved = tmp_path / "elsewhere" / "cache copy"  # a space, and another parent
    shutil.copytree(built.cache_dir, moved)
    monkeypatch.chdir(tmp_path)
    con = database.connect(moved)
    assert con.execute("SELECT count(*) FROM proceedings").fetchone()[0] == len(ROWS)
    assert labels(con).equals(labels(database.connect(built)))
    # Opened by hand from its folder, as the module says, it needs nothing else.
    monkeypatch.chdir(moved)
    con = duckdb.connect("eoir.duckdb", read_only=True)
    assert con.execute("SELECT count(*) FROM proceedings").fetchone()[0] == len(ROWS)


def test_no_database_is_a_one_line_error(tmp_path):
    with pytest.raises(ReleaseError, match=r"eoir.duckdb: no database; run notebook 01_ingest"):
        database.connect(tmp_path)


def test_the_default_lookups_give_a_database_too(tmp_path):
    release = write_release(tmp_path / "r", [proceeding_line(proceeding(1, nat="KS"))], lookups=lookup_tables())
    result = ingest.ingest_release(release, tmp_path / "interim", progress=False)
    row = database.connect(result).execute("SELECT court, nationality FROM proceedings").fetchone()
    assert row == ("Seattle, WA", "SOUTH KOREA")
