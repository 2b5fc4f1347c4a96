"""What a run counts: the window, the completions, and which of them are PD closures.

This module is the one place that defines a PD closure. Rates, the sensitivity table, the
pending-at-start basis and the code timeline all build their SQL from the functions below, so a
change here changes every table of a run. The method's reasons are in docs/methodology.md.

Defaults (each is a run parameter):
- a proceeding completes in the window when its COMP_DATE falls in [start, end], both inclusive;
- completions exclude OTHER_COMP C (change of venue) and T (transfer): the case goes on in a new
  proceeding, so counting them would count one case's end twice;
- a PD closure is a completion with OTHER_COMP in {Y, M, I} (definition pd-closures);
- all case types and all courts count; the unit is the proceeding.

The definition pd-dismissals also counts a completion whose DEC_CODE is a dismissal: decoded through
the tblLookupCourtDecision rows with strDecType C for the proceeding's own CASE_TYPE, because one
letter means different things in different case types (U "Dismissed by IJ"; D "DISMISSED" in one
case type and "Deny" in another). Dismissals are a proxy and an upper bound for PD after mid-2021:
cases are also dismissed for defective notices to appear or a status obtained elsewhere.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from dataclasses import dataclass, replace

import pandas as pd

from . import release_format
from .errors import ReleaseError

# The default definition (TRAC 2014): OTHER_COMP codes that are PD closures, and those that open a new
# proceeding rather than end the case (change of venue, transfer), left out of the completions.
PD_CODES_DEFAULT = ("Y", "M", "I")
NEW_PROCEEDING_CODES_DEFAULT = ("C", "T")

UNITS = ("proceeding", "case")  # what a rate counts: proceedings, or cases (IDNCASE) once each

# How a PD closure is counted (the `definition` parameter): the OTHER_COMP codes only (TRAC 2014;
# right to January 2017), or also DEC_CODE dismissals (DHS's PD from mid-2021; see README "New date ranges").
PD_CLOSURES, PD_DISMISSALS = "pd-closures", "pd-dismissals"
DEFINITIONS = (PD_CLOSURES, PD_DISMISSALS)
EVERY_CASE_TYPE = "all"  # a dismissal code given for every case type (dismissal_codes=U)
# A DEC_CODE decision whose strDecDescription says the case was dismissed ("Dismissed by IJ", "DISMISSED").
DISMISSED = re.compile(r"\bdismiss", re.IGNORECASE)
DECISION_CODE_TYPE, OTHER_COMP_TYPE = "C", "O"  # strDecType of DEC_CODE rows and of OTHER_COMP rows
# EOIR's own Adjudication Statistics count decisions only (no administrative completions: no
# OTHER_COMP) in these case types; the eoir-completions basis puts a window's total beside theirs.
EOIR_CASE_TYPES = ("RMV", "DEP", "EXC", "AOC", "WHO")
BASES = ("completions", "eoir-completions")
# Said wherever a pd-dismissals result is shown (figure notes, the report, docs/methodology.md).
DISMISSALS_CAVEAT = (
    "Dismissals are a proxy and an upper bound for PD: cases are also dismissed after a defective notice "
    "to appear, or when a status was obtained elsewhere. OTHER_COMP F, A and K are not counted as PD."
)
# OTHER_COMP codes that grew after 2021 for reasons other than PD (descriptions of the strDecType O rows
# of tblLookupCourtDecision, October 2025 lookup dump): never PD by default; the sensitivity table adds each.
NOT_PD_OTHER_COMP = {"F": "Failure to Prosecute", "A": "Administrative Closing - Other", "K": "Administrative Closure"}


def fiscal_year(day: dt.date) -> int:
    """The federal fiscal year: FY2013 runs from 2012-10-01 to 2013-09-30."""
    return day.year + (day.month >= 10)


def fiscal_year_sql(date_column: str) -> str:
    """fiscal_year() of a DATE column, in SQL."""
    return f"(year({date_column}) + (month({date_column}) >= 10)::INT)"


@dataclass(frozen=True)
class Window:
    """Completion dates from start to end, both inclusive."""

    start: dt.date
    end: dt.date

    def months(self) -> list[str]:
        """'YYYY-MM' of every month the window touches."""
        first, last = self.start.year * 12 + self.start.month - 1, self.end.year * 12 + self.end.month - 1
        return [f"{index // 12:04d}-{index % 12 + 1:02d}" for index in range(first, last + 1)]

    def fiscal_years(self) -> list[int]:
        return list(range(fiscal_year(self.start), fiscal_year(self.end) + 1))

    def whole_months(self) -> bool:
        """True when the window starts on a month's first day and ends on a month's last day."""
        return self.start.day == 1 and (self.end + dt.timedelta(days=1)).day == 1

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


@dataclass(frozen=True)
class Method:
    """Which completions count, and which of them are PD closures."""

    pd_codes: tuple[str, ...] = PD_CODES_DEFAULT
    excluded_codes: tuple[str, ...] = NEW_PROCEEDING_CODES_DEFAULT
    case_types: tuple[str, ...] | None = None  # None: all case types
    unit: str = "proceeding"
    courts: tuple[str, ...] | None = None  # None: every court
    definition: str = PD_CLOSURES
    # Under pd-dismissals: the (CASE_TYPE, DEC_CODE) pairs counted as PD, filled by resolve() from the
    # decision lookup (or from dismissal_override); CASE_TYPE EVERY_CASE_TYPE matches any case type.
    dismissals: tuple[tuple[str, str], ...] = ()
    dismissal_override: tuple[tuple[str, str], ...] = ()  # the dismissal_codes parameter; () = decode
    basis: str = "completions"  # or "eoir-completions": decisions only (see eoir_completions)

    def describe(self) -> str:
        parts = [f"PD closure = OTHER_COMP in {{{', '.join(self.pd_codes)}}}"]
        if self.definition == PD_DISMISSALS:
            # The caveat (a proxy, an upper bound) is DISMISSALS_CAVEAT, said beside the description.
            parts[0] += f" or a DEC_CODE dismissal ({dismissals_text(self.dismissal_override)})"
        if self.basis == "eoir-completions":
            parts.append("completions on EOIR's basis (decisions only: no OTHER_COMP)")
        elif self.excluded_codes:
            parts.append(f"completions exclude OTHER_COMP {', '.join(self.excluded_codes)}")
        parts.append("all case types" if self.case_types is None else f"case types {', '.join(self.case_types)}")
        parts.append(f"unit: {self.unit}")
        if self.courts:
            parts.append(f"courts {', '.join(self.courts)} only")
        return "; ".join(parts)

    def is_default(self) -> bool:
        """The project's default method (a court restriction aside)."""
        return self == Method(courts=self.courts)


def dismissals_text(pairs: tuple[tuple[str, str], ...]) -> str:
    """How the dismissal codes were chosen, for a method's description."""
    if not pairs:
        return "decoded per case type from tblLookupCourtDecision"
    return "dismissal_codes " + format_dismissal_codes(pairs)


def format_dismissal_codes(pairs: tuple[tuple[str, str], ...]) -> str:
    """The dismissal_codes parameter's syntax: U for every case type, RMV:U for one."""
    return ",".join(code if case_type == EVERY_CASE_TYPE else f"{case_type}:{code}" for case_type, code in pairs)


def eoir_completions(method: Method | None = None) -> Method:
    """The eoir-completions basis: the method's PD closures over completions counted as EOIR's
    Adjudication Statistics count them, decisions only (no administrative completion: OTHER_COMP
    empty) in case types RMV, DEP, EXC, AOC, WHO. Its completions can be set beside EOIR's totals;
    its PD closures can only be dismissals (an OTHER_COMP PD closure is administrative)."""
    method = method or Method()
    return replace(method, basis="eoir-completions", excluded_codes=(), case_types=EOIR_CASE_TYPES)


EOIR_COMPLETIONS = eoir_completions()


# --- Decoding the dismissals from tblLookupCourtDecision ------------------------------------

DECISION_LOOKUP_COLUMNS = ("strCaseType", "strDecCode", "strDecDescription", "strDecType")


def dismissal_codes(decisions: pd.DataFrame) -> pd.DataFrame:
    """The DEC_CODE letters that mean a dismissal, per case type: the tblLookupCourtDecision rows with
    strDecType C whose strDecDescription says dismissed. Columns case_type, dec_code, description.

    A ReleaseError names the table and column when the lookup has no such rows to decode from."""
    table = release_format.DECISION_TABLE
    missing = [column for column in DECISION_LOOKUP_COLUMNS if column not in decisions.columns]
    if missing:
        raise ReleaseError(
            f"{table}: column {', '.join(missing)} missing; pd-dismissals decodes DEC_CODE from it "
            "(or give dismissal_codes, e.g. U or RMV:U,DEP:D)"
        )
    rows = _decision_rows(decisions, DECISION_CODE_TYPE)
    if not len(rows):
        raise ReleaseError(
            f"{table}: no rows with strDecType C (the DEC_CODE decisions); pd-dismissals cannot decode "
            "dismissals (give dismissal_codes, e.g. U or RMV:U,DEP:D)"
        )
    found = rows[rows["description"].str.contains(DISMISSED)]
    if not len(found):
        raise ReleaseError(
            f"{table}: no strDecType C row whose strDecDescription says dismissed; pd-dismissals cannot "
            "decode dismissals (give dismissal_codes, e.g. U or RMV:U,DEP:D)"
        )
    return found.sort_values(["case_type", "dec_code"]).reset_index(drop=True)


def _decision_rows(decisions: pd.DataFrame, dec_type: str) -> pd.DataFrame:
    """The lookup's rows of one strDecType as case_type, dec_code, description (trimmed text)."""
    text = {
        name: decisions[column].astype("string").str.strip()
        for name, column in (
            ("dec_type", "strDecType"),
            ("case_type", "strCaseType"),
            ("dec_code", "strDecCode"),
            ("description", "strDecDescription"),
        )
    }
    frame = pd.DataFrame(text).dropna(subset=["dec_type", "case_type", "dec_code"])
    frame = frame[frame["dec_type"].str.upper() == dec_type].drop(columns="dec_type")
    frame["description"] = frame["description"].fillna("")
    return frame.drop_duplicates(["case_type", "dec_code"]).reset_index(drop=True)


def resolve(method: Method, decisions: pd.DataFrame) -> Method:
    """The method with its dismissals filled: under pd-dismissals the dismissal_override pairs, or
    else the pairs decoded from the decision lookup (dismissal_codes); under pd-closures none."""
    if method.definition not in DEFINITIONS:
        raise ValueError(f"definition={method.definition!r}: use one of {', '.join(DEFINITIONS)}")
    if method.definition == PD_CLOSURES:
        return replace(method, dismissals=())
    if method.dismissal_override:
        return replace(method, dismissals=method.dismissal_override)
    decoded = dismissal_codes(decisions)
    return replace(method, dismissals=tuple(zip(decoded["case_type"], decoded["dec_code"])))


DEFINITION_CODES_COLUMNS = ["case_type", "field", "code", "description", "counted_as"]


def definition_codes(method: Method, decisions: pd.DataFrame) -> pd.DataFrame:
    """The codes a resolved method uses, with their descriptions from tblLookupCourtDecision
    (definition_codes.csv): the OTHER_COMP PD codes and the codes left out of the completions (for
    every case type), and under pd-dismissals the DEC_CODE dismissals per case type. A code given
    for every case type lists what its letter means in each case type, so a letter that means a
    dismissal in one and something else in another shows it."""
    has_lookup = all(column in decisions.columns for column in DECISION_LOOKUP_COLUMNS)
    empty = pd.DataFrame(columns=["case_type", "dec_code", "description"])
    other = _decision_rows(decisions, OTHER_COMP_TYPE) if has_lookup else empty
    decided = _decision_rows(decisions, DECISION_CODE_TYPE) if has_lookup else empty
    rows = []
    counted = [(code, "PD closure") for code in method.pd_codes]
    if method.basis == "eoir-completions":
        counted.append(("(any)", "not a completion on EOIR's basis"))
    else:
        counted += [(code, "not a completion (the case goes on in a new proceeding)") for code in method.excluded_codes]
    for code, counted_as in counted:
        rows.append((EVERY_CASE_TYPE, "OTHER_COMP", code, _meanings(other, code), counted_as))
    in_scope = method.case_types
    for case_type, code in method.dismissals if method.definition == PD_DISMISSALS else ():
        if case_type != EVERY_CASE_TYPE and in_scope is not None and case_type not in in_scope:
            continue
        if case_type == EVERY_CASE_TYPE:
            description = _meanings(decided, code)
        else:
            match = decided[(decided["case_type"] == case_type) & (decided["dec_code"] == code)]
            description = match["description"].iloc[0] if len(match) else "(not in tblLookupCourtDecision)"
        rows.append((case_type, "DEC_CODE", code, description, "PD closure (dismissal, a proxy)"))
    return pd.DataFrame(rows, columns=DEFINITION_CODES_COLUMNS)


def _meanings(rows: pd.DataFrame, code: str) -> str:
    """What a letter means across case types: 'Dismissed by IJ (DEP, RMV); Deny (EXC)'."""
    found = rows[rows["dec_code"] == code]
    if not len(found):
        return "(not in tblLookupCourtDecision)"
    by_text = found.groupby("description", sort=True)["case_type"].apply(lambda types: ", ".join(sorted(types)))
    if len(by_text) == 1:
        return str(by_text.index[0])
    return "; ".join(f"{text} ({types})" for text, types in by_text.items())


# --- The definition as SQL over the cleaned proceedings (columns as in the cache) -------------


def is_pd_sql(method: Method) -> str:
    """True for a PD closure: its OTHER_COMP is one of the PD codes, or (pd-dismissals) its DEC_CODE is
    a dismissal for its CASE_TYPE. A pd-dismissals method must be resolved first (see resolve)."""
    conditions = [f"OTHER_COMP IN ({sql_list(method.pd_codes)})"] if method.pd_codes else []
    if method.definition == PD_DISMISSALS:
        if not method.dismissals:
            raise ValueError("a pd-dismissals method without dismissals: call definition.resolve() first")
        by_case_type: dict[str, list[str]] = {}
        for case_type, code in method.dismissals:
            by_case_type.setdefault(case_type, []).append(code)
        for case_type, codes in by_case_type.items():
            letters = f"DEC_CODE IN ({sql_list(codes)})"
            if case_type != EVERY_CASE_TYPE:
                letters = f"(CASE_TYPE = {sql_list([case_type])} AND {letters})"
            conditions.append(letters)
    if not conditions:
        return "false"
    return f"coalesce({' OR '.join(conditions)}, false)"


def in_window_sql(window: Window, column: str = "COMP_DATE") -> str:
    """True when a date column falls in the window (both ends inclusive)."""
    return f"{column} BETWEEN {date_sql(window.start)} AND {date_sql(window.end)}"


def scope_sql(method: Method) -> list[str]:
    """Conditions for the proceedings a run looks at at all: its case types and courts."""
    conditions = []
    if method.case_types is not None:
        conditions.append(f"CASE_TYPE IN ({sql_list(method.case_types)})")
    if method.courts is not None:
        conditions.append(f"BASE_CITY_CODE IN ({sql_list(method.courts)})")
    return conditions


def counted_sql(method: Method) -> list[str]:
    """Conditions for a completion to count (the window aside): in scope, and not a new-proceeding code."""
    conditions = []
    if method.basis == "eoir-completions":
        conditions.append("OTHER_COMP IS NULL")  # decisions only: no administrative completion
    if method.excluded_codes:
        conditions.append(f"(OTHER_COMP IS NULL OR OTHER_COMP NOT IN ({sql_list(method.excluded_codes)}))")
    return conditions + scope_sql(method)


def completions_sql(window: Window, method: Method, source: str = "proceedings") -> str:
    """One row per counted completion in the window, with is_pd and where it was counted.

    With unit=case a case counts once, where and how its last completion in the window ended it."""
    conditions = "\n  AND ".join([in_window_sql(window), *counted_sql(method)])
    rows = (
        f"SELECT IDNPROCEEDING, IDNCASE, COMP_DATE, BASE_CITY_CODE, HEARING_LOC_CODE,\n"
        f"       {is_pd_sql(method)} AS is_pd\n"
        f"FROM {source}\n"
        f"WHERE {conditions}"
    )
    if method.unit == "case":
        last_first = "ORDER BY COMP_DATE DESC, IDNPROCEEDING DESC"
        rows = (
            "SELECT * EXCLUDE (rn) FROM (\n"
            f"  SELECT *, row_number() OVER (PARTITION BY IDNCASE {last_first}) AS rn\n"
            f"  FROM (\n{textwrap.indent(rows, '    ')}\n  )\n"
            ")\n"
            "WHERE rn = 1"
        )
    return rows


def pending_sql(day: dt.date) -> list[str]:
    """Conditions for a proceeding to be pending when the day begins: received before it (a valid
    INPUT_DATE, or OSC_DATE where INPUT_DATE is empty or junk) and not completed before it (no valid
    COMP_DATE, or one on the day or later). TRAC's 2012 backlog basis; see validation.pending_at_start."""
    return [f"coalesce(INPUT_DATE, OSC_DATE) < {date_sql(day)}", f"(COMP_DATE IS NULL OR COMP_DATE >= {date_sql(day)})"]


def date_sql(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def sql_list(values) -> str:
    """'a', 'b' for an SQL IN list, quotes escaped."""
    return ", ".join("'" + str(value).replace("'", "''") + "'" for value in values)
