"""Lookups as the real release has them: a hearing-location code listed once per court, inactive
duplicates of active rows, keys repeated with different modification dates. Every expected value
below is counted by hand from the rows written here."""

import random

import pandas as pd
import pytest
from tiny_release import lookup_lines, lookup_tables, proceeding, proceeding_line, write_release

from pdclosures import cleaning, ingest, params, rates, release_format

BASE_CITIES = [
    # SEA: the active row wins over an inactive one that is newer and has a higher id.
    {
        "idnBaseCity": "1",
        "BASE_CITY_CODE": "SEA",
        "BASE_CITY": "SEATTLE",
        "BASE_STATE": "WA",
        "blnActive": "1",
        "datModifiedOn": "2020-01-01 00:00:00.000",
        "strRegion": "Western",
    },
    {
        "idnBaseCity": "9",
        "BASE_CITY_CODE": "SEA",
        "BASE_CITY": "OLD SEATTLE",
        "BASE_STATE": "OR",
        "blnActive": "0",
        "datModifiedOn": "2025-01-01 00:00:00.000",
        "strRegion": "Eastern",
    },
    {"idnBaseCity": "2", "BASE_CITY_CODE": "TUC", "BASE_CITY": "TUCSON", "BASE_STATE": "AZ", "blnActive": "1"},
    # HOU: both active; the later datModifiedOn wins although its id is lower.
    {
        "idnBaseCity": "8",
        "BASE_CITY_CODE": "HOU",
        "BASE_CITY": "HOUSTON OLD",
        "BASE_STATE": "TX",
        "blnActive": "1",
        "datModifiedOn": "2019-01-01 00:00:00.000",
    },
    {
        "idnBaseCity": "3",
        "BASE_CITY_CODE": "HOU",
        "BASE_CITY": "HOUSTON",
        "BASE_STATE": "TX",
        "blnActive": "1",
        "datModifiedOn": "2021-01-01 00:00:00.000",
    },
    # NYC: both active, same datModifiedOn: the higher id (6) wins.
    {
        "idnBaseCity": "5",
        "BASE_CITY_CODE": "NYC",
        "BASE_CITY": "NEW YORK OLD",
        "BASE_STATE": "NY",
        "blnActive": "1",
        "datModifiedOn": "2020-01-01 00:00:00.000",
    },
    {
        "idnBaseCity": "6",
        "BASE_CITY_CODE": "NYC",
        "BASE_CITY": "NEW YORK",
        "BASE_STATE": "NY",
        "blnActive": "1",
        "datModifiedOn": "2020-01-01 00:00:00.000",
    },
    # EMP: in the lookup, without a city.
    {"idnBaseCity": "7", "BASE_CITY_CODE": "EMP", "BASE_CITY_NAME": "IMMIGRATION COURT", "blnActive": "1"},
]
HEARING_LOCATIONS = [
    # IAD: one row per court (as the real lookup lists IAD once per base city), plus an inactive
    # duplicate of (IAD, SEA) that is newer and has a higher id, with another circuit.
    {
        "idnHloc": "1",
        "HEARING_LOC_CODE": "IAD",
        "HEARING_LOC_NAME": "IAD HLOC -SEA, WASHINGTON",
        "HEARING_CITY": "SEATTLE",
        "HEARING_STATE": "WA",
        "HEARING_BASE_CITY": "SEA",
        "CircuitCourt": "9",
        "blnActive": "1",
        "datModifiedOn": "2020-01-01 00:00:00.000",
    },
    {
        "idnHloc": "2",
        "HEARING_LOC_CODE": "IAD",
        "HEARING_LOC_NAME": "IAD HLOC -HOU, TEXAS",
        "HEARING_CITY": "HOUSTON",
        "HEARING_STATE": "TX",
        "HEARING_BASE_CITY": "HOU",
        "CircuitCourt": "5",
        "blnActive": "1",
    },
    {
        "idnHloc": "3",
        "HEARING_LOC_CODE": "IAD",
        "HEARING_LOC_NAME": "IAD WRONG",
        "HEARING_CITY": "WRONG",
        "HEARING_STATE": "ZZ",
        "HEARING_BASE_CITY": "SEA",
        "CircuitCourt": "1",
        "blnActive": "0",
        "datModifiedOn": "2025-01-01 00:00:00.000",
    },
    # TAC: listed once, for SEA only; a TUC proceeding at TAC falls back to that one row.
    {
        "idnHloc": "4",
        "HEARING_LOC_CODE": "TAC",
        "HEARING_LOC_NAME": "TACOMA DETENTION",
        "HEARING_CITY": "TACOMA",
        "HEARING_STATE": "WA",
        "HEARING_BASE_CITY": "SEA",
        "CircuitCourt": "9",
        "blnActive": "1",
    },
]
ROWS = [
    proceeding(1, court="SEA", hloc="IAD", comp="2013-01-10", other="Y"),
    proceeding(2, court="SEA", hloc="IAD", comp="2013-01-11", dec="X"),
    proceeding(3, court="HOU", hloc="IAD", comp="2013-01-12", other="Y"),
    proceeding(4, court="NYC", hloc="IAD", comp="2013-01-13", dec="X"),  # IAD not listed for NYC
    proceeding(5, court="TUC", hloc="TAC", comp="2013-01-14", other="Y"),  # TAC's one row (SEA's)
    proceeding(6, court="EMP", hloc="ZZZ", comp="2013-01-15", dec="X"),  # court without a city
    proceeding(7, court="XYZ", hloc="XYZ", comp="2013-01-16", dec="X"),  # neither code in the lookups
]
WINDOW = params.parse_window("2013-01-01", "2013-01-31")


def lookups(order=None):
    tables = {
        release_format.BASE_CITY_TABLE: BASE_CITIES,
        release_format.HLOC_TABLE: HEARING_LOCATIONS,
    }
    out = {}
    for table, rows in tables.items():
        rows = list(rows)
        if order is not None:
            order.shuffle(rows)
        out[table] = lookup_lines(table, rows)
    return out


def run(tmp_path, name="release", order=None):
    release = write_release(tmp_path / name, [proceeding_line(r) for r in ROWS], lookups=lookups(order))
    result = ingest.ingest_release(release, tmp_path / f"interim-{name}", progress=False)
    return result, rates.RateCalculator(result, WINDOW)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    result, calculator = run(tmp_path_factory.mktemp("lookups"))
    return result, calculator.all_tables()


def by_key(frame, *keys):
    return {tuple(row[k] for k in keys): row for row in frame.to_dict("records")}


def test_a_code_shared_by_several_courts_gives_each_court_its_own_hearing_location(tables):
    locations = by_key(tables[1]["hearing_locations"], "hearing_loc_code", "base_city_code")
    assert set(locations) == {
        ("IAD", "SEA"),
        ("IAD", "HOU"),
        ("IAD", "NYC"),
        ("TAC", "TUC"),
        ("ZZZ", "EMP"),
        ("XYZ", "XYZ"),
    }
    seattle, houston = locations[("IAD", "SEA")], locations[("IAD", "HOU")]
    assert (seattle["hearing_location"], seattle["hearing_city"], seattle["court"]) == (
        "IAD HLOC -SEA, WASHINGTON",
        "SEATTLE",
        "Seattle, WA",
    )
    assert (seattle["pd_closures"], seattle["completions"]) == (1, 2)
    assert (houston["hearing_location"], houston["hearing_state"], houston["court"]) == (
        "IAD HLOC -HOU, TEXAS",
        "TX",
        "Houston, TX",
    )
    assert (houston["pd_closures"], houston["completions"]) == (1, 1)
    # No row for (IAD, NYC) and IAD is not unique: no location is guessed.
    assert locations[("IAD", "NYC")]["hearing_location"] == "(code IAD, not listed for this court)"
    assert pd.isna(locations[("IAD", "NYC")]["hearing_city"])
    # TAC has one row (for SEA): the fallback uses it for the TUC proceeding.
    assert locations[("TAC", "TUC")]["hearing_location"] == "TACOMA DETENTION"
    assert locations[("ZZZ", "EMP")]["hearing_location"] == "(unknown code ZZZ)"


def test_circuits_follow_the_same_join(tables):
    circuits = by_key(tables[1]["circuits"], "circuit")
    # 9: proceedings 1, 2 (IAD at SEA) and 5 (TAC); 5: proceeding 3; unknown: 4, 6, 7.
    assert {k[0]: (r["pd_closures"], r["completions"]) for k, r in circuits.items()} == {
        "9": (2, 3),
        "5": (1, 1),
        "(unknown)": (0, 3),
    }


def test_inactive_duplicates_never_win_and_ties_follow_the_stated_rule(tables):
    courts = by_key(tables[1]["courts"], "base_city_code")
    assert courts[("SEA",)]["court"] == "Seattle, WA"  # not the newer inactive OLD SEATTLE, OR
    assert courts[("HOU",)]["court"] == "Houston, TX"  # the later datModifiedOn
    assert courts[("NYC",)]["court"] == "New York, NY"  # same date: the higher id
    states = {r["state"]: r["completions"] for r in tables[1]["states"].to_dict("records")}
    assert states == {"WA": 2, "AZ": 1, "TX": 1, "NY": 1, "(unknown)": 2}
    regions = {r["region"]: r["completions"] for r in tables[1]["regions"].to_dict("records")}
    assert "Eastern" not in regions  # only the inactive SEA row says Eastern


def test_a_code_without_a_city_is_told_apart_from_a_missing_code(tables):
    courts = by_key(tables[1]["courts"], "base_city_code")
    assert courts[("EMP",)]["court"] == "(code EMP, no city in lookup)"
    assert courts[("XYZ",)]["court"] == "(unknown code XYZ)"


def test_repeated_keys_are_counted_per_lookup(tables):
    quality = tables[0].data_quality
    repeated = quality[quality["issue"] == cleaning.REPEATED_KEY]
    # Base cities: SEA, HOU, NYC repeat (3 keys, 3 rows dropped); hearing locations: (IAD, SEA).
    assert dict(zip(repeated["table"], repeated["rows"])) == {
        release_format.BASE_CITY_TABLE: 3,
        release_format.HLOC_TABLE: 1,
    }
    assert dict(zip(repeated["table"], repeated["column"]))[release_format.HLOC_TABLE] == (
        "HEARING_LOC_CODE+HEARING_BASE_CITY"
    )
    shared = quality[quality["issue"] == cleaning.SHARED_HLOC_CODE]
    assert shared[["table", "column", "rows"]].values.tolist() == [[release_format.HLOC_TABLE, "HEARING_LOC_CODE", 1]]


def test_tables_are_byte_identical_whatever_the_order_of_the_lookup_rows(tmp_path):
    outputs = []
    for seed in (None, 1, 2, 3):
        order = None if seed is None else random.Random(seed)
        _, calculator = run(tmp_path, f"r{seed}", order)
        out = tmp_path / f"out{seed}"
        rates.write_tables(calculator.all_tables(), out)
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert all(o == outputs[0] for o in outputs[1:])


def test_reduce_lookup_keeps_the_same_row_in_any_order():
    header, *lines = lookup_lines(release_format.HLOC_TABLE, HEARING_LOCATIONS)
    frame = pd.DataFrame([line.split("\t") for line in lines], columns=header.split("\t"), dtype="string")
    first = cleaning.reduce_lookup(frame, release_format.HLOC_TABLE)
    for seed in range(5):
        shuffled = frame.sample(frac=1, random_state=seed)
        pd.testing.assert_frame_equal(cleaning.reduce_lookup(shuffled, release_format.HLOC_TABLE), first)
    assert first["idnHloc"].tolist() == ["2", "1", "4"]  # (IAD, HOU), (IAD, SEA) active, (TAC, SEA)


def test_default_lookups_are_unchanged_by_the_reduction(tmp_path):
    release = write_release(tmp_path / "r", [proceeding_line(proceeding(1))], lookups=lookup_tables())
    result = ingest.ingest_release(release, tmp_path / "interim", progress=False)
    assert not (result.data_quality["issue"] == cleaning.REPEATED_KEY).any()


def test_the_13_case_types_are_known_to_the_parameters():
    # AOC, CDR, CFR, CSR, DCC, DDC, DEP, EXC, NAC, REC, RFR, RMV, WHO (tblLookupCaseType), and the
    # synthetic sample's lookup has exactly these.
    from pdclosures import sample

    real = {"AOC", "CDR", "CFR", "CSR", "DCC", "DDC", "DEP", "EXC", "NAC", "REC", "RFR", "RMV", "WHO"}
    assert real <= release_format.KNOWN_CASE_TYPES
    assert {code for code, _, _ in sample.CASE_TYPES} == real
    assert params.resolve(case_types="DDC,RMV")["case_types"]


# --------------------------------------------------------------------------------------------
# The optional lookups: nationality, custody status, language


def test_the_three_optional_lookups_are_cached_one_row_per_code(tmp_path):
    release = write_release(tmp_path / "r", [proceeding_line(proceeding(1, nat="MX", custody="D", lang="SP"))])
    result = ingest.ingest_release(release, tmp_path / "interim", progress=False)
    expected = {
        release_format.NATIONALITY_TABLE: ("NAT_CODE", "NAT_NAME", {"MX": "MEXICO", "??": "UNKNOWN NATIONALITY"}),
        release_format.CUSTODY_TABLE: ("strCode", "strDescription", {"D": "Detained", "R": "Released"}),
        # 'SP ' comes trimmed
        release_format.LANGUAGE_TABLE: ("strCode", "strDescription", {"SP": "SPANISH", "KOR": "KOREAN"}),
    }
    for table, (code, name, some) in expected.items():
        assert result.has_lookup(table)
        frame = pd.read_parquet(result.lookup_path(table))
        labels = dict(zip(frame[code], frame[name]))
        assert len(labels) == len(frame) and some.items() <= labels.items()
    assert not result.data_quality["issue"].eq(ingest.LOOKUP_MISSING).any()
    assert set(result.accounting["table"]) >= set(release_format.OPTIONAL_LOOKUPS)


def test_a_release_without_an_optional_lookup_runs_and_says_which_is_missing(tmp_path):
    rows = [
        proceeding(1, nat="MX", custody="D", other="Y"),
        proceeding(2, nat="CH", custody="N"),
        proceeding(3, custody="R"),  # no nationality
    ]
    release = write_release(
        tmp_path / "r", [proceeding_line(r) for r in rows], drop_tables=(release_format.NATIONALITY_TABLE,)
    )
    result = ingest.ingest_release(release, tmp_path / "interim", progress=False)
    assert not result.has_lookup(release_format.NATIONALITY_TABLE)
    assert result.has_lookup(release_format.CUSTODY_TABLE) and result.has_lookup(release_format.LANGUAGE_TABLE)
    missing = result.data_quality[result.data_quality["issue"] == ingest.LOOKUP_MISSING]
    # One row: the lookup, the column whose codes stay codes, and the proceedings holding a code.
    assert missing[["table", "column", "rows"]].values.tolist() == [[release_format.NATIONALITY_TABLE, "NAT", 2]]
    assert release_format.NATIONALITY_TABLE not in set(result.accounting["table"])
    assert result.manifest["lookups_missing"] == [release_format.NATIONALITY_TABLE]
    # The codes are still in the cache, and the rates run as before.
    codes = pd.read_parquet(result.proceedings_path).sort_values("IDNPROCEEDING")["NAT"].tolist()
    assert codes[:2] == ["MX", "CH"] and pd.isna(codes[2])
    national = rates.RateCalculator(result, WINDOW).all_tables()["national"].iloc[0]
    assert (national["pd_closures"], national["completions"]) == (1, 3)
    ingest.preflight(release)  # a missing optional lookup is no error


def test_an_optional_lookup_added_later_rebuilds_the_cache(tmp_path):
    lines = [proceeding_line(proceeding(1, nat="MX"))]
    dropped = write_release(tmp_path / "r", lines, drop_tables=(release_format.CUSTODY_TABLE,))
    before = ingest.ingest_release(dropped, tmp_path / "interim", progress=False)
    custody = lookup_tables()[release_format.CUSTODY_TABLE]  # the same folder, now with the custody lookup
    path = tmp_path / "r" / "EOIR Case Data" / "Lookup" / f"{release_format.CUSTODY_TABLE}.csv"
    path.write_bytes("".join(line + "\r\n" for line in custody).encode(release_format.ENCODING))
    after = ingest.ingest_release(tmp_path / "r", tmp_path / "interim", progress=False)
    assert before.cache_dir != after.cache_dir and after.has_lookup(release_format.CUSTODY_TABLE)
