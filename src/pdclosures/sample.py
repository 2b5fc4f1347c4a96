"""A deterministic, seeded generator of a SYNTHETIC EOIR case-data release.

Nothing this module writes is EOIR data. It writes tables in the real release's layout and file
format (see release_format.py), filled with made-up proceedings whose volumes and prosecutorial-discretion
(PD) closure rates are calibrated to figures TRAC published, with the release's known quirks
planted on purpose: NUL bytes and space padding in codes, junk dates, tab-shifted lines, and line
breaks inside lookup descriptions. Beside the tables it writes a manifest of the planted truth,
counted from the generator's own records, so the pipeline's results can be checked against it.

Two sizes share one code path:
- write_sample_release: about 80,000 proceedings (about 5% of the real FY2011-FY2015 volume),
  zipped; the committed copy lives in data/sample/.
- write_full_scale_release: 16.5 million proceedings by default (about 3.1 GB of text; the real
  table is about 2.7 GB), written unpacked in chunks with bounded memory, for benchmarks.

Calibration sources: TRAC report 339 (https://trac.syr.edu/immigration/reports/339/) and the TRAC
bulletin of 2014-04-24 (http://trac.syr.edu/whatsnew/email.140424.html).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from . import definition, release_format
from .errors import ParameterError, run_command

GENERATOR_VERSION = "2"  # 2: the 2026 layout, three-character hearing codes (IAD shared), 13 case types
DEFAULT_SEED = 20140424
SAMPLE_PROCEEDINGS = 80_000
FULL_SCALE_PROCEEDINGS = 16_500_000
CHUNK_ROWS = 250_000  # rows generated and written at a time: bounds memory at full scale

RELEASE_ROOT = "EOIR Case Data"
README_NAME = "SYNTHETIC_SAMPLE_README.txt"
MANIFEST_NAME = "sample_manifest.json"
COUNT_NAME = "Count.txt"
TABLE_PATHS = {
    # The current layout (April 2026 release): data tables directly in EOIR Case Data/, lookups in
    # EOIR Case Data/Lookup/ (public loaders: deportationdata/eoir, daeseong/eoir-analytics).
    release_format.PROCEEDING_TABLE: f"{RELEASE_ROOT}/{release_format.PROCEEDING_TABLE}.csv",
    release_format.BASE_CITY_TABLE: f"{RELEASE_ROOT}/Lookup/{release_format.BASE_CITY_TABLE}.csv",
    release_format.HLOC_TABLE: f"{RELEASE_ROOT}/Lookup/{release_format.HLOC_TABLE}.csv",
    release_format.DECISION_TABLE: f"{RELEASE_ROOT}/Lookup/{release_format.DECISION_TABLE}.csv",
    release_format.CASE_TYPE_TABLE: f"{RELEASE_ROOT}/Lookup/{release_format.CASE_TYPE_TABLE}.csv",
}
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # fixed, so the same seed gives a byte-identical zip

WARNING = (
    "SYNTHETIC DATA made by pdclosures.sample: not EOIR data. Every proceeding in it is "
    "made up; use it only to test software, never to say anything about immigration courts."
)

# The span of the synthetic proceedings: fiscal years 2011-2015.
FIRST_DAY = date(2010, 10, 1)
LAST_DAY = date(2015, 9, 30)
FISCAL_YEARS = (2011, 2012, 2013, 2014, 2015)
TRUTH_WINDOWS = {
    "trac-2014": (date(2012, 10, 1), date(2014, 3, 31)),  # TRAC bulletin of 2014-04-24
    "report-339": (date(2011, 10, 1), date(2013, 12, 31)),  # TRAC report 339, Table 1 total
    **{f"FY{fy}": (date(fy - 1, 10, 1), date(fy, 9, 30)) for fy in FISCAL_YEARS},
}
COURT_TRUTH_WINDOWS = ("trac-2014", "report-339")

# --------------------------------------------------------------------------------------------
# Courts

# Base-city codes with their city and state, as in EOIR's tblLookupBaseCity (via the public loader deportationdata/eoir)
# weight: relative number of completions, a rough
# guess at each court's FY2011-FY2015 size (Seattle and Tucson somewhat enlarged so their rates
# are stable in the 80,000-row sample). pd_pct: the court's PD-closure rate in the trac-2014
# window, TRAC's published figure where one exists (report 339; bulletin 2014-04-24), otherwise a
# plausible guess (detention courts near zero). detained: a detention court.
COURTS = [
    # code, city, state, weight, pd_pct, detained
    ("NYC", "NEW YORK", "NY", 80, 3.5, False),  # TRAC: 3-4
    ("LOS", "LOS ANGELES", "CA", 72, 23.7, False),  # TRAC: 23.7
    ("SFR", "SAN FRANCISCO", "CA", 45, 6.0, False),
    ("MIA", "MIAMI", "FL", 40, 6.3, False),  # TRAC: 6.3
    ("HOU", "HOUSTON", "TX", 38, 1.7, False),  # TRAC: 1.7, under 3
    ("SNA", "SAN ANTONIO", "TX", 33, 3.5, False),  # TRAC: 3-4
    ("CHI", "CHICAGO", "IL", 33, 5.0, False),  # TRAC: 5.0
    ("DAL", "DALLAS", "TX", 28, 2.5, False),
    ("SEA", "SEATTLE", "WA", 22, 30.0, False),  # TRAC: about 30
    ("ATL", "ATLANTA", "GA", 25, 2.0, False),
    ("WAS", "ANNANDALE", "VA", 25, 4.0, False),
    ("NEW", "NEWARK", "NJ", 25, 3.5, False),  # TRAC: 3-4
    ("TUC", "TUCSON", "AZ", 18, 30.0, False),  # TRAC: about 30
    ("PHO", "PHOENIX", "AZ", 20, 21.0, False),  # TRAC: 20.7
    ("BOS", "BOSTON", "MA", 20, 4.0, False),
    ("SND", "SAN DIEGO", "CA", 18, 5.0, False),
    ("ORL", "ORLANDO", "FL", 18, 3.0, False),
    ("DEN", "DENVER", "CO", 16, 6.0, False),
    ("LVG", "LAS VEGAS", "NV", 16, 3.3, False),  # TRAC: 3-4; Las Vegas Sun: about 3
    ("HLG", "HARLINGEN", "TX", 16, 1.5, False),
    ("BAL", "BALTIMORE", "MD", 15, 4.0, False),
    ("OMA", "OMAHA", "NE", 14, 23.0, False),  # TRAC: 23.1
    ("PHI", "PHILADELPHIA", "PA", 14, 4.0, False),
    ("CHL", "CHARLOTTE", "NC", 14, 18.0, False),  # TRAC (through Feb 2015): 18.1
    ("MEM", "MEMPHIS", "TN", 14, 4.0, False),
    ("ELP", "EL PASO", "TX", 12, 1.5, False),  # TRAC: under 3
    ("DET", "DETROIT", "MI", 12, 4.0, False),
    ("SLC", "WEST VALLEY", "UT", 10, 5.0, False),
    ("POR", "PORTLAND", "OR", 10, 8.0, False),
    ("KAN", "KANSAS CITY", "MO", 10, 4.0, False),
    ("NOL", "NEW ORLEANS", "LA", 10, 3.0, False),
    ("BLM", "FORT SNELLING", "MN", 10, 5.0, False),
    ("CLE", "CLEVELAND", "OH", 9, 4.0, False),
    ("HAR", "HARTFORD", "CT", 9, 4.0, False),
    ("BUF", "BUFFALO", "NY", 8, 1.5, False),  # TRAC: under 3
    ("LRO", "LAREDO", "TX", 6, 1.0, False),
    ("HON", "HONOLULU", "HI", 3, 5.0, False),
    ("SAJ", "GUAYNABO", "PR", 3, 2.0, False),
    ("AGA", "HAGATNA", "GU", 1, 3.0, False),
    ("ELO", "ELOY", "AZ", 16, 1.0, True),
    ("OTM", "OTAY MESA", "CA", 12, 1.0, True),
    ("OAK", "OAKDALE", "LA", 12, 0.5, True),
    ("ADL", "ADELANTO", "CA", 10, 1.5, True),
    ("SDC", "LUMPKIN", "GA", 10, 0.5, True),
    ("PIS", "LOS FRESNOS", "TX", 10, 0.5, True),
    ("HOD", "HOUSTON", "TX", 10, 0.5, True),
    ("TAC", "TACOMA", "WA", 10, 2.0, True),
    ("FLO", "FLORENCE", "AZ", 8, 1.0, True),
    ("EPD", "EL PASO", "TX", 8, 0.5, True),
    ("AUR", "AURORA", "CO", 7, 2.0, True),
    ("KRO", "MIAMI", "FL", 7, 1.0, True),
    ("JNA", "JENA", "LA", 6, 0.5, True),
    ("ELZ", "ELIZABETH", "NJ", 6, 1.0, True),
    ("IMP", "IMPERIAL", "CA", 5, 1.0, True),
    ("BTV", "BATAVIA", "NY", 5, 1.0, True),
]
# Codes in tblLookupBaseCity that are not courts (headquarters, the appeals board); empty city.
NON_COURT_CODES = [("HDQ", "HEADQUARTERS"), ("BIA", "BOARD OF IMMIGRATION APPEALS")]

# Federal judicial circuit of each state or territory the courts are in (28 U.S.C. 41).
CIRCUIT_OF_STATE = {
    "MA": "1",
    "PR": "1",
    "NY": "2",
    "CT": "2",
    "NJ": "3",
    "PA": "3",
    "MD": "4",
    "NC": "4",
    "VA": "4",
    "TX": "5",
    "LA": "5",
    "MI": "6",
    "OH": "6",
    "TN": "6",
    "IL": "7",
    "MN": "8",
    "MO": "8",
    "NE": "8",
    "AZ": "9",
    "CA": "9",
    "GU": "9",
    "HI": "9",
    "NV": "9",
    "OR": "9",
    "WA": "9",
    "CO": "10",
    "UT": "10",
    "FL": "11",
    "GA": "11",
}
# EOIR's strRegion splits the courts in two; here: states west of the Mississippi are Western.
WESTERN_STATES = {"AZ", "CA", "CO", "GU", "HI", "LA", "MN", "MO", "NE", "NV", "OR", "TX", "UT", "WA"}

# Hearing locations after the court's own: (name pattern, detention site). Real hearing-location
# codes have three characters (varchar(3)); here a digit and the court code's last two letters
# (1EA for Seattle's first), the digit raised until the code is unused.
EXTRA_HEARING_LOCATIONS = [
    ("{city} DETENTION CENTER", True),
    ("{city} COUNTY JAIL", True),
    ("{city} VIDEO HEARINGS", False),
]
# A hearing-location code listed once per court, each row with the court's own city and circuit,
# as the real tblLookupHloc lists IAD 87 times ("IAD HLOC -SEA, WASHINGTON", ...). One proceeding
# in SHARED_HLOC_EVERY (by position, so no random draw changes) is heard there.
SHARED_HLOC_CODE = "IAD"
SHARED_HLOC_EVERY = 40

# --------------------------------------------------------------------------------------------
# Codes

# OTHER_COMP codes (tblLookupCourtDecision rows with strDecType 'O'), with the descriptions of the
# real lookup as public loaders dumped it (deportationdata/eoir, October 2025; I from an older
# lookup, the PyPI package eoir 0.0.1). "" (no administrative completion) is index 0.
OTHER_COMP_MEANINGS = {
    "C": "Change of Venue",
    "T": "Transfer",
    "A": "Administrative Closing - Other",
    "F": "Failure to Prosecute (DHS cases only)",
    "Y": "Prosecutorial Discretion - Admin Close",
    "X": "ZERO BOND",
    "P": "Temporary Protected Status",
    "O": "Other Administrative Completion",
    "M": "In Court Prosecutorial Discretion - Admin Closure",
    "K": "Administrative Closure",
    "H": "Haitian",
    "I": "Prosecutorial Discretion - Terminated",
}
OTHER_COMP_VALUES = np.array([""] + list(OTHER_COMP_MEANINGS), dtype=object)
IS_PD_CODE = np.isin(OTHER_COMP_VALUES, definition.PD_CODES_DEFAULT)
IS_NEW_PROCEEDING_CODE = np.isin(OTHER_COMP_VALUES, definition.NEW_PROCEEDING_CODES_DEFAULT)
OTHER_COMP_INDEX = {code: index for index, code in enumerate(OTHER_COMP_VALUES)}
# Non-PD administrative completions, weighted by their all-years counts (October 2025 release).
ADMIN_COMP_WEIGHTS = {"A": 521_518, "F": 370_352, "X": 76_067, "P": 17_809, "O": 16_502, "K": 3_032, "H": 2_994}
PD_CODE_SHARES = {"Y": 0.93, "M": 0.065, "I": 0.005}  # Y dominates; I is nearly unused
NEW_PROCEEDING_SHARES = {"C": 0.69, "T": 0.31}  # 1,898,506 C : 847,234 T in the October 2025 release

# Merits decisions (DEC_CODE; strDecType 'C') per group of case types: code, description,
# weight. Weights follow the all-years DEC_CODE counts; the descriptions are written for this
# synthetic lookup and are not EOIR's wording.
MERITS_DECISIONS = {
    "RMV": [
        ("X", "Removal ordered", 3_943_648),
        ("R", "Relief granted", 880_183),
        ("V", "Voluntary departure granted", 814_201),
        ("T", "Proceedings terminated", 810_769),
        ("O", "Other decision", 41_856),
        ("W", "Withdrawal permitted", 10_972),
    ],
    "DEP": [
        ("D", "Deportation ordered", 657_115),
        ("U", "Deportation ordered - other", 632_069),
        ("V", "Voluntary departure granted", 814_201),
        ("T", "Proceedings terminated", 810_769),
        ("R", "Relief granted", 880_183),
    ],
    "EXC": [
        ("E", "Excluded", 158_177),
        ("A", "Admitted", 189_914),
        ("T", "Proceedings terminated", 810_769),
        ("R", "Relief granted", 880_183),
        ("W", "Withdrawal permitted", 10_972),
    ],
    "OTHER": [
        ("L", "DHS finding affirmed - denied", 6),
        ("R", "Relief granted", 3),
        ("T", "Proceedings terminated", 1),
        ("O", "Other decision", 1),
    ],
}
DECISION_TYPES = {"O": 4_710_142, "W": 4_196_206, "7": 693_552, "6": 135_995}

# The 13 case types of tblLookupCaseType with their real descriptions, and all-years counts
# (October 2025 release, deportationdata/eoir; DDC has none there; the stray values D, N, R, C,
# T, AOL of under 60 rows are left out). The last three come after the others so that the draws of
# the first ten are those of earlier samples.
CASE_TYPES = [
    ("RMV", "Removal", 13_512_456),
    ("DEP", "Deportation", 1_455_103),
    ("EXC", "Exclusion", 259_543),
    ("CFR", "Credible Fear Review", 205_845),
    ("WHO", "Withholding Only", 58_901),
    ("RFR", "Reasonable Fear Case", 36_451),
    ("AOC", "Asylum Only Case", 27_328),
    ("REC", "Rescission", 2_837),
    ("CSR", "Claimed Status Review", 1_385),
    ("NAC", "NACARA Adjustment", 488),
    ("CDR", "Continued Detention Review", 48),
    ("DCC", "Departure Control", 1),
    ("DDC", "DD Appeal", 0),
]
CASE_TYPE_CODES = np.array([code for code, _, _ in CASE_TYPES], dtype=object)
PD_CASE_TYPES = np.isin(CASE_TYPE_CODES, release_format.REMOVAL_CASE_TYPES)  # PD closes removal cases

# Nationality and language pairs (EOIR-style codes) with made-up shares.
NATIONALITY_LANGUAGE = [
    ("MX", "SP", 42),
    ("GT", "SP", 11),
    ("ES", "SP", 10),
    ("HO", "SP", 9),
    ("CH", "MAN", 5),
    ("IN", "PUN", 3),
    ("EC", "SP", 2),
    ("DR", "SP", 2),
    ("HA", "CRE", 2),
    ("CU", "SP", 2),
    ("PH", "ENG", 2),
    ("CO", "SP", 2),
    ("NU", "SP", 2),
    ("RU", "RUS", 1),
    ("NI", "ENG", 1),
]
HEARING_TIMES = np.array(["0830", "0900", "0930", "1000", "1030", "1100", "1300", "1330", "1400", "1500"], dtype=object)

# --------------------------------------------------------------------------------------------
# Calibration of volumes and PD closures

# Completions other than change of venue and transfer per fiscal year, at real scale: TRAC report
# 339 Table 1 for FY2012 and FY2013; FY2014 is its Oct-Dec 2013 figure (42,816) times four,
# FY2015 the bulletin of 2015-03-19's Jan-Feb 2015 figure (28,703) times six; FY2011 assumed
# similar to FY2012. The generator keeps the proportions; `proceedings` sets the scale.
COMPLETIONS_PER_FISCAL_YEAR = {2011: 210_000, 2012: 206_330, 2013: 191_803, 2014: 171_264, 2015: 172_218}

# National PD intensity per fiscal quarter, relative to the trac-2014 window (where it averages
# 1.0): a court's PD probability is its pd_pct times this. Zero before the Morton memo of June
# 2011; ramping up through FY2012 (TRAC: 2,609 PD closures by March 2012, 9,684 by September).
# TRAC's figures are not mutually consistent under one method (FY2013 at 8.5% and Oct-Dec 2013
# at 7.0% cannot average 6.7% over Oct 2012-Mar 2014), so the window rate of 6.7% and the court
# rates take precedence; the FY2013 rate comes out lower than 8.5%.
PD_INTENSITY_BY_QUARTER = {
    2011: (0.0, 0.0, 0.0, 0.03),
    2012: (0.30, 0.50, 0.85, 1.05),
    2013: (1.05, 1.05, 1.05, 1.00),
    2014: (0.95, 0.80, 0.85, 0.90),
    2015: (1.00, 1.15, 1.20, 1.20),
}

# Proceedings before a case's last one, each ended by a change of venue or transfer (C/T).
# Shares wanted per case; a case whose proceeding starts too early to have a predecessor inside
# the span gets fewer. Together they make C/T about 23% of completed rows, as in the real data
# (1.9M C + 0.85M T against 9.3M other completions, October 2025 release).
PREDECESSOR_COUNTS = np.array([0, 1, 2])
PREDECESSOR_SHARES = np.array([0.76, 0.215, 0.025])
MAX_LAG = 10  # business days from a C/T completion to the next proceeding's input
PENDING_SHARE_OF_LAST = 0.245  # gives about 20% of rows without COMP_DATE (pending)
ADMIN_SHARE = 0.11  # non-PD completions that are administrative (OTHER_COMP) rather than merits

# Planted quirks. Tab-shifted lines: 71 in the real June 2026 release; at least 25 in a sample.
TAB_SHIFTED_FULL_SCALE, TAB_SHIFTED_MINIMUM = 71, 25
TWO_STRAY_TABS_FULL_SCALE, TWO_STRAY_TABS_MINIMUM = 6, 2
TRUNCATED_FULL_SCALE, TRUNCATED_MINIMUM = 6, 2
TRUNCATED_FIELDS = 20
JUNK_DATES_PER_ROW = 36 / 80_000  # per date column: a few dozen in the sample
JUNK_DATE_COLUMNS = ("OSC_DATE", "INPUT_DATE", "COMP_DATE")
JUNK_DATES = np.array(
    [
        "1899-12-31 00:00:00.000",
        "1900-01-01 00:00:00.000",
        "2013-02-30 00:00:00.000",
        "2013-04-31 00:00:00.000",
        "UNKNOWN",
        "00/00/0000",
    ],
    dtype=object,
)
NUL_SHARE = 0.0025  # rows given a NUL byte after the code, per column below
PADDED_SHARE = 0.015  # rows given a trailing space after the code, per column below
NUL_COLUMNS = ("BASE_CITY_CODE", "OTHER_COMP", "HEARING_LOC_CODE")
PADDED_COLUMNS = ("BASE_CITY_CODE", "OTHER_COMP", "LANG", "CASE_TYPE")

FIRST_IDNPROCEEDING = 6_000_001
FIRST_IDNCASE = 4_000_001


def _shares(weights) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return weights / weights.sum()


def _scaled_count(proceedings: int, full_scale: int, minimum: int) -> int:
    return max(minimum, round(full_scale * proceedings / FULL_SCALE_PROCEEDINGS))


def _timestamp(day) -> str:
    return f"{day} 00:00:00.000"


# --------------------------------------------------------------------------------------------
# Calendar: dates are business-day indexes from FIRST_DAY (courts decide on weekdays)


class _Calendar:
    """Business days as integer indexes (0 = FIRST_DAY) and their release-style date strings."""

    BEFORE, AFTER = 400, 800  # indexes kept before FIRST_DAY (OSC, detention) and after LAST_DAY

    def __init__(self):
        self.days_in_span = int(np.busday_count(FIRST_DAY, LAST_DAY + timedelta(days=1)))
        indexes = np.arange(-self.BEFORE, self.days_in_span + self.AFTER)
        self.days = np.busday_offset(np.datetime64(FIRST_DAY), indexes, roll="forward")
        self._strings = np.array([_timestamp(d) for d in self.days.astype(str)], dtype=object)
        self.fiscal_year_first = np.array([self.index(date(fy - 1, 10, 1)) for fy in FISCAL_YEARS])
        self.fiscal_year_length = (
            np.array([self.index(date(fy, 10, 1)) for fy in FISCAL_YEARS]) - self.fiscal_year_first
        )
        months = self.days.astype("datetime64[M]").astype(int) % 12 + 1
        fiscal_years = self.days.astype("datetime64[Y]").astype(int) + 1970 + (months >= 10)
        quarters = ((months + 2) % 12) // 3  # Oct-Dec -> 0, ..., Jul-Sep -> 3
        self._pd_intensity = np.array(
            [
                PD_INTENSITY_BY_QUARTER.get(fy, (0, 0, 0, 0))[q]
                for fy, q in zip(fiscal_years.tolist(), quarters.tolist())
            ]
        )

    def index(self, day: date) -> int:
        """Index of the first business day on or after `day`."""
        return int(np.busday_count(FIRST_DAY, day)) if day >= FIRST_DAY else -int(np.busday_count(day, FIRST_DAY))

    def strings(self, indexes: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
        out = self._strings[indexes + self.BEFORE]
        if present is not None:
            out[~present] = ""
        return out

    def dates(self, indexes: np.ndarray) -> np.ndarray:
        return self.days[indexes + self.BEFORE]

    def pd_intensity(self, indexes: np.ndarray) -> np.ndarray:
        return self._pd_intensity[indexes + self.BEFORE]


# --------------------------------------------------------------------------------------------
# Lookup tables


def _hearing_locations():
    """(court index, code, name, city, state, detention site) for 1-4 locations per court, each
    code of three characters."""
    locations = []
    used = {code for code, *_ in COURTS} | {SHARED_HLOC_CODE}
    for court_index, (code, city, state, weight, _, detained) in enumerate(COURTS):
        locations.append((court_index, code, f"{city} IMMIGRATION COURT", city, state, detained))
        extras = (weight >= 10) + (weight >= 20) + (weight >= 40)
        for name, detention_site in EXTRA_HEARING_LOCATIONS[:extras]:
            digit = 1
            while f"{digit}{code[1:]}" in used:
                digit += 1
            used.add(f"{digit}{code[1:]}")
            locations.append((court_index, f"{digit}{code[1:]}", name.format(city=city), city, state, detention_site))
    return locations


INACTIVE_DUPLICATE_COURT = "SEA"  # tblLookupBaseCity repeats this code in an inactive row


def _base_city_rows() -> list[list[str]]:
    created = _timestamp("1997-04-01")
    entries = [(code, city, state) for code, city, state, *_ in COURTS] + [
        (code, "", "") for code, _ in NON_COURT_CODES
    ]
    rows = []
    for number, (code, city, state) in enumerate(sorted(entries), 1):
        region = "" if not state else "Western" if state in WESTERN_STATES else "Eastern"
        # Addresses, zips and phone numbers are left empty rather than invented.
        values = {
            "idnBaseCity": str(number),
            "BASE_CITY_CODE": code,
            "BASE_CITY_NAME": "IMMIGRATION COURT",
            "BaseAutomated": "1",
            "BASE_CITY": city,
            "BASE_STATE": state,
            "strRegion": region,
            "datCreatedOn": created,
            "datModifiedOn": created,
            "blnActive": "1",
            "blnBCIS": "0",
        }
        values.update({column: "0" for column in release_format.BASE_CITY_PRINT_FORM_COLUMNS})
        rows.append([values.get(column, "") for column in release_format.BASE_CITY_COLUMNS])
        if code == INACTIVE_DUPLICATE_COURT:
            # An inactive duplicate, newer and with a higher id, with another city, state and region:
            # it must never win over the active row (the real lookup has 97 rows for 96 codes).
            stale = {
                **values,
                "idnBaseCity": "900",
                "BASE_CITY": "OLD " + city,
                "BASE_STATE": "ZZ",
                "strRegion": "Eastern",
                "blnActive": "0",
                "datModifiedOn": _timestamp("2025-01-01"),
            }
            rows.append([stale.get(column, "") for column in release_format.BASE_CITY_COLUMNS])
    return rows


def _hloc_rows() -> list[list[str]]:
    created = _timestamp("1997-04-01")
    rows = []
    shared = [
        (court_index, SHARED_HLOC_CODE, f"{SHARED_HLOC_CODE} HLOC -{code}, {city}", city, state, False)
        for court_index, (code, city, state, *_) in enumerate(COURTS)
    ]
    # An inactive duplicate of (IAD, SEA), newer and with a higher id, in another circuit.
    stale = [
        (
            COURTS.index(next(c for c in COURTS if c[0] == INACTIVE_DUPLICATE_COURT)),
            SHARED_HLOC_CODE,
            f"{SHARED_HLOC_CODE} HLOC (superseded)",
            "NOWHERE",
            "ZZ",
            False,
        )
    ]
    for number, (court_index, code, name, city, state, detention_site) in enumerate(
        _hearing_locations() + shared + stale, 1
    ):
        court_code = COURTS[court_index][0]
        inactive = name.endswith("(superseded)")
        title = "COURT ADMINISTRATOR"
        if code == "SEA":  # the real lookups sometimes break a description over two lines
            title = "COURT ADMINISTRATOR\r\nSEATTLE IMMIGRATION COURT"
        values = {
            "idnHloc": str(number),
            "HEARING_LOC_CODE": code,
            "HEARING_LOC_NAME": name,
            "HEARING_CORR_TITLE": title,
            "HEARING_CITY": city,
            "HEARING_STATE": state,
            "HEARING_BASE_CITY": court_code,
            "Hear_Admin_Hear_Loc": "N",
            "Hear_Det_Type": "D" if detention_site else "",
            "Hear_Active_Flg": "Y",
            "datCreatedOn": created,
            "datModifiedOn": _timestamp("2025-01-01") if inactive else created,
            "blnActive": "0" if inactive else "1",
            "intCalDetainDays": "10",
            "intCalINSAsyPDays": "45",
            "intCalINSAsyMDays": "45",
            "intCalINSDays": "60",
            "intCalEOIRDays": "60",
            "intCalCFRDays": "7",
            "intCalCDRDays": "7",
            "CircuitCourt": "1" if inactive else CIRCUIT_OF_STATE[state],
            "blnPrnWksOnAdd": "0",
            "blnPrnRopOnAdd": "0",
        }
        rows.append([values.get(column, "") for column in release_format.HLOC_COLUMNS])
    return rows


# When each OTHER_COMP code entered the lookup. SYNTHETIC dates: the PD codes around the
# Morton memo (June 2011) and the in-court PD programme (2012); the rest with the 1997 system.
OTHER_COMP_CREATED = {"Y": "2011-11-17", "I": "2011-11-17", "M": "2012-06-04"}


def _decision_rows() -> list[list[str]]:
    rows = []

    def add(case_type, code, description, decision_type, active, created):
        values = {
            "idnCourtDecision": str(len(rows) + 1),
            "strCaseType": case_type,
            "strDecCode": code,
            "strDecDescription": description,
            "strDecType": decision_type,
            "strFinalDisposition": "",  # empty in the 2026 releases
            "blnActive": active,
            # datCreatedOn is null in about 22% of the real rows: here in every fourth merits row.
            "datCreatedOn": "" if decision_type == "C" and len(rows) % 4 == 0 else _timestamp(created),
            "datModifiedOn": _timestamp(created),
        }
        rows.append([values[column] for column in release_format.DECISION_COLUMNS])

    for case_type, _, _ in CASE_TYPES:
        group = case_type if case_type in MERITS_DECISIONS else "OTHER"
        for code, description, _ in MERITS_DECISIONS[group]:
            add(case_type, code, description, "C", "1", "1997-04-01")
        for code, meaning in OTHER_COMP_MEANINGS.items():
            if case_type == "EXC" and code == "O":  # the real lookups sometimes break a description
                meaning = "Other administrative completion\r\n(legacy exclusion case)"
            add(case_type, code, meaning, "O", "1", OTHER_COMP_CREATED.get(code, "1997-04-01"))
    # An inactive row repeating an active (code, case type) key, as the real table has.
    add("RMV", "Y", "Prosecutorial Discretion (superseded)", "O", "0", "2011-08-18")
    return rows


def _case_type_rows() -> list[list[str]]:
    created = _timestamp("1997-04-01")
    return [
        [str(number), code, description, "1", created, created, code[0]]
        for number, (code, description, _) in enumerate(CASE_TYPES, 1)
    ]


def _lookup_tables() -> dict[str, tuple[list[str], list[list[str]]]]:
    return {
        release_format.BASE_CITY_TABLE: (release_format.BASE_CITY_COLUMNS, _base_city_rows()),
        release_format.HLOC_TABLE: (release_format.HLOC_COLUMNS, _hloc_rows()),
        release_format.DECISION_TABLE: (release_format.DECISION_COLUMNS, _decision_rows()),
        release_format.CASE_TYPE_TABLE: (release_format.CASE_TYPE_COLUMNS, _case_type_rows()),
    }


def _encode_lines(lines: list[str]) -> bytes:
    return (release_format.LINE_END.join(lines) + release_format.LINE_END).encode(release_format.ENCODING)


# --------------------------------------------------------------------------------------------
# Proceedings


class _Tables:
    """Per-court arrays the chunk generator indexes into, built once per release."""

    def __init__(self, seed: int):
        self.court_codes = np.array([c[0] for c in COURTS], dtype=object)
        self.court_share = _shares([c[3] for c in COURTS])
        self.court_pd_rate = np.array([c[4] / 100 for c in COURTS])
        self.court_detained = np.array([c[5] for c in COURTS])
        locations = _hearing_locations()
        self.location_codes = np.array([loc[1] for loc in locations], dtype=object)
        location_court = np.array([loc[0] for loc in locations])
        self.first_location = np.searchsorted(location_court, np.arange(len(COURTS)))
        self.location_count = np.bincount(location_court, minlength=len(COURTS))
        # Judges: made-up three-letter codes, two or more per court.
        judge_rng = np.random.default_rng([seed, 0])
        self.judge_count = np.array([max(2, c[3] // 4) for c in COURTS])
        self.first_judge = np.cumsum(self.judge_count) - self.judge_count
        letters = judge_rng.integers(0, 26, size=(self.judge_count.sum(), 3)) + ord("A")
        self.judge_codes = np.array(["".join(map(chr, row)) for row in letters.tolist()], dtype=object)
        self.nationality = np.array([n for n, _, _ in NATIONALITY_LANGUAGE], dtype=object)
        self.language = np.array([lang for _, lang, _ in NATIONALITY_LANGUAGE], dtype=object)
        self.nationality_share = _shares([w for _, _, w in NATIONALITY_LANGUAGE])
        self.case_type_share = _shares([w for _, _, w in CASE_TYPES])
        self.decision_types = np.array(list(DECISION_TYPES), dtype=object)
        self.decision_type_share = _shares(list(DECISION_TYPES.values()))


def _quirk_quota(proceedings: int) -> dict[str, int]:
    """How many of each planted quirk a release of this size gets, in total."""
    junk = round(JUNK_DATES_PER_ROW * proceedings)
    return {
        "tab_shifted": _scaled_count(proceedings, TAB_SHIFTED_FULL_SCALE, TAB_SHIFTED_MINIMUM),
        "two_stray_tabs": _scaled_count(proceedings, TWO_STRAY_TABS_FULL_SCALE, TWO_STRAY_TABS_MINIMUM),
        "truncated": _scaled_count(proceedings, TRUNCATED_FULL_SCALE, TRUNCATED_MINIMUM),
        **{f"junk_{column}": junk for column in JUNK_DATE_COLUMNS},
    }


def _split_quota(quota: dict[str, int], chunk_sizes: list[int]) -> list[dict[str, int]]:
    """Share each total among the chunks in proportion to their rows (deterministically)."""
    bounds = np.concatenate(([0], np.cumsum(chunk_sizes))) / sum(chunk_sizes)
    per_chunk = [{} for _ in chunk_sizes]
    for name, total in quota.items():
        cumulative = np.round(bounds * total).astype(int)
        for chunk, count in enumerate(np.diff(cumulative).tolist()):
            per_chunk[chunk][name] = count
    return per_chunk


def _choose(rng, candidates: np.ndarray, count: int) -> np.ndarray:
    return np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))


def _draw_codes(rng, weights: dict, size: int) -> np.ndarray:
    """OTHER_COMP indexes drawn by {code: weight}."""
    indexes = np.array([OTHER_COMP_INDEX[code] for code in weights])
    return indexes[rng.choice(len(indexes), size=size, p=_shares(list(weights.values())))]


def _case_timelines(rng, rows: int, calendar: _Calendar, tables: _Tables) -> dict:
    """Cases as chains of proceedings, exactly `rows` long, with courts and business-day dates.

    Every proceeding but a case's last ended in a change of venue or transfer (C/T) a few days
    before the next one's input, at another court. A case's last proceeding is pending, or
    completed on a day drawn by the fiscal year's completion volume. Inputs stay inside
    FY2011-FY2015: one that would fall earlier is redrawn inside the span, and its proceeding
    gets no predecessor (whose C/T completion would fall before the span).
    Returns per-row arrays in file order: by input day (so IDNPROCEEDING grows with time and a
    case's proceedings come in sequence); `previous` and `following` give the row of the same
    case's previous and next proceeding, -1 where there is none.
    """
    span, n_courts = calendar.days_in_span, len(COURTS)
    cases = rows  # enough: a case has at least one proceeding
    pending = rng.random(cases) < PENDING_SHARE_OF_LAST
    fiscal_year = rng.choice(len(FISCAL_YEARS), size=cases, p=_shares(list(COMPLETIONS_PER_FISCAL_YEAR.values())))
    comp = np.where(
        pending,
        -1,
        calendar.fiscal_year_first[fiscal_year]
        + (rng.random(cases) * calendar.fiscal_year_length[fiscal_year]).astype(int),
    )
    entered = np.where(
        pending, span - 1 - rng.exponential(400, cases).astype(int), comp - rng.exponential(250, cases).astype(int)
    )
    court = rng.choice(n_courts, size=cases, p=tables.court_share)
    wanted = rng.choice(PREDECESSOR_COUNTS, size=cases, p=PREDECESSOR_SHARES)
    levels = [(comp, entered, court)]  # level 0: the last proceeding; level k: k steps before it
    predecessors = np.zeros(cases, dtype=int)
    for level in range(1, PREDECESSOR_COUNTS.max() + 1):
        next_comp, next_entered, next_court = levels[-1]
        possible = (wanted >= level) & (predecessors == level - 1) & (next_entered >= MAX_LAG)
        level_comp = next_entered - rng.integers(1, MAX_LAG + 1, cases)
        level_entered = level_comp - rng.exponential(120, cases).astype(int)
        level_court = (next_court + rng.integers(1, n_courts, cases)) % n_courts
        predecessors[possible] = level
        levels.append((level_comp, level_entered, level_court))
    for level_comp, level_entered, _ in levels:
        early = np.flatnonzero(level_entered < 0)
        latest = np.where(level_comp[early] >= 0, level_comp[early], span - 1)
        level_entered[early] = (rng.random(len(early)) * (latest + 1)).astype(int)

    ends = np.cumsum(1 + predecessors)
    n_cases = int(np.searchsorted(ends, rows)) + 1
    predecessors = predecessors[:n_cases]
    predecessors[-1] -= ends[n_cases - 1] - rows  # the last case drops its earliest proceedings to fit
    case = np.repeat(np.arange(n_cases), 1 + predecessors)
    position = np.arange(rows) - (np.cumsum(1 + predecessors) - 1 - predecessors)[case]
    steps_to_last = predecessors[case] - position
    comp_by_level, entered_by_level, court_by_level = (np.stack(values) for values in zip(*levels))
    entered = entered_by_level[steps_to_last, case]

    order = np.lexsort((np.arange(rows), entered))  # a predecessor ends before its successor starts
    file_row = np.empty(rows, dtype=int)
    file_row[order] = np.arange(rows)
    grouped = {
        "case": case,
        "position": position,
        "last": steps_to_last == 0,
        "entered": entered,
        "comp": comp_by_level[steps_to_last, case],
        "court": court_by_level[steps_to_last, case],
        "previous": np.where(position > 0, file_row[np.arange(rows) - 1], -1),
        "following": np.where(steps_to_last > 0, file_row[np.minimum(np.arange(rows) + 1, rows - 1)], -1),
    }
    return {"n_cases": n_cases, **{name: values[order] for name, values in grouped.items()}}


def _generate_chunk(rng, rows: int, first_row: int, quota: dict[str, int], calendar: _Calendar, tables: _Tables):
    """Generate `rows` proceedings: returns (file bytes, records for the truth, quirk counts)."""
    timelines = _case_timelines(rng, rows, calendar, tables)
    n_cases, case, position = timelines["n_cases"], timelines["case"], timelines["position"]
    last, comp, entered, court = timelines["last"], timelines["comp"], timelines["entered"], timelines["court"]
    previous, following = timelines["previous"], timelines["following"]
    span = calendar.days_in_span
    completed = comp >= 0
    completed_last = completed & last

    # Case-level attributes (kept across a case's proceedings).
    case_type = rng.choice(len(CASE_TYPES), size=n_cases, p=tables.case_type_share)[case]
    nationality = rng.choice(len(NATIONALITY_LANGUAGE), size=n_cases, p=tables.nationality_share)[case]
    criminal = (rng.random(n_cases) < 0.08)[case]

    # Outcomes. PD closures by systematic sampling along (court, completion day): each court's
    # count in any period lands within one of its expected value, so even small courts hit
    # their calibrated rate instead of wandering with coin-flip noise.
    other_comp = np.zeros(rows, dtype=int)
    new_proceeding = completed & ~last
    other_comp[new_proceeding] = _draw_codes(rng, NEW_PROCEEDING_SHARES, new_proceeding.sum())
    pd_probability = np.where(
        completed_last & PD_CASE_TYPES[case_type],
        tables.court_pd_rate[court] * calendar.pd_intensity(np.maximum(comp, 0)),
        0.0,
    )
    order = np.lexsort((rng.random(rows), comp, court))
    expected = rng.random() + np.concatenate(([0.0], np.cumsum(pd_probability[order])))
    is_pd = np.zeros(rows, dtype=bool)
    is_pd[order] = np.floor(expected[1:]) > np.floor(expected[:-1])
    other_comp[is_pd] = _draw_codes(rng, PD_CODE_SHARES, is_pd.sum())
    admin = completed_last & ~is_pd & (rng.random(rows) < ADMIN_SHARE)
    other_comp[admin] = _draw_codes(rng, ADMIN_COMP_WEIGHTS, admin.sum())
    merits = completed_last & ~is_pd & ~admin
    decision = np.full(rows, "", dtype=object)
    for group, choices in MERITS_DECISIONS.items():
        members = CASE_TYPE_CODES == group if group != "OTHER" else ~np.isin(CASE_TYPE_CODES, list(MERITS_DECISIONS))
        here = merits & members[case_type]
        codes = np.array([code for code, _, _ in choices], dtype=object)
        decision[here] = codes[rng.choice(len(codes), size=here.sum(), p=_shares([w for _, _, w in choices]))]

    # Custody: detention courts hold mostly detained respondents.
    custody_draw = rng.random(rows)
    detained_court = tables.court_detained[court]
    custody = np.where(
        detained_court,
        np.where(custody_draw < 0.85, "D", np.where(custody_draw < 0.95, "R", "N")),
        np.where(custody_draw < 0.10, "D", np.where(custody_draw < 0.25, "R", "N")),
    ).astype(object)

    # Planted quirks: pick disjoint sets of lines to damage; the damaged lines stay clean
    # otherwise, so that the one correct realignment of a tab-shifted line is unambiguous.
    damaged = _choose(rng, np.arange(rows), quota["tab_shifted"] + quota["two_stray_tabs"] + quota["truncated"])
    damaged = rng.permutation(damaged)
    tab_shifted = np.sort(damaged[: quota["tab_shifted"]])
    two_stray_tabs = np.sort(damaged[quota["tab_shifted"] : quota["tab_shifted"] + quota["two_stray_tabs"]])
    truncated = np.sort(damaged[quota["tab_shifted"] + quota["two_stray_tabs"] :])
    clean = np.ones(rows, dtype=bool)
    clean[damaged] = False
    osc_present = rng.random(rows) >= 0.02  # a few proceedings have no OSC_DATE; shifted lines all do
    osc_present[tab_shifted] = True
    junk_rows = {
        "OSC_DATE": _choose(rng, np.flatnonzero(clean & osc_present), quota["junk_OSC_DATE"]),
        "INPUT_DATE": _choose(rng, np.flatnonzero(clean), quota["junk_INPUT_DATE"]),
        "COMP_DATE": _choose(rng, np.flatnonzero(clean & completed), quota["junk_COMP_DATE"]),
    }
    quarantined = np.zeros(rows, dtype=bool)
    quarantined[two_stray_tabs] = True
    quarantined[truncated] = True
    valid_comp = completed.copy()
    valid_comp[junk_rows["COMP_DATE"]] = False
    records = {
        "court": court,
        "comp_date": calendar.dates(np.maximum(comp, 0)),
        "valid_comp": valid_comp,
        "other_comp": other_comp,
        "loaded": ~quarantined,
    }
    shared_hloc = (first_row + np.arange(rows)) % SHARED_HLOC_EVERY == SHARED_HLOC_EVERY // 2
    records["shared_hloc"] = shared_hloc

    # Text of every column.
    location = tables.first_location[court] + np.where(  # mostly the court's own location
        rng.random(rows) < 0.7, 0, (rng.random(rows) * tables.location_count[court]).astype(int)
    )
    judge = tables.judge_codes[tables.first_judge[court] + (rng.random(rows) * tables.judge_count[court]).astype(int)]
    has_previous = previous >= 0
    hearing = np.where(completed, comp, span + rng.integers(1, 500, rows))
    detained_from = entered - rng.integers(0, 10, rows)
    released_on = detained_from + rng.integers(5, 60, rows)
    is_decision = decision != ""
    removal_order = np.isin(decision, ["X", "D", "E"])
    appeal, in_absentia, charged = rng.random((3, rows))
    appeal_reserved = np.where(
        is_decision, np.select([appeal < 0.13, appeal < 0.157, appeal < 0.175], ["A", "I", "B"], ""), ""
    ).astype(object)
    case_number = np.empty(n_cases, dtype=int)  # cases numbered in order of their first proceeding
    case_number[case[position == 0]] = np.arange(n_cases)
    case_ids = np.array([str(FIRST_IDNCASE + first_row + n) for n in case_number.tolist()], dtype=object)
    text = {
        "IDNPROCEEDING": np.array([str(FIRST_IDNPROCEEDING + first_row + i) for i in range(rows)], dtype=object),
        "IDNCASE": case_ids[case],
        "OSC_DATE": calendar.strings(entered - rng.integers(0, 30, rows), osc_present),
        "INPUT_DATE": calendar.strings(entered),
        "BASE_CITY_CODE": tables.court_codes[court],
        "HEARING_LOC_CODE": np.where(shared_hloc, SHARED_HLOC_CODE, tables.location_codes[location]),
        "IJ_CODE": judge,
        "TRANS_IN_DATE": calendar.strings(entered, has_previous),
        "PREV_HEARING_LOC": np.where(has_previous, tables.location_codes[location[previous]], ""),
        "PREV_HEARING_BASE": np.where(has_previous, tables.court_codes[court[previous]], ""),
        "PREV_IJ_CODE": np.where(has_previous, judge[previous], ""),
        "TRANS_NBR": np.where(has_previous, position.astype(str), "").astype(object),
        "HEARING_DATE": calendar.strings(hearing),
        "HEARING_TIME": HEARING_TIMES[rng.integers(0, len(HEARING_TIMES), rows)],
        "DEC_TYPE": np.where(
            is_decision,
            tables.decision_types[rng.choice(len(tables.decision_types), size=rows, p=tables.decision_type_share)],
            "",
        ),
        "DEC_CODE": decision,
        "DEPORTED_1": np.full(rows, "", dtype=object),
        "DEPORTED_2": np.full(rows, "", dtype=object),
        "OTHER_COMP": OTHER_COMP_VALUES[other_comp],
        "APPEAL_RSVD": appeal_reserved,
        "APPEAL_NOT_FILED": np.where(is_decision & (appeal > 0.935), "X", "").astype(object),
        "COMP_DATE": calendar.strings(comp, completed),
        "ABSENTIA": np.where(is_decision, np.where(removal_order & (in_absentia < 0.4), "Y", "N"), "").astype(object),
        "VENUE_CHG_GRANTED": calendar.strings(comp, OTHER_COMP_VALUES[other_comp] == "C"),
        "TRANSFER_TO": np.where(new_proceeding, tables.court_codes[court[following]], ""),
        "DATE_APPEAL_DUE_STATUS": calendar.strings(comp + 22, appeal_reserved != ""),
        "TRANSFER_STATUS": np.full(rows, "", dtype=object),
        "CUSTODY": custody,
        "CASE_TYPE": CASE_TYPE_CODES[case_type],
        "NAT": tables.nationality[nationality],
        "LANG": tables.language[nationality],
        "SCHEDULED_HEAR_LOC": np.where(completed, "", tables.location_codes[location]),
        "CORRECTIONAL_FAC": np.full(rows, "", dtype=object),
        "CRIM_IND": np.where(criminal | (detained_court & (charged < 0.3)), "Y", "N").astype(object),
        "IHP": np.where(criminal & (custody == "D"), "S", "").astype(object),
        "AGGRAVATE_FELON": np.where(rng.random(rows) < 0.7, "0", "").astype(object),
        "DATE_DETAINED": calendar.strings(detained_from, custody != "N"),
        "DATE_RELEASED": calendar.strings(released_on, custody == "R"),
    }
    for column, junk in junk_rows.items():
        text[column][junk] = JUNK_DATES[rng.integers(0, len(JUNK_DATES), len(junk))]
    nul_counts, padded_counts = {}, {}
    nul_lines = np.zeros(rows, dtype=bool)
    for column, mark, share, counts in [
        *((c, "\x00", NUL_SHARE, nul_counts) for c in NUL_COLUMNS),
        *((c, " ", PADDED_SHARE, padded_counts) for c in PADDED_COLUMNS),
    ]:
        values = text[column]
        chosen = np.flatnonzero(clean & (values != "") & (rng.random(rows) < share))
        values[chosen] = [value + mark for value in values[chosen].tolist()]  # numpy would drop a trailing NUL
        counts[column] = len(chosen)
        if mark == "\x00":
            nul_lines[chosen] = True

    lines = [
        "\t".join(fields) for fields in zip(*(text[column].tolist() for column in release_format.PROCEEDING_COLUMNS))
    ]
    # Public loaders find the stray cells of real releases before COMP_DATE: planted there on the
    # merits completions where that realignment is the only one (no OTHER_COMP, no APPEAL_RSVD to
    # slide into OTHER_COMP, a HEARING_TIME that cannot pass for a date); after IDNCASE elsewhere.
    before_comp = (
        is_decision & (OTHER_COMP_VALUES[other_comp] == "") & (text["APPEAL_RSVD"] == "")
        & (text["COMP_DATE"] != "") & (text["HEARING_TIME"] != "")
    )  # fmt: skip
    comp_position = release_format.PROCEEDING_COLUMNS.index("COMP_DATE")
    shifted_before_comp = 0
    for row in tab_shifted.tolist():
        fields = lines[row].split("\t")
        at = comp_position if before_comp[row] else 2
        shifted_before_comp += bool(before_comp[row])
        lines[row] = "\t".join(fields[:at] + [""] + fields[at:])
    for row in two_stray_tabs.tolist():
        fields = lines[row].split("\t")
        lines[row] = "\t".join(fields[:2] + ["", ""] + fields[2:])
    for row in truncated.tolist():
        lines[row] = "\t".join(lines[row].split("\t")[:TRUNCATED_FIELDS])
    quirks = {
        "tab_shifted": len(tab_shifted),
        "tab_shifted_before_comp_date": shifted_before_comp,
        "two_stray_tabs": len(two_stray_tabs),
        "truncated": len(truncated),
        "junk_dates": {column: len(junk) for column, junk in junk_rows.items()},
        "junk_comp_dates_on_completions": int((~IS_NEW_PROCEEDING_CODE[other_comp[junk_rows["COMP_DATE"]]]).sum()),
        "nul_fields": nul_counts,
        "space_padded_fields": padded_counts,
        "lines_with_nul": int(nul_lines.sum()),
    }
    return _encode_lines(lines), records, quirks


# --------------------------------------------------------------------------------------------
# The planted truth


class _TruthTally:
    """PD closures and completions under the default method, summed chunk by chunk.

    A proceeding completes in a window when its valid COMP_DATE falls in it (inclusive);
    completions exclude change of venue and transfer (OTHER_COMP C, T); a PD closure is
    OTHER_COMP Y, M or I; all case types; quarantined lines are left out.
    """

    def __init__(self):
        n_courts = len(COURTS)
        self.national = {name: np.zeros(2, dtype=np.int64) for name in TRUTH_WINDOWS}
        self.by_court = {name: np.zeros((2, n_courts), dtype=np.int64) for name in COURT_TRUTH_WINDOWS}
        self.by_fiscal_year = {fy: np.zeros(4, dtype=np.int64) for fy in FISCAL_YEARS}
        # Proceedings heard at the shared hearing-location code, per court (COURT_TRUTH_WINDOWS).
        self.shared_hloc = {name: np.zeros((2, n_courts), dtype=np.int64) for name in COURT_TRUTH_WINDOWS}
        self.without_valid_comp_date = 0

    def add(self, records: dict) -> None:
        counted = records["loaded"] & records["valid_comp"]
        day = records["comp_date"]
        completion = counted & ~IS_NEW_PROCEEDING_CODE[records["other_comp"]]
        pd_closure = completion & IS_PD_CODE[records["other_comp"]]
        for name, (start, end) in TRUTH_WINDOWS.items():
            inside = (day >= np.datetime64(start)) & (day <= np.datetime64(end))
            self.national[name] += [(pd_closure & inside).sum(), (completion & inside).sum()]
            if name in self.by_court:
                for i, flags in enumerate((pd_closure, completion)):
                    self.by_court[name][i] += np.bincount(records["court"][flags & inside], minlength=len(COURTS))
                    self.shared_hloc[name][i] += np.bincount(
                        records["court"][flags & inside & records["shared_hloc"]], minlength=len(COURTS)
                    )
        months = day.astype("datetime64[M]").astype(int) % 12 + 1
        fiscal_year = day.astype("datetime64[Y]").astype(int) + 1970 + (months >= 10)
        for fy in FISCAL_YEARS:
            in_year = counted & (fiscal_year == fy)
            self.by_fiscal_year[fy] += [
                in_year.sum(),
                (in_year & ~completion).sum(),
                (completion & in_year).sum(),
                (pd_closure & in_year).sum(),
            ]
        self.without_valid_comp_date += int((records["loaded"] & ~records["valid_comp"]).sum())

    def to_dict(self) -> dict:
        def pair(pd, completions):
            return {"pd_closures": int(pd), "completions": int(completions)}

        return {
            "national": {name: pair(*counts) for name, counts in self.national.items()},
            "by_court": {
                name: {code: pair(*counts[:, i]) for i, (code, *_) in enumerate(COURTS)}
                for name, counts in self.by_court.items()
            },
            "by_fiscal_year": {
                f"FY{fy}": {
                    "rows_with_valid_comp_date": int(c[0]),
                    "change_of_venue_or_transfer": int(c[1]),
                    "completions": int(c[2]),
                    "pd_closures": int(c[3]),
                }
                for fy, c in self.by_fiscal_year.items()
            },
            "loaded_rows_without_valid_comp_date": self.without_valid_comp_date,
            # Every hearing location of a court is in the court's state, so a proceeding's federal
            # circuit is its court's: right only if each IAD proceeding gets its own court's IAD row.
            "by_circuit": {
                name: {
                    circuit: pair(*counts[:, [CIRCUIT_OF_STATE[c[2]] == circuit for c in COURTS]].sum(axis=1))
                    for circuit in sorted({CIRCUIT_OF_STATE[c[2]] for c in COURTS})
                }
                for name, counts in self.by_court.items()
            },
            f"by_court_at_{SHARED_HLOC_CODE}": {
                name: {
                    code: {**pair(*counts[:, i]), "circuit": CIRCUIT_OF_STATE[state]}
                    for i, (code, _, state, *_) in enumerate(COURTS)
                }
                for name, counts in self.shared_hloc.items()
            },
        }


# --------------------------------------------------------------------------------------------
# Writing a release


class _ReleaseWriter:
    """Members of a release written to a zip (fixed timestamps, fixed order) or to a folder."""

    def __init__(self, target: Path, zipped: bool):
        self.target, self.zipped = target, zipped
        if zipped:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED)
        else:
            target.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def member(self, name: str):
        if self.zipped:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the platform, for identical bytes
            info.external_attr = 0o644 << 16
            with self._zip.open(info, "w", force_zip64=True) as stream:
                yield stream
        else:
            path = self.target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as stream:
                yield stream

    def close(self) -> None:
        if self.zipped:
            self._zip.close()


def _readme_text(seed: int, proceedings: int) -> str:
    return (
        f"{WARNING}\r\n\r\n"
        "This release was made by the Python module pdclosures.sample (project pdclosures) with "
        f"seed {seed} and {proceedings:,} proceedings, generator version {GENERATOR_VERSION}. It copies "
        "the layout and file format of the EOIR case-data release (tab-delimited .csv files, latin-1, "
        "CRLF line ends) and plants that release's known quirks on purpose. Court codes and cities are "
        "real; every proceeding, date, judge code and outcome is invented.\r\n"
    )


def _write_release(
    target: Path, *, proceedings: int, seed: int, zipped: bool, manifest_path: Path, progress: bool = False
) -> dict:
    if proceedings < 1000:
        raise ParameterError(f"proceedings={proceedings}: need at least 1000 to plant the quirks")
    calendar, tables, tally = _Calendar(), _Tables(seed), _TruthTally()
    lookups = _lookup_tables()
    chunk_sizes = [min(CHUNK_ROWS, proceedings - start) for start in range(0, proceedings, CHUNK_ROWS)]
    quotas = _split_quota(_quirk_quota(proceedings), chunk_sizes)
    quirks = {
        "tab_shifted": 0,
        "tab_shifted_before_comp_date": 0,
        "two_stray_tabs": 0,
        "truncated": 0,
        "lines_with_nul": 0,
        "junk_comp_dates_on_completions": 0,
        "junk_dates": {},
        "nul_fields": {},
        "space_padded_fields": {},
    }
    table_rows = {release_format.PROCEEDING_TABLE: proceedings, **{t: len(rows) for t, (_, rows) in lookups.items()}}

    writer = _ReleaseWriter(target, zipped)
    try:
        with writer.member(README_NAME) as stream:
            stream.write(_readme_text(seed, proceedings).encode(release_format.ENCODING))
        with writer.member(f"{RELEASE_ROOT}/{COUNT_NAME}") as stream:
            stream.write(_encode_lines([f"{table}\t{rows}" for table, rows in table_rows.items()]))
        with writer.member(TABLE_PATHS[release_format.PROCEEDING_TABLE]) as stream:
            stream.write(_encode_lines(["\t".join(release_format.PROCEEDING_COLUMNS)]))
            first_row = 0
            for chunk, (rows, quota) in enumerate(zip(chunk_sizes, quotas)):
                rng = np.random.default_rng([seed, chunk + 1])
                data, records, chunk_quirks = _generate_chunk(rng, rows, first_row, quota, calendar, tables)
                stream.write(data)
                tally.add(records)
                _add_counts(quirks, chunk_quirks)
                first_row += rows
                if progress:
                    print(f"  {first_row:,} / {proceedings:,} proceedings written", file=sys.stderr)
        for table, (columns, rows) in lookups.items():
            with writer.member(TABLE_PATHS[table]) as stream:
                stream.write(_encode_lines(["\t".join(columns)] + ["\t".join(row) for row in rows]))
    finally:
        writer.close()

    quarantined = quirks["two_stray_tabs"] + quirks["truncated"]
    tables_summary = {
        release_format.PROCEEDING_TABLE: {
            "path": TABLE_PATHS[release_format.PROCEEDING_TABLE],
            "rows": proceedings,
            "physical_data_lines": proceedings,
            "columns": len(release_format.PROCEEDING_COLUMNS),
        }
    }
    for table, (columns, rows) in lookups.items():
        line_breaks = sum(value.count(release_format.LINE_END) for row in rows for value in row)
        tables_summary[table] = {
            "path": TABLE_PATHS[table],
            "rows": len(rows),
            "physical_data_lines": len(rows) + line_breaks,
            "columns": len(columns),
        }
    manifest = {
        "synthetic": True,
        "warning": WARNING,
        "generator": "pdclosures.sample",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "proceedings": proceedings,
        "zipped": zipped,
        "tables": tables_summary,
        "count_file": {
            "path": f"{RELEASE_ROOT}/{COUNT_NAME}",
            "content": "one line per table: name TAB rows (records; a lookup record broken by a "
            "line break inside a field is one row but two physical lines)",
        },
        "proceedings_lines": {
            "lines": proceedings,
            "expected_loaded": proceedings - quarantined,
            "expected_repaired": quirks["tab_shifted"],
            "expected_quarantined": quarantined,
            "lines_by_field_count": {
                str(len(release_format.PROCEEDING_COLUMNS)): proceedings - quirks["tab_shifted"] - quarantined,
                str(len(release_format.PROCEEDING_COLUMNS) + 1): quirks["tab_shifted"],
                str(len(release_format.PROCEEDING_COLUMNS) + 2): quirks["two_stray_tabs"],
                str(TRUNCATED_FIELDS): quirks["truncated"],
            },
        },
        "quirks": {
            "tab_shifted_lines": {
                "count": quirks["tab_shifted"],
                "kind": "one stray empty field: right before COMP_DATE on merits completions without "
                "OTHER_COMP or APPEAL_RSVD, right after IDNCASE on the others",
                "before_comp_date": quirks["tab_shifted_before_comp_date"],
                "expected": "repaired",
            },
            "two_stray_tabs_lines": {
                "count": quirks["two_stray_tabs"],
                "kind": "two stray empty fields after IDNCASE",
                "expected": "quarantined",
            },
            "truncated_lines": {
                "count": quirks["truncated"],
                "kind": f"line cut after {TRUNCATED_FIELDS} fields",
                "expected": "quarantined",
            },
            "junk_dates": quirks["junk_dates"],
            "junk_date_values": JUNK_DATES.tolist(),
            "junk_comp_dates_on_completions": quirks["junk_comp_dates_on_completions"],
            "nul_fields": quirks["nul_fields"],
            "lines_with_nul": quirks["lines_with_nul"],
            "space_padded_fields": quirks["space_padded_fields"],
            "lookup_line_breaks": {
                release_format.HLOC_TABLE: "HEARING_CORR_TITLE of SEA",
                release_format.DECISION_TABLE: "strDecDescription of EXC / O",
            },
            "inactive_duplicate_decision_key": {"strCaseType": "RMV", "strDecCode": "Y", "blnActive": "0"},
            "inactive_duplicate_base_city": {
                "BASE_CITY_CODE": INACTIVE_DUPLICATE_COURT,
                "expected": "the active row wins (repeated keys counted in data_quality.csv)",
            },
            "repeated_lookup_keys": {
                release_format.BASE_CITY_TABLE: 1,
                release_format.HLOC_TABLE: 1,
                release_format.DECISION_TABLE: 1,
            },
            "shared_hearing_location_code": {
                "HEARING_LOC_CODE": SHARED_HLOC_CODE,
                "rows_in_lookup": len(COURTS) + 1,
                "inactive_duplicate_for": INACTIVE_DUPLICATE_COURT,
                "proceedings": f"every {SHARED_HLOC_EVERY}th, at its own court",
                "expected": "each court's own row (truth by_court_at_IAD, by_circuit)",
            },
        },
        "method": {
            "unit": "proceeding",
            "completion": "valid COMP_DATE (year after 1900, a real day) within the window, inclusive",
            "excluded_other_comp": list(definition.NEW_PROCEEDING_CODES_DEFAULT),
            "pd_other_comp": list(definition.PD_CODES_DEFAULT),
            "case_types": "all",
            "quarantined_lines": "excluded",
            "codes": "NUL bytes stripped and spaces trimmed before comparison",
        },
        "windows": {name: [str(start), str(end)] for name, (start, end) in TRUTH_WINDOWS.items()},
        "truth": tally.to_dict(),
    }
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return manifest


def _add_counts(total: dict, part: dict) -> None:
    for key, value in part.items():
        if isinstance(value, dict):
            _add_counts(total.setdefault(key, {}), value)
        else:
            total[key] = total.get(key, 0) + value


def write_sample_release(
    dest, *, seed: int = DEFAULT_SEED, proceedings: int | None = None, zipped: bool = True, manifest_path=None
) -> dict:
    """Write a synthetic release (a zip, or with zipped=False a folder) and return its manifest.

    The manifest is also written as JSON: by default beside the zip (or inside the folder) as
    sample_manifest.json.
    """
    dest = Path(dest)
    if manifest_path is None:
        manifest_path = (dest.parent if zipped else dest) / MANIFEST_NAME
    return _write_release(
        dest, proceedings=proceedings or SAMPLE_PROCEEDINGS, seed=seed, zipped=zipped, manifest_path=Path(manifest_path)
    )


def write_full_scale_release(
    dest_dir, *, proceedings: int = FULL_SCALE_PROCEEDINGS, seed: int = DEFAULT_SEED, progress: bool = False
) -> dict:
    """Write a full-scale synthetic release as an unpacked folder, streaming; return the manifest."""
    dest_dir = Path(dest_dir)
    return _write_release(
        dest_dir,
        proceedings=proceedings,
        seed=seed,
        zipped=False,
        manifest_path=dest_dir / MANIFEST_NAME,
        progress=progress,
    )


def _summary(manifest: dict, where: Path, seconds: float) -> str:
    window = manifest["truth"]["national"]["trac-2014"]
    rate = 100 * window["pd_closures"] / max(window["completions"], 1)
    lines = manifest["proceedings_lines"]
    return (
        f"SYNTHETIC EOIR release (not EOIR data) written to {where}: {manifest['proceedings']:,} proceedings, "
        f"seed {manifest['seed']}, {lines['expected_repaired']} tab-shifted + {lines['expected_quarantined']} "
        f"unrepairable lines; planted PD rate Oct 2012-Mar 2014 {rate:.1f}% "
        f"({window['pd_closures']:,} of {window['completions']:,}); {seconds:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pdclosures.sample", description="Write a SYNTHETIC EOIR case-data release (not EOIR data)."
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="zip file to write (sample), or folder (with --full-scale or --unzipped)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--proceedings",
        type=int,
        default=None,
        help=f"rows of B_TblProceeding (default {SAMPLE_PROCEEDINGS:,}; {FULL_SCALE_PROCEEDINGS:,} with --full-scale)",
    )
    parser.add_argument("--full-scale", action="store_true", help="stream a large release into the --out folder")
    parser.add_argument("--unzipped", action="store_true", help="write the sample as a folder, not a zip")
    args = parser.parse_args(argv)

    def write() -> None:
        started = time.perf_counter()
        if args.full_scale:
            manifest = write_full_scale_release(
                args.out, proceedings=args.proceedings or FULL_SCALE_PROCEEDINGS, seed=args.seed, progress=True
            )
        else:
            manifest = write_sample_release(
                args.out, seed=args.seed, proceedings=args.proceedings, zipped=not args.unzipped
            )
        print(_summary(manifest, args.out, time.perf_counter() - started))

    return run_command(write)


if __name__ == "__main__":
    sys.exit(main())
