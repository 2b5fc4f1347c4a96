"""What a run counts: the window, the completions, and which of them are PD closures.

This module is the one place that defines a PD closure. Rates, the sensitivity table, the
pending-at-start basis and the code timeline all build their SQL from the functions below, so a
change here changes every table of a run. The method's reasons are in docs/methodology.md.

Defaults (each is a run parameter):
- a proceeding completes in the window when its COMP_DATE falls in [start, end], both inclusive;
- completions exclude OTHER_COMP C (change of venue) and T (transfer): the case goes on in a new
  proceeding, so counting them would count one case's end twice;
- a PD closure is a completion with OTHER_COMP in {Y, M, I};
- all case types and all courts count; the unit is the proceeding.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass

# The default definition (TRAC 2014): OTHER_COMP codes that are PD closures, and those that open a new
# proceeding rather than end the case (change of venue, transfer), left out of the completions.
PD_CODES_DEFAULT = ("Y", "M", "I")
NEW_PROCEEDING_CODES_DEFAULT = ("C", "T")

UNITS = ("proceeding", "case")  # what a rate counts: proceedings, or cases (IDNCASE) once each


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

    def describe(self) -> str:
        parts = [f"PD closure = OTHER_COMP in {{{', '.join(self.pd_codes)}}}"]
        if self.excluded_codes:
            parts.append(f"completions exclude OTHER_COMP {', '.join(self.excluded_codes)}")
        parts.append("all case types" if self.case_types is None else f"case types {', '.join(self.case_types)}")
        parts.append(f"unit: {self.unit}")
        if self.courts:
            parts.append(f"courts {', '.join(self.courts)} only")
        return "; ".join(parts)

    def is_default(self) -> bool:
        """The project's default method (a court restriction aside)."""
        return self == Method(courts=self.courts)


# --- The definition as SQL over the cleaned proceedings (columns as in the cache) -------------


def is_pd_sql(method: Method) -> str:
    """True for a PD closure: its OTHER_COMP is one of the PD codes."""
    if not method.pd_codes:
        return "false"
    return f"coalesce(OTHER_COMP IN ({sql_list(method.pd_codes)}), false)"


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
    if method.excluded_codes:
        conditions.append(f"(OTHER_COMP IS NULL OR OTHER_COMP NOT IN ({sql_list(method.excluded_codes)}))")
    return conditions + scope_sql(method)


def completions_sql(window: Window, method: Method, source: str = "proceedings", columns=()) -> str:
    """One row per counted completion in the window, with is_pd and where it was counted (and the
    proceeding's further `columns`, e.g. NAT for the breakdowns by nationality).

    With unit=case a case counts once, where and how its last completion in the window ended it."""
    conditions = "\n  AND ".join([in_window_sql(window), *counted_sql(method)])
    carried = "".join(f" {column}," for column in columns)
    rows = (
        f"SELECT IDNPROCEEDING, IDNCASE, COMP_DATE, BASE_CITY_CODE, HEARING_LOC_CODE,{carried}\n"
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
