"""A deterministic, seeded generator of a SYNTHETIC EOIR case-data release.

Nothing this module writes is EOIR data. It writes tables in the real release's layout and file
format (see release_format.py), filled with made-up proceedings of fiscal years 2012 to 2025 whose
volumes and prosecutorial-discretion (PD) closures are calibrated, at a stated scale (`scale` real
proceedings per synthetic one), to figures TRAC and EOIR published, with the release's known quirks
planted on purpose: NUL bytes and space padding in codes, junk dates, tab-shifted lines, and line
breaks inside lookup descriptions. Beside the tables it writes a manifest of the planted truth,
counted from the generator's own records, so the pipeline's results can be checked against it.

PD is coded as in each era of the real release: OTHER_COMP Y/M (and early I) administrative
closures until January 2017; under 100 a month (real scale) from February 2017 to May 2021; from June
2021 to January 2025 mostly dismissals, DEC_CODE letters whose tblLookupCourtDecision row (strDecType
C) for the proceeding's own case type says "dismissed" (U in one case type, D in another, while D
means "Deny" in a third); few after January 2025. OTHER_COMP F, A and K grow after 2021 (not PD).

Two sizes share one code path:
- write_sample_release: a 1:SAMPLE_SCALE model of the real FY2012-FY2025 volumes, zipped; the
  committed copy lives in data/sample/.
- write_full_scale_release: 16.5 million proceedings by default (about 3 GB of text; the real
  table is about 2.7 GB), written unpacked in chunks with bounded memory, for benchmarks.

Calibration sources: TRAC report 339 (https://trac.syr.edu/immigration/reports/339/), the TRAC
bulletin of 2014-04-24 (http://trac.syr.edu/whatsnew/email.140424.html), TRAC report 474
(https://trac.syr.edu/immigration/reports/474/), the TRAC bulletin of 2012-07-23
(https://trac.syr.edu/whatsnew/email.120723.html), TRAC report 695
(https://trac.syr.edu/reports/695/) and EOIR's Adjudication Statistics
(https://www.justice.gov/eoir/workload-and-adjudication-statistics).
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

from . import release_format
from .errors import ParameterError, run_command
from .release import synthetic_scale_line

GENERATOR_VERSION = "3"  # 3: FY2012-FY2025 at a stated scale, eras of PD, DEC_CODE dismissals, NAT/CUSTODY/LANG lookups
DEFAULT_SEED = 20140424
SAMPLE_SCALE = 50  # real proceedings per synthetic proceeding in the default sample
SAMPLE_PROCEEDINGS = 166_500  # rows that make the default sample a 1:SAMPLE_SCALE model
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
    **{
        table: f"{RELEASE_ROOT}/Lookup/{table}.csv"
        for table in (
            release_format.BASE_CITY_TABLE,
            release_format.HLOC_TABLE,
            release_format.DECISION_TABLE,
            release_format.CASE_TYPE_TABLE,
            release_format.NATIONALITY_TABLE,
            release_format.CUSTODY_TABLE,
            release_format.LANGUAGE_TABLE,
        )
    },
}
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # fixed, so the same seed gives a byte-identical zip

WARNING = (
    "SYNTHETIC DATA made by pdclosures.sample: not EOIR data. Every proceeding in it is "
    "made up; use it only to test software, never to say anything about immigration courts."
)

# The span of the synthetic completions: fiscal years 2012-2025. Proceedings may have been received
# up to ten years before it (the backlog pending on its first day).
FIRST_DAY = date(2011, 10, 1)
LAST_DAY = date(2025, 9, 30)
FISCAL_YEARS = tuple(range(2012, 2026))
DEFINITIONS = ("pd-closures", "pd-dismissals")  # as in definition.py (counted here independently)
TRUTH_WINDOWS = {
    "trac-2014": (date(2012, 10, 1), date(2014, 3, 31)),  # TRAC bulletin of 2014-04-24
    "report-339": (date(2011, 10, 1), date(2013, 12, 31)),  # TRAC report 339, Table 1 total
    **{f"FY{fy}": (date(fy - 1, 10, 1), date(fy, 9, 30)) for fy in (2012, 2013, 2014, 2015)},
    "trac-2012-nationality": (date(2011, 10, 1), date(2012, 6, 28)),  # TRAC bulletin of 2012-07-23
    "feb-jun-2016": (date(2016, 2, 1), date(2016, 6, 30)),  # TRAC report 474: about 2,400 a month
    "feb-jun-2017": (date(2017, 2, 1), date(2017, 6, 30)),  # TRAC report 474: under 100 a month
    "fy2018": (date(2017, 10, 1), date(2018, 9, 30)),
    "doyle": (date(2022, 4, 25), date(2023, 9, 30)),  # the Doyle memo in effect, to FY2023's end
    "fy2023": (date(2022, 10, 1), date(2023, 9, 30)),
}
COURT_TRUTH_WINDOWS = ("trac-2014", "report-339")

# --------------------------------------------------------------------------------------------
# Courts

# Base-city codes with their city and state, as in EOIR's tblLookupBaseCity (via the public loader deportationdata/eoir)
# weight: relative number of completions, a rough
# guess at each court's size (Seattle and Tucson enlarged so that they have over 100 completions
# in the trac-2014 window of the 1:50 sample). pd_pct: the court's PD-closure rate in the trac-2014
# window, TRAC's published figure where one exists (report 339; bulletin 2014-04-24), nudged so that
# the planted counts of the sample land in TRAC's published ranges, otherwise a plausible guess
# (detention courts near zero). detained: a detention court.
COURTS = [
    # code, city, state, weight, pd_pct, detained
    ("NYC", "NEW YORK", "NY", 80, 3.5, False),  # TRAC: 3-4
    ("LOS", "LOS ANGELES", "CA", 72, 23.7, False),  # TRAC: 23.7
    ("SFR", "SAN FRANCISCO", "CA", 45, 6.0, False),
    ("MIA", "MIAMI", "FL", 40, 6.3, False),  # TRAC: 6.3
    ("HOU", "HOUSTON", "TX", 38, 1.7, False),  # TRAC: 1.7, under 3
    ("SNA", "SAN ANTONIO", "TX", 33, 3.7, False),  # TRAC: 3-4
    ("CHI", "CHICAGO", "IL", 33, 5.0, False),  # TRAC: 5.0
    ("DAL", "DALLAS", "TX", 28, 2.5, False),
    ("SEA", "SEATTLE", "WA", 26, 31.5, False),  # TRAC: about 30
    ("ATL", "ATLANTA", "GA", 25, 2.0, False),
    ("WAS", "ANNANDALE", "VA", 25, 4.0, False),
    ("NEW", "NEWARK", "NJ", 25, 3.8, False),  # TRAC: 3-4
    ("TUC", "TUCSON", "AZ", 24, 33.5, False),  # TRAC: about 30
    ("PHO", "PHOENIX", "AZ", 20, 22.0, False),  # TRAC: 20.7
    ("BOS", "BOSTON", "MA", 20, 4.0, False),
    ("SND", "SAN DIEGO", "CA", 18, 5.0, False),
    ("ORL", "ORLANDO", "FL", 18, 3.0, False),
    ("DEN", "DENVER", "CO", 16, 6.0, False),
    ("LVG", "LAS VEGAS", "NV", 16, 3.4, False),  # TRAC: 3-4; Las Vegas Sun: about 3
    ("HLG", "HARLINGEN", "TX", 16, 1.5, False),
    ("BAL", "BALTIMORE", "MD", 15, 4.0, False),
    ("OMA", "OMAHA", "NE", 14, 24.0, False),  # TRAC: 23.1
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
# The truth's own statement of the definitions (TRAC 2014), kept here rather than imported from the
# pipeline so that the planted counts are an independent check of it.
PD_OTHER_COMP = ("Y", "M", "I")  # PD closures
NEW_PROCEEDING_OTHER_COMP = ("C", "T")  # change of venue, transfer: not completions
DISMISSAL_WORD = "dismiss"  # pd-dismissals: a decision whose description says dismissed
IS_PD_CODE = np.isin(OTHER_COMP_VALUES, PD_OTHER_COMP)
IS_NEW_PROCEEDING_CODE = np.isin(OTHER_COMP_VALUES, NEW_PROCEEDING_OTHER_COMP)
OTHER_COMP_INDEX = {code: index for index, code in enumerate(OTHER_COMP_VALUES)}

# Merits decisions (DEC_CODE; strDecType 'C') per group of case types: code, description, weight.
# The same letter means different things in different case types, as in the real lookup: U is
# "Dismissed by IJ" for removal cases but a deportation order for deportation cases, where D is
# "DISMISSED"; in asylum-only and withholding-only cases D is "Deny". Descriptions with "real" are
# the real lookup's wording (deportationdata/eoir's dump, October 2025); the others are written for
# this synthetic lookup. Weights follow the all-years DEC_CODE counts where they apply. The
# dismissals here are the ordinary ones of every era; PD dismissals (June 2021 to January 2025) are
# added on top by PD_DISMISSAL_SHARE.
MERITS_DECISIONS = {
    "RMV": [
        ("X", "Removal ordered", 3_943_648),
        ("R", "Relief granted", 880_183),
        ("V", "Voluntary departure granted", 814_201),
        ("T", "Terminated", 810_769),  # real
        ("U", "Dismissed by IJ", 180_000),  # real
        ("O", "Other", 41_856),  # real
        ("W", "Withdraw", 10_972),  # real
    ],
    "DEP": [
        ("U", "Deportation ordered", 632_069),
        ("D", "DISMISSED", 40_000),  # real
        ("V", "Voluntary departure granted", 814_201),
        ("T", "Terminated", 810_769),
        ("R", "Relief granted", 880_183),
    ],
    "EXC": [
        ("E", "Excluded", 158_177),
        ("A", "Admitted", 189_914),
        ("T", "Terminated", 810_769),
        ("R", "Relief granted", 880_183),
        ("W", "Withdraw", 10_972),
    ],
    "ASYLUM_ONLY": [  # AOC, WHO
        ("D", "Deny", 60_000),  # real
        ("G", "Grant", 11_220),  # real
        ("E", "Grant-INA Withholding", 8_000),  # real
        ("Z", "Grant-CAT Withholding", 3_651),  # real
        ("H", "Grant-CAT Deferral", 367),  # real
        ("A", "Abandonment", 5_000),  # real
        ("W", "Withdraw", 3_000),  # real
        ("U", "Dismissed by IJ", 2_000),  # real
    ],
    "FEAR": [  # CFR, RFR
        ("A", "Affirmed - DHS Decision and no Credible Fear", 60_000),  # real
        ("V", "Vacate - DHS Decision and Credible Fear", 30_000),  # real
        ("J", "Jurisdiction Transferred to the BIA", 741),  # real
        ("O", "Other", 1_000),  # real
    ],
    "OTHER": [
        ("A", "Affirmed - DHS Decision", 6),  # real
        ("V", "Vacate - DHS Decision and Alien's Claimed Status Valid", 3),  # real
        ("T", "Terminated", 1),
        ("O", "Other", 1),
    ],
}
MERITS_GROUP = {"RMV": "RMV", "DEP": "DEP", "EXC": "EXC", "AOC": "ASYLUM_ONLY", "WHO": "ASYLUM_ONLY"}
MERITS_GROUP.update({"CFR": "FEAR", "RFR": "FEAR"})
REMOVAL_ORDERS = {"RMV": ["X"], "DEP": ["U"], "EXC": ["E"]}  # decisions that may be in absentia
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


def _merits_choices(case_type: str) -> list[tuple[str, str, int]]:
    return MERITS_DECISIONS[MERITS_GROUP.get(case_type, "OTHER")]


# The pd-dismissals definition's codes per case type, read from the descriptions this generator
# writes into tblLookupCourtDecision (strDecType C): the truth's `definition_codes`.
DISMISSAL_CODES = {
    case_type: [code for code, description, _ in _merits_choices(case_type) if DISMISSAL_WORD in description.lower()]
    for case_type, _, _ in CASE_TYPES
}
DISMISSAL_CODES = {case_type: codes for case_type, codes in DISMISSAL_CODES.items() if codes}
# The one letter a PD dismissal gets in each case type that has one (removal cases only).
PD_DISMISSAL_CODE = {
    case_type: DISMISSAL_CODES[case_type][0]
    for case_type in release_format.REMOVAL_CASE_TYPES
    if case_type in DISMISSAL_CODES
}

# Nationalities with their language, as real codes and names of tblLookupNationality and tblLanguage
# (deportationdata/eoir's lookup dump), and made-up shares of the cases received before 2019 and
# from 2019 on (rough, after EOIR's published top nationalities: Mexico first, then Central America;
# Venezuela, Cuba, Colombia and Ecuador grow after 2021). South Korea and Cameroon are enlarged so
# that their planted 2012 rates rest on more than a handful of cases.
# pd_factor: how much likelier than the average case to get PD, from TRAC's bulletin of 2012-07-23
# (PD closures to 2012-06-28 as a share of each nationality's backlog: Mexico 2.9%, China 0.2%,
# South Korea 3.9%, Cameroon 3.6%, India 0.8%, all nationalities 1.9%); None: set so that the
# average factor is 1.
NATIONALITIES = [
    # code, name, language code, language name, share before 2019, share from 2019, pd_factor
    ("MX", "MEXICO", "SP", "SPANISH", 36, 14, 2.9 / 1.9),
    ("GT", "GUATEMALA", "SP", "SPANISH", 10, 14, None),
    ("ES", "EL SALVADOR", "SP", "SPANISH", 10, 9, None),
    ("HO", "HONDURAS", "SP", "SPANISH", 8, 13, None),
    ("CH", "CHINA", "MAN", "MANDARIN", 9, 3, 0.2 / 1.9),
    ("IN", "INDIA", "PUN", "PUNJABI", 3, 5, 0.8 / 1.9),
    ("KS", "SOUTH KOREA", "KOR", "KOREAN", 2, 0.5, 3.9 / 1.9),
    ("CM", "CAMEROON", "FR", "FRENCH", 2, 1, 3.6 / 1.9),
    ("EC", "ECUADOR", "SP", "SPANISH", 2, 6, None),
    ("DR", "DOMINICAN REPUBLIC", "SP", "SPANISH", 2, 2, None),
    ("HA", "HAITI", "CRE", "CREOLE", 2, 4, None),
    ("CU", "CUBA", "SP", "SPANISH", 2, 6, None),
    ("VE", "VENEZUELA", "SP", "SPANISH", 0.5, 8, None),
    ("CO", "COLOMBIA", "SP", "SPANISH", 2, 5, None),
    ("NU", "NICARAGUA", "SP", "SPANISH", 1, 5, None),
    ("BR", "BRAZIL", "POR", "PORTUGUESE", 1, 3, None),
    ("RP", "PHILIPPINES", "TAG", "TAGALOG", 2, 0.5, None),
    ("RU", "RUSSIA", "RUS", "RUSSIAN", 1, 2, None),
    ("NI", "NIGERIA", "ENG", "ENGLISH", 1, 1, None),
    ("PK", "PAKISTAN", "UR", "URDU", 1, 0.5, None),
    ("ET", "ETHIOPIA", "AMH", "AMHARIC", 0.5, 0.5, None),
]
NATIONALITY_ERA_YEAR = 2019  # cases received from this year on take the second share
CUSTODY_STATUSES = [("D", "Detained"), ("N", "Never Detained"), ("R", "Released")]  # real lookup
HEARING_TIMES = np.array(["0830", "0900", "0930", "1000", "1030", "1100", "1300", "1330", "1400", "1500"], dtype=object)

# --------------------------------------------------------------------------------------------
# Calibration of volumes and PD closures

# Completions other than change of venue and transfer per fiscal year, at real scale (all case
# types, administrative completions included):
# - FY2012, FY2013: TRAC report 339 Table 1 (all closures); FY2014: its Oct-Dec 2013 figure (42,816)
#   times four; FY2015: the bulletin of 2015-03-19's Jan-Feb 2015 figure (28,703) times six;
# - FY2016, FY2017: TRAC report 474's dispositions of February-June 2016 (84,956) and of
#   February-June 2017 (77,084), times 12/5;
# - FY2018-FY2020: EOIR's Adjudication Statistics (data of 2021-04-19; administrative closures left
#   out, so a little low); FY2021: TRAC report 695 (145,306); FY2022: its October 2021-August 2022
#   figure (375,842) times 12/11;
# - FY2023-FY2025: ASSUMED (no verified figure in data/reference): rising to a record in FY2024.
# The generator keeps the proportions; `proceedings` sets the scale.
COMPLETIONS_PER_FISCAL_YEAR = {
    2012: 206_330,
    2013: 191_803,
    2014: 171_264,
    2015: 172_218,
    2016: 203_894,
    2017: 185_002,
    2018: 195_123,
    2019: 276_970,
    2020: 231_659,
    2021: 145_306,
    2022: 410_009,
    2023: 530_000,
    2024: 700_000,
    2025: 620_000,
}
# Business days from receipt to completion: mean of an exponential per fiscal year of completion
# (the backlog grows, so completions come later after receipt), and for proceedings still pending
# at the end: the mean age of the final backlog. ASSUMED, tuned so that the backlog is near TRAC's
# figures at the planted scale (298,173 pending at the end of FY2011, 305,556 at the end of March
# 2012, 610,524 at the end of June 2017) and the pending share of rows near the real 20-30%.
RECEIPT_TO_COMPLETION = {2012: 200, 2013: 250, 2014: 320, 2015: 400, 2016: 480, 2017: 560, 2018: 620}
RECEIPT_TO_COMPLETION.update({2019: 640, 2020: 720, 2021: 900, 2022: 650, 2023: 620, 2024: 600, 2025: 640})
PENDING_AGE = 420
PENDING_SHARE_OF_LAST = 0.40  # cases whose last proceeding is pending at the end of FY2025

# National PD-closure intensity (OTHER_COMP Y, M, I), relative to the trac-2014 window (where it
# averages 1.0): a court's PD probability is its pd_pct times this (times the nationality's
# pd_factor). Month steps, "YYYY-MM": value from that month on.
# - FY2012-FY2015 by quarter: ramping up through FY2012 (TRAC: 2,609 PD closures by March 2012,
#   5,684 by 2012-06-28, 9,684 in FY2012). TRAC's figures are not mutually consistent under one
#   method (FY2013 at 8.5% and Oct-Dec 2013 at 7.0% cannot average 6.7% over Oct 2012-Mar 2014),
#   so the window rate of 6.7% and the court rates take precedence.
# - FY2016 to January 2017: about 2,400 a month (TRAC report 474, February-June 2016).
# - February 2017 to May 2021: under 100 a month (report 474); lower still after Matter of
#   Castro-Tum (May 2018).
# - June 2021 on: PD mostly by dismissal (PD_DISMISSAL_SHARE); few Y/M closures; fewer after
#   January 2025.
PD_INTENSITY_STEPS = {
    "2011-10": 0.30,
    "2012-01": 0.50,
    "2012-04": 0.85,
    "2012-07": 1.05,
    "2012-10": 0.99,
    "2013-07": 0.9405,
    "2013-10": 0.891,
    "2014-01": 0.7524,
    "2014-04": 0.85,
    "2014-07": 0.90,
    "2014-10": 1.00,
    "2015-01": 1.15,
    "2015-04": 1.20,
    "2015-10": 1.90,
    "2016-01": 2.10,
    "2016-10": 2.00,
    "2017-02": 0.025,
    "2018-06": 0.012,
    "2021-06": 0.020,
    "2025-02": 0.005,
}
# PD closures favour proceedings pending at least PD_OLDER_AFTER business days: this many times
# likelier, the others as many times less likely (ASSUMED; puts TRAC's 2012 backlog shares in reach).
PD_OLDER_AFTER, PD_OLDER_FACTOR = 250, 1.6
# Shares of the PD codes by period: I ("terminated") was about a quarter of the first closures
# (TRAC report 278: about 650 of the first 2,609); M ("in court") from June 2012.
PD_CODE_SHARES_STEPS = {
    "2011-10": {"Y": 0.75, "I": 0.25},
    "2012-04": {"Y": 0.97, "I": 0.03},
    "2012-06": {"Y": 0.92, "M": 0.07, "I": 0.01},
    "2017-02": {"Y": 0.90, "M": 0.10},
}
# PD as dismissal: the share of removal and deportation completions dismissed at DHS's request, by
# month. ASSUMED shape (no published monthly count in data/reference): the Trasvina memo (2021-05-27),
# the Mayorkas guidelines (2021-09-30), the Doyle memo in effect (2022-04-25), fewer in 2024, few
# after January 2025.
PD_DISMISSAL_SHARE_STEPS = {
    "2011-10": 0.0,
    "2021-06": 0.05,
    "2021-10": 0.08,
    "2022-04": 0.13,
    "2023-10": 0.09,
    "2025-02": 0.005,
}
# The eras as the manifest states them.
ERAS = {
    "2011-10/2017-01": "PD closures: OTHER_COMP Y and M (I among the first, to mid-2012)",
    "2017-02/2021-05": "PD closures under 100 a month at real scale (report 474); fewer after Castro-Tum",
    "2021-06/2025-01": "PD mostly as dismissals: DEC_CODE letters decoded as dismissed for the case type "
    "(truth.definition_codes); F, A and K grow (not PD)",
    "2025-02/2025-09": "few PD closures or PD dismissals",
}
# Non-PD administrative completions: share of the other completions, and their codes weighted by
# their all-years counts (October 2025 release); after 2021 F (failure to prosecute), A and K
# (administrative closure, restored by Matter of Cruz-Valdez, 2021-07-15) grow: ASSUMED weights.
ADMIN_STEPS = {
    "2011-10": (0.11, {"A": 521_518, "F": 370_352, "X": 76_067, "P": 17_809, "O": 16_502, "K": 3_032, "H": 2_994}),
    "2017-02": (0.06, {"A": 300_000, "F": 200_000, "X": 76_067, "P": 17_809, "O": 16_502, "K": 1_000, "H": 2_994}),
    "2021-06": (0.16, {"A": 700_000, "F": 900_000, "X": 76_067, "P": 17_809, "O": 16_502, "K": 120_000, "H": 2_994}),
}
NEW_PROCEEDING_SHARES = {"C": 0.69, "T": 0.31}  # 1,898,506 C : 847,234 T in the October 2025 release

# Proceedings before a case's last one, each ended by a change of venue or transfer (C/T).
# Shares wanted per case; a case whose proceeding starts too early to have a predecessor inside
# the span gets fewer. Together they make C/T about 23% of completed rows, as in the real data
# (1.9M C + 0.85M T against 9.3M other completions, October 2025 release).
PREDECESSOR_COUNTS = np.array([0, 1, 2])
PREDECESSOR_SHARES = np.array([0.83, 0.15, 0.02])
MAX_LAG = 10  # business days from a C/T completion to the next proceeding's input

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
NUL_COLUMNS = ("BASE_CITY_CODE", "OTHER_COMP", "HEARING_LOC_CODE", "NAT", "CUSTODY", "LANG")
PADDED_COLUMNS = ("BASE_CITY_CODE", "OTHER_COMP", "LANG", "CASE_TYPE", "NAT", "DEC_CODE", "CUSTODY")

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


def _step_index(steps: dict, months: np.ndarray) -> np.ndarray:
    """For each month (datetime64[M]), the index of the step in force ("YYYY-MM" keys, ascending)."""
    starts = np.array(list(steps), dtype="datetime64[M]")
    return np.maximum(np.searchsorted(starts, months, side="right") - 1, 0)


class _Calendar:
    """Business days as integer indexes (0 = FIRST_DAY) and their release-style date strings."""

    # Indexes kept before FIRST_DAY (receipts of the backlog, OSC, detention) and after LAST_DAY.
    BEFORE, AFTER = 2_700, 800

    def __init__(self):
        self.days_in_span = int(np.busday_count(FIRST_DAY, LAST_DAY + timedelta(days=1)))
        indexes = np.arange(-self.BEFORE, self.days_in_span + self.AFTER)
        self.days = np.busday_offset(np.datetime64(FIRST_DAY), indexes, roll="forward")
        self._strings = np.array([_timestamp(d) for d in self.days.astype(str)], dtype=object)
        self.fiscal_year_first = np.array([self.index(date(fy - 1, 10, 1)) for fy in FISCAL_YEARS])
        self.fiscal_year_length = (
            np.array([self.index(date(fy, 10, 1)) for fy in FISCAL_YEARS]) - self.fiscal_year_first
        )
        months = self.days.astype("datetime64[M]")
        self._pd_intensity = np.array(list(PD_INTENSITY_STEPS.values()))[_step_index(PD_INTENSITY_STEPS, months)]
        self._pd_intensity[months < np.datetime64(FIRST_DAY, "M")] = 0.0
        self._pd_dismissal = np.array(list(PD_DISMISSAL_SHARE_STEPS.values()))[
            _step_index(PD_DISMISSAL_SHARE_STEPS, months)
        ]
        self._pd_codes_step = _step_index(PD_CODE_SHARES_STEPS, months)
        self._admin_step = _step_index(ADMIN_STEPS, months)

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

    def pd_dismissal_share(self, indexes: np.ndarray) -> np.ndarray:
        return self._pd_dismissal[indexes + self.BEFORE]

    def pd_codes_step(self, indexes: np.ndarray) -> np.ndarray:
        return self._pd_codes_step[indexes + self.BEFORE]

    def admin_step(self, indexes: np.ndarray) -> np.ndarray:
        return self._admin_step[indexes + self.BEFORE]


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
        for code, description, _ in _merits_choices(case_type):
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


def _nationality_rows() -> list[list[str]]:
    created = _timestamp("1997-04-01")
    # NACARA countries (NAT_NACARA_COUNTRY 1): Guatemala, El Salvador, Nicaragua, Cuba, as the Act names.
    nacara = {"GT", "ES", "NU", "CU"}
    return [
        [str(number), code, name, name.title(), "1" if code in nacara else "0", created, created, "1"]
        for number, (code, name, *_) in enumerate(sorted(NATIONALITIES), 1)
    ]


def _custody_rows() -> list[list[str]]:
    created = _timestamp("1997-04-01")
    return [
        [str(number), code, f"{code} - {description}", description, "1", created, created]
        for number, (code, description) in enumerate(CUSTODY_STATUSES, 1)
    ]


def _language_rows() -> list[list[str]]:
    created = _timestamp("1997-04-01")
    languages = sorted({(language, name) for _, _, language, name, *_ in NATIONALITIES})
    return [[str(number), code, name, created, created, "1"] for number, (code, name) in enumerate(languages, 1)]


def _lookup_tables() -> dict[str, tuple[list[str], list[list[str]]]]:
    return {
        release_format.BASE_CITY_TABLE: (release_format.BASE_CITY_COLUMNS, _base_city_rows()),
        release_format.HLOC_TABLE: (release_format.HLOC_COLUMNS, _hloc_rows()),
        release_format.DECISION_TABLE: (release_format.DECISION_COLUMNS, _decision_rows()),
        release_format.CASE_TYPE_TABLE: (release_format.CASE_TYPE_COLUMNS, _case_type_rows()),
        release_format.NATIONALITY_TABLE: (release_format.NATIONALITY_COLUMNS, _nationality_rows()),
        release_format.CUSTODY_TABLE: (release_format.CUSTODY_COLUMNS, _custody_rows()),
        release_format.LANGUAGE_TABLE: (release_format.LANGUAGE_COLUMNS, _language_rows()),
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
        self.nationality = np.array([n[0] for n in NATIONALITIES], dtype=object)
        self.language = np.array([n[2] for n in NATIONALITIES], dtype=object)
        self.nationality_share = [_shares([n[4] for n in NATIONALITIES]), _shares([n[5] for n in NATIONALITIES])]
        # PD factors: the published ones, the rest equal and set so that the average (over the
        # earlier mix, the era of PD closures) is 1.
        known = np.array([n[6] is not None for n in NATIONALITIES])
        factor = np.array([n[6] or 0.0 for n in NATIONALITIES])
        share = self.nationality_share[0]
        factor[~known] = (1 - (share[known] * factor[known]).sum()) / share[~known].sum()
        self.pd_factor = factor
        self.merits = []  # per case type: (codes, shares)
        for case_type, _, _ in CASE_TYPES:
            choices = _merits_choices(case_type)
            self.merits.append(
                (np.array([c for c, _, _ in choices], dtype=object), _shares([w for _, _, w in choices]))
            )
        self.admin = [  # per step of ADMIN_STEPS: (share, OTHER_COMP indexes, their shares)
            (share, np.array([OTHER_COMP_INDEX[c] for c in weights]), _shares(list(weights.values())))
            for share, weights in ADMIN_STEPS.values()
        ]
        self.pd_codes = [
            (np.array([OTHER_COMP_INDEX[c] for c in shares]), _shares(list(shares.values())))
            for shares in PD_CODE_SHARES_STEPS.values()
        ]
        self.pd_dismissal_code = np.array([PD_DISMISSAL_CODE.get(code, "") for code, _, _ in CASE_TYPES], dtype=object)
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


def _pairs_in(case_type: np.ndarray, decision: np.ndarray, pairs) -> np.ndarray:
    """True where DEC_CODE is one of the codes of the row's case type in `pairs` ({case type: codes})."""
    found = np.zeros(len(decision), dtype=bool)
    for ct, codes in pairs.items():
        found |= (CASE_TYPE_CODES[case_type] == ct) & np.isin(decision, codes)
    return found


def _case_timelines(rng, rows: int, calendar: _Calendar, tables: _Tables) -> dict:
    """Cases as chains of proceedings, exactly `rows` long, with courts and business-day dates.

    Every proceeding but a case's last ended in a change of venue or transfer (C/T) a few days
    before the next one's input, at another court. A case's last proceeding is pending, or
    completed on a day drawn by the fiscal year's completion volume. Receipts may precede the
    span (the backlog on its first day) by up to about ten years; a proceeding received before
    the span gets no predecessor (whose C/T completion would fall before it).
    Returns per-row arrays in file order: by input day (so IDNPROCEEDING grows with time and a
    case's proceedings come in sequence); `previous` and `following` give the row of the same
    case's previous and next proceeding, -1 where there is none.
    """
    span, n_courts = calendar.days_in_span, len(COURTS)
    earliest = -calendar.BEFORE + 40  # room for an OSC_DATE and a detention date before receipt
    cases = rows  # enough: a case has at least one proceeding
    pending = rng.random(cases) < PENDING_SHARE_OF_LAST
    fiscal_year = rng.choice(len(FISCAL_YEARS), size=cases, p=_shares(list(COMPLETIONS_PER_FISCAL_YEAR.values())))
    comp = np.where(
        pending,
        -1,
        calendar.fiscal_year_first[fiscal_year]
        + (rng.random(cases) * calendar.fiscal_year_length[fiscal_year]).astype(int),
    )
    waiting = np.array([RECEIPT_TO_COMPLETION[fy] for fy in FISCAL_YEARS])[fiscal_year]
    entered = np.where(
        pending,
        span - 1 - rng.exponential(PENDING_AGE, cases).astype(int),
        comp - rng.exponential(waiting).astype(int),
    )
    court = rng.choice(n_courts, size=cases, p=tables.court_share)
    wanted = rng.choice(PREDECESSOR_COUNTS, size=cases, p=PREDECESSOR_SHARES)
    levels = [(comp, entered, court)]  # level 0: the last proceeding; level k: k steps before it
    predecessors = np.zeros(cases, dtype=int)
    for level in range(1, PREDECESSOR_COUNTS.max() + 1):
        next_comp, next_entered, next_court = levels[-1]
        # A predecessor's change of venue or transfer must fall inside the span of completions.
        possible = (wanted >= level) & (predecessors == level - 1) & (next_entered >= MAX_LAG)
        level_comp = next_entered - rng.integers(1, MAX_LAG + 1, cases)
        level_entered = level_comp - rng.exponential(120, cases).astype(int)
        level_court = (next_court + rng.integers(1, n_courts, cases)) % n_courts
        predecessors[possible] = level
        levels.append((level_comp, level_entered, level_court))
    for level_comp, level_entered, _ in levels:
        early = np.flatnonzero(level_entered < earliest)
        latest = np.where(level_comp[early] >= 0, level_comp[early], span - 1)
        level_entered[early] = earliest + (rng.random(len(early)) * (latest - earliest + 1)).astype(int)

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

    # Case-level attributes (kept across a case's proceedings); the nationality mix by the year the
    # case's first proceeding was received.
    case_type = rng.choice(len(CASE_TYPES), size=n_cases, p=tables.case_type_share)[case]
    first_received = np.zeros(n_cases, dtype=int)
    first_received[case[position == 0]] = entered[position == 0]
    later_era = calendar.dates(first_received).astype("datetime64[Y]").astype(int) + 1970 >= NATIONALITY_ERA_YEAR
    nationality = np.where(
        later_era,
        rng.choice(len(NATIONALITIES), size=n_cases, p=tables.nationality_share[1]),
        rng.choice(len(NATIONALITIES), size=n_cases, p=tables.nationality_share[0]),
    )[case]
    criminal = (rng.random(n_cases) < 0.08)[case]

    # Outcomes. PD closures by systematic sampling along (court, completion day): each court's
    # count in any period lands within one of its expected value, so even small courts hit
    # their calibrated rate instead of wandering with coin-flip noise.
    comp_day = np.maximum(comp, 0)
    other_comp = np.zeros(rows, dtype=int)
    new_proceeding = completed & ~last
    other_comp[new_proceeding] = _draw_codes(rng, NEW_PROCEEDING_SHARES, new_proceeding.sum())
    pd_probability = np.where(
        completed_last & PD_CASE_TYPES[case_type],
        tables.court_pd_rate[court] * calendar.pd_intensity(comp_day) * tables.pd_factor[nationality],
        0.0,
    )
    # PD went mostly to cases pending for a while (TRAC's 2012 rates are shares of the backlog):
    # older proceedings are likelier, each month's total kept.
    older = pd_probability * np.where(comp - entered >= PD_OLDER_AFTER, PD_OLDER_FACTOR, 1 / PD_OLDER_FACTOR)
    month = calendar.dates(comp_day).astype("datetime64[M]").astype(int)
    month -= month.min()
    kept = np.bincount(month, pd_probability) / np.maximum(np.bincount(month, older), 1e-12)
    pd_probability = older * kept[month]
    order = np.lexsort((rng.random(rows), comp, court))
    expected = rng.random() + np.concatenate(([0.0], np.cumsum(pd_probability[order])))
    is_pd = np.zeros(rows, dtype=bool)
    is_pd[order] = np.floor(expected[1:]) > np.floor(expected[:-1])
    pd_step = calendar.pd_codes_step(comp_day)
    for step, (codes, shares) in enumerate(tables.pd_codes):
        here = is_pd & (pd_step == step)
        other_comp[here] = codes[rng.choice(len(codes), size=here.sum(), p=shares)]
    # PD as dismissal (June 2021 to January 2025): the case type's dismissal letter in DEC_CODE.
    decision = np.full(rows, "", dtype=object)
    pd_dismissal = (
        completed_last
        & ~is_pd
        & (tables.pd_dismissal_code[case_type] != "")
        & (rng.random(rows) < calendar.pd_dismissal_share(comp_day))
    )
    decision[pd_dismissal] = tables.pd_dismissal_code[case_type[pd_dismissal]]
    admin_step = calendar.admin_step(comp_day)
    admin_draw = rng.random(rows)
    admin = np.zeros(rows, dtype=bool)
    for step, (share, codes, shares) in enumerate(tables.admin):
        here = completed_last & ~is_pd & ~pd_dismissal & (admin_step == step) & (admin_draw < share)
        other_comp[here] = codes[rng.choice(len(codes), size=here.sum(), p=shares)]
        admin |= here
    merits = completed_last & ~is_pd & ~pd_dismissal & ~admin
    for index, (codes, shares) in enumerate(tables.merits):
        here = merits & (case_type == index)
        decision[here] = codes[rng.choice(len(codes), size=here.sum(), p=shares)]

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
    # When the proceeding was received, as the pending basis reads it: INPUT_DATE, or OSC_DATE
    # where INPUT_DATE is junk; none when both are missing or junk.
    osc_day = entered - rng.integers(0, 30, rows)
    received = calendar.dates(entered)
    osc_valid = osc_present.copy()
    osc_valid[junk_rows["OSC_DATE"]] = False
    input_junk = np.zeros(rows, dtype=bool)
    input_junk[junk_rows["INPUT_DATE"]] = True
    received[input_junk] = calendar.dates(osc_day[input_junk])
    received_known = ~input_junk | osc_valid
    records = {
        "court": court,
        "comp_date": calendar.dates(comp_day),
        "valid_comp": valid_comp,
        "other_comp": other_comp,
        "dismissal": _pairs_in(case_type, decision, DISMISSAL_CODES),
        "custody": custody,
        "case_type": case_type,
        "nationality": nationality,
        "received": received,
        "received_known": received_known,
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
    removal_order = _pairs_in(case_type, decision, REMOVAL_ORDERS)
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
        "OSC_DATE": calendar.strings(osc_day, osc_present),
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
        "DEC_CODE": decision.copy(),
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
        "CUSTODY": custody.copy(),
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
    """The planted truth, summed chunk by chunk from the generator's own records.

    A proceeding completes in a window when its valid COMP_DATE falls in it (inclusive);
    completions exclude change of venue and transfer (OTHER_COMP C, T); all case types; quarantined
    lines are left out. Under "pd-closures" a PD closure is OTHER_COMP Y, M or I; under
    "pd-dismissals" also a DEC_CODE that is a dismissal for the proceeding's case type
    (DISMISSAL_CODES). The tables by court, nationality, custody and case type use pd-closures.
    Pending at a window's start: received before its first day (INPUT_DATE, or OSC_DATE where
    INPUT_DATE is junk) and without a valid COMP_DATE before it.
    """

    def __init__(self):
        n_courts = len(COURTS)
        self.months = _months_of_span()
        self.national = {name: np.zeros((len(DEFINITIONS), 2), dtype=np.int64) for name in TRUTH_WINDOWS}
        self.by_court = {name: np.zeros((2, n_courts), dtype=np.int64) for name in COURT_TRUTH_WINDOWS}
        self.by_fiscal_year = {fy: np.zeros(4, dtype=np.int64) for fy in FISCAL_YEARS}
        # Proceedings heard at the shared hearing-location code, per court (COURT_TRUTH_WINDOWS).
        self.shared_hloc = {name: np.zeros((2, n_courts), dtype=np.int64) for name in COURT_TRUTH_WINDOWS}
        self.long_run = np.zeros((len(DEFINITIONS), 2, len(self.months)), dtype=np.int64)
        self.groups = {
            "nationalities": (np.array([n[0] for n in NATIONALITIES]), "nationality"),
            "custody": (np.array([c for c, _ in CUSTODY_STATUSES]), "custody"),
            "case_types": (CASE_TYPE_CODES.astype(str), "case_type"),
        }
        self.by_group = {
            group: {name: np.zeros((2, len(codes)), dtype=np.int64) for name in TRUTH_WINDOWS}
            for group, (codes, _) in self.groups.items()
        }
        self.pending_by_nationality = {
            name: np.zeros((2, len(NATIONALITIES)), dtype=np.int64) for name in TRUTH_WINDOWS
        }
        self.without_valid_comp_date = 0

    def add(self, records: dict) -> None:
        counted = records["loaded"] & records["valid_comp"]
        day = records["comp_date"]
        completion = counted & ~IS_NEW_PROCEEDING_CODE[records["other_comp"]]
        pd_closure = completion & IS_PD_CODE[records["other_comp"]]
        pd_by_definition = {
            "pd-closures": pd_closure,
            "pd-dismissals": pd_closure | (completion & records["dismissal"]),
        }
        custody_index = np.searchsorted(self.groups["custody"][0], records["custody"].astype(str))
        keys = {"nationality": records["nationality"], "custody": custody_index, "case_type": records["case_type"]}
        for name, (start, end) in TRUTH_WINDOWS.items():
            inside = (day >= np.datetime64(start)) & (day <= np.datetime64(end))
            for d, definition_name in enumerate(DEFINITIONS):
                self.national[name][d] += [
                    (pd_by_definition[definition_name] & inside).sum(),
                    (completion & inside).sum(),
                ]
            if name in self.by_court:
                for i, flags in enumerate((pd_closure, completion)):
                    self.by_court[name][i] += np.bincount(records["court"][flags & inside], minlength=len(COURTS))
                    self.shared_hloc[name][i] += np.bincount(
                        records["court"][flags & inside & records["shared_hloc"]], minlength=len(COURTS)
                    )
            for group, (codes, key) in self.groups.items():
                for i, flags in enumerate((pd_closure, completion)):
                    self.by_group[group][name][i] += np.bincount(keys[key][flags & inside], minlength=len(codes))
            first = np.datetime64(start)
            pending = (
                records["loaded"]
                & records["received_known"]
                & (records["received"] < first)
                & (~records["valid_comp"] | (day >= first))
            )
            for i, flags in enumerate((pending, pending & pd_closure & inside)):
                self.pending_by_nationality[name][i] += np.bincount(
                    records["nationality"][flags], minlength=len(NATIONALITIES)
                )
        month = day.astype("datetime64[M]").astype(int) - self.months[0].astype(int)
        for d, definition_name in enumerate(DEFINITIONS):
            for i, flags in enumerate((pd_by_definition[definition_name], completion)):
                self.long_run[d, i] += np.bincount(month[flags], minlength=len(self.months))
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

        def by_code(counts, codes):  # codes with at least one completion
            return {str(code): pair(*counts[:, i]) for i, code in enumerate(codes) if counts[1, i]}

        return {
            "national": {name: pair(*counts[0]) for name, counts in self.national.items()},
            "national_by_definition": {
                name: {definition_name: pair(*counts[d]) for d, definition_name in enumerate(DEFINITIONS)}
                for name, counts in self.national.items()
            },
            "definition_codes": DISMISSAL_CODES,
            "long_run": {
                definition_name: {str(month): pair(*self.long_run[d, :, i]) for i, month in enumerate(self.months)}
                for d, definition_name in enumerate(DEFINITIONS)
            },
            **{
                group: {name: by_code(counts, self.groups[group][0]) for name, counts in windows.items()}
                for group, windows in self.by_group.items()
            },
            "pending_by_nationality": {
                name: {
                    code: {"pending_at_start": int(counts[0, i]), "pd_closures": int(counts[1, i])}
                    for i, (code, *_) in enumerate(NATIONALITIES)
                    if counts[0, i]
                }
                for name, counts in self.pending_by_nationality.items()
            },
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


def _months_of_span() -> np.ndarray:
    """Every month from the span's first to its last, as datetime64[M]."""
    return np.arange(np.datetime64(FIRST_DAY, "M"), np.datetime64(LAST_DAY, "M") + 1)


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
        f"seed {seed} and {proceedings:,} proceedings, generator version {GENERATOR_VERSION}: completions "
        f"from {FIRST_DAY} to {LAST_DAY}, a scale model in which one proceeding stands for "
        f"{_scale(proceedings)} real ones. It copies "
        "the layout and file format of the EOIR case-data release (tab-delimited .csv files, latin-1, "
        "CRLF line ends) and plants that release's known quirks on purpose. Court codes and cities are "
        "real; every proceeding, date, judge code and outcome is invented.\r\n\r\n"
        f"{synthetic_scale_line(_scale(proceedings))}\r\n"
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
        "scale": _scale(proceedings),
        "scale_note": "a scale model: one synthetic proceeding stands for `scale` real ones; monthly "
        "volumes and PD counts are the real (published or assumed) figures divided by it",
        "span": {"first_completion": str(FIRST_DAY), "last_completion": str(LAST_DAY)},
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
            "excluded_other_comp": list(NEW_PROCEEDING_OTHER_COMP),
            "pd_other_comp": list(PD_OTHER_COMP),
            "case_types": "all",
            "quarantined_lines": "excluded",
            "codes": "NUL bytes stripped and spaces trimmed before comparison",
        },
        "definitions": {
            "pd-closures": "OTHER_COMP in {Y, M, I}",
            "pd-dismissals": "OTHER_COMP in {Y, M, I}, or a DEC_CODE whose tblLookupCourtDecision row with "
            "strDecType C for the proceeding's CASE_TYPE says dismissed (truth.definition_codes)",
            "tables_by_court_nationality_custody_case_type": "pd-closures",
        },
        "eras": ERAS,
        "windows": {name: [str(start), str(end)] for name, (start, end) in TRUTH_WINDOWS.items()},
        "truth": tally.to_dict(),
    }
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return manifest


def _scale(proceedings: int) -> float | int:
    """Real proceedings per synthetic proceeding (SAMPLE_SCALE at the default size)."""
    scale = SAMPLE_SCALE * SAMPLE_PROCEEDINGS / proceedings
    return int(scale) if scale == int(scale) else round(scale, 4)


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
