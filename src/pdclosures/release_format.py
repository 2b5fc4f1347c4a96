"""The EOIR case-data release as published: format, table and column names, codes, renamed columns.

Source: EOIR FOIA library case-data release (justice.gov/eoir/foia-library-0); column orders as
documented by the public loaders deportationdata/eoir (data/variable_types.csv) and marrowb/eoir.
Every table file is named .csv but is TAB-delimited, unquoted, latin-1, with CRLF line ends.
"""

ENCODING = "latin-1"
DELIMITER = "\t"
LINE_END = "\r\n"

PROCEEDING_TABLE = "B_TblProceeding"
BASE_CITY_TABLE = "tblLookupBaseCity"
HLOC_TABLE = "tblLookupHloc"
DECISION_TABLE = "tblLookupCourtDecision"
CASE_TYPE_TABLE = "tblLookupCaseType"
NATIONALITY_TABLE = "tblLookupNationality"
CUSTODY_TABLE = "tblLookupCustodyStatus"
LANGUAGE_TABLE = "tblLanguage"
# The tables every release must have, in the order of a folder release's checksum (README, "Outputs").
TABLES = [PROCEEDING_TABLE, BASE_CITY_TABLE, HLOC_TABLE, DECISION_TABLE, CASE_TYPE_TABLE]
# Lookups read when the release has them: without one, its codes stay codes (data_quality.csv says
# which is missing). They only label breakdowns; no count depends on them.
OPTIONAL_LOOKUPS = [NATIONALITY_TABLE, CUSTODY_TABLE, LANGUAGE_TABLE]

# A column EOIR renames: old name -> the name used here, applied to the header of every table as
# it is read, so releases with either name load (a header with both keeps both as they are).
# e.g. {"HEARING_LOCATION_CODE": "HEARING_LOC_CODE"}. No rename of a column read here is known yet.
COLUMN_ALIASES: dict[str, str] = {}

PROCEEDING_COLUMNS = [
    "IDNPROCEEDING",
    "IDNCASE",
    "OSC_DATE",
    "INPUT_DATE",
    "BASE_CITY_CODE",
    "HEARING_LOC_CODE",
    "IJ_CODE",
    "TRANS_IN_DATE",
    "PREV_HEARING_LOC",
    "PREV_HEARING_BASE",
    "PREV_IJ_CODE",
    "TRANS_NBR",
    "HEARING_DATE",
    "HEARING_TIME",
    "DEC_TYPE",
    "DEC_CODE",
    "DEPORTED_1",
    "DEPORTED_2",
    "OTHER_COMP",
    "APPEAL_RSVD",
    "APPEAL_NOT_FILED",
    "COMP_DATE",
    "ABSENTIA",
    "VENUE_CHG_GRANTED",
    "TRANSFER_TO",
    "DATE_APPEAL_DUE_STATUS",
    "TRANSFER_STATUS",
    "CUSTODY",
    "CASE_TYPE",
    "NAT",
    "LANG",
    "SCHEDULED_HEAR_LOC",
    "CORRECTIONAL_FAC",
    "CRIM_IND",
    "IHP",
    "AGGRAVATE_FELON",
    "DATE_DETAINED",
    "DATE_RELEASED",
]
assert len(PROCEEDING_COLUMNS) == 38

# Columns the cleaned proceedings cache keeps: those the method, its definitions and its breakdowns
# read (ids for the case unit, dates for the window and the pending-at-start basis, OTHER_COMP and
# DEC_CODE for PD closures and dismissals, codes for the breakdowns by court, nationality, custody,
# language and judge). The parser's cost grows with every kept column, so nothing more is kept.
PROCEEDING_ID_COLUMNS = ["IDNPROCEEDING", "IDNCASE"]
PROCEEDING_DATE_COLUMNS = ["OSC_DATE", "INPUT_DATE", "COMP_DATE"]
PROCEEDING_CODE_COLUMNS = [
    "BASE_CITY_CODE",
    "HEARING_LOC_CODE",
    "OTHER_COMP",
    "CASE_TYPE",
    "DEC_CODE",
    "NAT",
    "CUSTODY",
    "LANG",
    "IJ_CODE",
]
PROCEEDING_CACHE_COLUMNS = PROCEEDING_ID_COLUMNS + PROCEEDING_DATE_COLUMNS + PROCEEDING_CODE_COLUMNS

# tblLookupBaseCity: 11 named columns, 80 print-form flag columns, then 6 more. Our reference
# names only the first (BaseEoir1Flag) and last (I122Subf) print-form columns; the synthetic
# sample fills the 78 between with placeholder names.
BASE_CITY_PRINT_FORM_COLUMNS = ["BaseEoir1Flag"] + [f"PrintForm{i:02d}" for i in range(2, 80)] + ["I122Subf"]
BASE_CITY_COLUMNS = (
    [
        "idnBaseCity",
        "BASE_CITY_CODE",
        "BASE_CITY_NAME",
        "BaseAutomated",
        "BASE_ST_ADDRESS",
        "BASE_CITY",
        "BASE_STATE",
        "BASE_ZIP_1",
        "BASE_ZIP_2",
        "BASE_PHONE_NO",
        "strRegion",
    ]
    + BASE_CITY_PRINT_FORM_COLUMNS
    + ["RopDefault", "RopPrtClass", "BaseSplPrtClass", "datCreatedOn", "datModifiedOn", "blnActive", "blnBCIS"]
)
HLOC_COLUMNS = [
    "idnHloc",
    "HEARING_LOC_CODE",
    "HEARING_LOC_NAME",
    "HEARING_CORR_TITLE",
    "HEARING_ST_ADDRESS",
    "HEARING_CITY",
    "HEARING_STATE",
    "HEARING_ZIP",
    "HEARING_PHONE_NO",
    "HEARING_BASE_CITY",
    "Hear_Admin_Hear_Loc",
    "Hear_Trans_COV_City",
    "Hear_Det_Type",
    "Hear_Active_Flg",
    "datCreatedOn",
    "datModifiedOn",
    "blnActive",
    "ROPLoc",
    "intCalDetainDays",
    "intCalINSAsyPDays",
    "intCalINSAsyMDays",
    "intCalINSDays",
    "intCalEOIRDays",
    "intCalCFRDays",
    "intCalCDRDays",
    "CircuitCourt",
    "blnPrnWksOnAdd",
    "blnPrnRopOnAdd",
]
DECISION_COLUMNS = [
    "idnCourtDecision",
    "strCaseType",
    "strDecCode",
    "strDecDescription",
    "strDecType",
    "strFinalDisposition",
    "blnActive",
    "datCreatedOn",
    "datModifiedOn",
]
CASE_TYPE_COLUMNS = [
    "idnCaseType",
    "strCode",
    "strDescription",
    "blnActive",
    "datCreatedOn",
    "datModifiedOn",
    "strAnsirCode",
]
# The three optional lookups, as published (headers of the 2022-2026 releases in the public loaders
# deportationdata/eoir and ian-nason/eoir-database).
NATIONALITY_COLUMNS = [
    "ID",
    "NAT_CODE",
    "NAT_NAME",
    "NAT_COUNTRY_NAME",
    "NAT_NACARA_COUNTRY",
    "datCreatedOn",
    "datModifiedOn",
    "blnActive",
]
CUSTODY_COLUMNS = [
    "idnCustodyStatus",
    "strCode",
    "strSelecBoxVal",
    "strDescription",
    "blnActive",
    "datCreatedOn",
    "datModifiedOn",
]
LANGUAGE_COLUMNS = ["idnLang", "strCode", "strDescription", "datCreatedOn", "datModifiedOn", "blnActive"]
# Every lookup's published columns, in file order.
LOOKUP_COLUMNS = {
    BASE_CITY_TABLE: BASE_CITY_COLUMNS,
    HLOC_TABLE: HLOC_COLUMNS,
    DECISION_TABLE: DECISION_COLUMNS,
    CASE_TYPE_TABLE: CASE_TYPE_COLUMNS,
    NATIONALITY_TABLE: NATIONALITY_COLUMNS,
    CUSTODY_TABLE: CUSTODY_COLUMNS,
    LANGUAGE_TABLE: LANGUAGE_COLUMNS,
}

# Columns of each lookup that the analysis reads.
LOOKUP_NEEDED_COLUMNS = {
    BASE_CITY_TABLE: ["BASE_CITY_CODE", "BASE_CITY_NAME", "BASE_CITY", "BASE_STATE", "strRegion"],
    HLOC_TABLE: [
        "HEARING_LOC_CODE",
        "HEARING_LOC_NAME",
        "HEARING_CITY",
        "HEARING_STATE",
        "HEARING_BASE_CITY",
        "CircuitCourt",
    ],
    DECISION_TABLE: ["strCaseType", "strDecCode", "strDecDescription", "strDecType", "blnActive", "datCreatedOn"],
    CASE_TYPE_TABLE: ["strCode", "strDescription"],
    NATIONALITY_TABLE: ["NAT_CODE", "NAT_NAME"],
    CUSTODY_TABLE: ["strCode", "strDescription"],
    LANGUAGE_TABLE: ["strCode", "strDescription"],
}
# Each lookup's (code, label) columns, and the proceedings' column it decodes (optional lookups).
LOOKUP_DECODES = {
    NATIONALITY_TABLE: ("NAT", "NAT_CODE", "NAT_NAME"),
    CUSTODY_TABLE: ("CUSTODY", "strCode", "strDescription"),
    LANGUAGE_TABLE: ("LANG", "strCode", "strDescription"),
}

# The key of each lookup: the columns that name one thing. Real lookups repeat keys (public loaders
# of the 2022-2026 releases, deportationdata/eoir and ian-nason/eoir-database): tblLookupHloc lists
# one hearing-location code once per base city (IAD: 87 rows), tblLookupBaseCity and
# tblLookupCourtDecision hold inactive duplicates of active rows. cleaning.reduce_lookup keeps one
# row per key, by LOOKUP_ROW_ORDER.
LOOKUP_KEYS = {
    BASE_CITY_TABLE: ["BASE_CITY_CODE"],
    HLOC_TABLE: ["HEARING_LOC_CODE", "HEARING_BASE_CITY"],
    DECISION_TABLE: ["strCaseType", "strDecCode", "strDecType"],
    CASE_TYPE_TABLE: ["strCode"],
    NATIONALITY_TABLE: ["NAT_CODE"],
    CUSTODY_TABLE: ["strCode"],
    LANGUAGE_TABLE: ["strCode"],
}
# Each lookup's (active flag, last-modified date, row id) columns, for the pick among repeated keys.
LOOKUP_ROW_ORDER = {
    BASE_CITY_TABLE: ("blnActive", "datModifiedOn", "idnBaseCity"),
    HLOC_TABLE: ("blnActive", "datModifiedOn", "idnHloc"),
    DECISION_TABLE: ("blnActive", "datModifiedOn", "idnCourtDecision"),
    CASE_TYPE_TABLE: ("blnActive", "datModifiedOn", "idnCaseType"),
    NATIONALITY_TABLE: ("blnActive", "datModifiedOn", "ID"),
    CUSTODY_TABLE: ("blnActive", "datModifiedOn", "idnCustodyStatus"),
    LANGUAGE_TABLE: ("blnActive", "datModifiedOn", "idnLang"),
}

# Longest text (NUL bytes and padding stripped) of the codes the cache keeps, used to tell a
# well-formed row when a tab-shifted line is realigned: varchar(3) for the court and hearing-location
# codes; one letter for OTHER_COMP, DEC_CODE and CUSTODY, three for CASE_TYPE (every real value but a
# handful of stray ones, deportationdata/eoir value counts, October 2025: DEC_CODE once held a date);
# NAT the two characters of every tblLookupNationality code, LANG the two or three of every
# tblLanguage code once its padding is stripped ('MXX ', ' IFE'; public lookup dump, late 2025).
# IJ_CODE has no published width (no tblLookupJudge codes in the dumps), so it is not listed: any
# code text of up to 12 characters fits it. A width only rules a realignment out; no loaded line is
# ever checked against it.
CODE_MAX_LENGTH = {
    "BASE_CITY_CODE": 3,
    "HEARING_LOC_CODE": 3,
    "OTHER_COMP": 1,
    "CASE_TYPE": 3,
    "DEC_CODE": 1,
    "CUSTODY": 1,
    "NAT": 2,
    "LANG": 3,
}
# Characters besides letters, digits and spaces that real codes hold: NAT '??' (UNKNOWN NATIONALITY),
# LANG '???' and '<A>' (tblLanguage).
CODE_PUNCTUATION = {"NAT": "?", "LANG": "?<>"}

# OTHER_COMP codes (tblLookupCourtDecision rows with strDecType 'O').
REMOVAL_CASE_TYPES = ("RMV", "DEP", "EXC")

# Codes the parameters accept: OTHER_COMP codes that occur in the release (tblLookupCourtDecision,
# strDecType 'O'), and the 13 case types of tblLookupCaseType (AOC, CDR, CFR, CSR, DCC, DDC, DEP,
# EXC, NAC, REC, RFR, RMV, WHO: deportationdata/eoir lookup dump, October 2025) plus AOL, a stray
# value the proceedings hold (2 rows).
KNOWN_OTHER_COMP_CODES = frozenset("ACFHIKMOPRTWXY")
KNOWN_CASE_TYPES = frozenset(
    {"AOC", "CDR", "CFR", "CSR", "DCC", "DDC", "DEP", "EXC", "NAC", "REC", "RFR", "RMV", "WHO", "AOL"}
)
