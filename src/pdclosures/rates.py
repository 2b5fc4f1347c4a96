"""PD closure rates from the cleaned proceedings cache, nationally and by every breakdown.

What is counted (the window, the completions, the PD closures, the unit) is definition.py's; this
module counts it, adds a 95% Wilson score interval to every rate, ranks the breakdowns and formats
the tables for reading (display_table).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from . import definition, release_format
from .definition import Method, Window
from .errors import ParameterError
from .ingest import IngestResult

# A proceeding's hearing location (and so its hearing city and federal circuit): the lookup row of
# its HEARING_LOC_CODE for its own court (HEARING_BASE_CITY = BASE_CITY_CODE); if the lookup has no
# such row, the code's row when the code has only one row, for whichever court; else none.
HLOC_JOIN = (
    "h.HEARING_LOC_CODE = c.HEARING_LOC_CODE AND (h.HEARING_BASE_CITY = c.BASE_CITY_CODE OR h.rows_for_code = 1)"
)
RATE_COLUMNS = ["pd_closures", "completions", "pd_rate", "ci_low", "ci_high"]
# Completions per court, hearing location, month, OTHER_COMP, CASE_TYPE and DEC_CODE, kept beside the
# cleaned release (the version is in the name: a new layout gets a new file).
MONTHLY_FILE = "completions_by_month.v2.parquet"
Z_95 = 1.959963984540054


def wilson_interval(successes, trials, z: float = Z_95):
    """95% Wilson score interval; NaN where there are no trials."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
        low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def add_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Add pd_rate and the Wilson interval to a frame with pd_closures and completions."""
    frame = frame.copy()
    frame["pd_closures"] = frame["pd_closures"].fillna(0).astype("int64")
    frame["completions"] = frame["completions"].fillna(0).astype("int64")
    completions = frame["completions"].to_numpy()
    frame["pd_rate"] = rate(frame["pd_closures"], completions)
    frame["ci_low"], frame["ci_high"] = wilson_interval(frame["pd_closures"], completions)
    return frame


def rate(pd_closures, completions):
    """PD closures over completions; NaN where there are no completions."""
    n = np.asarray(completions)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.asarray(pd_closures) / np.maximum(n, 1), np.nan)


def national_row(counts: pd.DataFrame, window: Window) -> pd.DataFrame:
    """A row like national.csv from one row of pd_closures and completions over the window."""
    counts.insert(0, "end", window.end.isoformat())
    counts.insert(0, "start", window.start.isoformat())
    return add_rates(counts)


class RateCalculator:
    """Counts completions and PD closures in the cached release with DuckDB.

    Proceeding counts for a window of whole months come from the monthly completions table
    (built once per cached release, see monthly_completions_sql), so a new window costs a scan
    of a few hundred thousand rows instead of millions. Other windows, and the case unit, count
    the proceedings (definition.completions_sql).

    The method is resolved against the release's decision lookup (definition.resolve): under
    pd-dismissals, calculator.method holds the (CASE_TYPE, DEC_CODE) pairs every table counts."""

    def __init__(self, ingest: IngestResult, window: Window, method: Method = Method()):
        self.ingest = ingest
        self.window = window
        self.decisions = decision_lookup(ingest)
        self.method = self.resolve(method)
        self._loaded = set()  # tables loaded into this connection when first needed: monthly, window_rows
        self.con = duckdb.connect()
        self.con.execute("SET threads TO 2")
        self.con.execute(
            f"CREATE VIEW proceedings AS SELECT * FROM read_parquet('{sql_path(ingest.proceedings_path)}')"
        )
        # The cache holds one lookup row per key (cleaning.reduce_lookup): per court code, and per
        # (hearing-location code, base city). A hearing location is the row of its code for the
        # proceeding's own court; where the lookup has no such row, the code's one row if the code
        # has only one, else none (an unknown location): see hearing_location_join.
        self.con.execute(f"""CREATE VIEW base_city AS
            SELECT * FROM read_parquet('{sql_path(ingest.lookup_path(release_format.BASE_CITY_TABLE))}')""")
        self.con.execute(f"""CREATE VIEW hloc AS
            SELECT *, count(*) OVER (PARTITION BY HEARING_LOC_CODE) AS rows_for_code
            FROM read_parquet('{sql_path(ingest.lookup_path(release_format.HLOC_TABLE))}')""")
        self._check_courts()
        # Counts per court, hearing location and month: every table of the run is a sum over
        # this small table, so the counting happens once.
        self.con.execute(f"CREATE TEMP TABLE completions AS {self._counts_sql(self.method, by_place_and_month=True)}")

    def resolve(self, method: Method) -> Method:
        """The method with the dismissals its definition counts in this release (definition.resolve)."""
        return definition.resolve(method, self.decisions)

    def _check_courts(self) -> None:
        if not self.method.courts:
            return
        known = {row[0] for row in self.con.execute("SELECT BASE_CITY_CODE FROM base_city").fetchall()}
        unknown = [c for c in self.method.courts if c not in known]
        if unknown:
            raise ParameterError(f"courts: {', '.join(unknown)} is not a court in this release's tblLookupBaseCity")

    def uses_monthly_table(self, method: Method | None = None) -> bool:
        return (method or self.method).unit == "proceeding" and self.window.whole_months()

    def _load(self, table: str) -> None:
        if table in self._loaded:
            return
        if table == "monthly":
            load_monthly(self.con, self.ingest)
        else:  # the proceedings completed in the window, in memory: each method is a quick count over them
            self.con.execute(f"""CREATE TEMP TABLE window_rows AS
                SELECT IDNPROCEEDING, IDNCASE, COMP_DATE, BASE_CITY_CODE, HEARING_LOC_CODE, OTHER_COMP, CASE_TYPE,
                       DEC_CODE
                FROM proceedings WHERE {definition.in_window_sql(self.window)}""")
        self._loaded.add(table)

    def _counts_sql(self, method: Method, by_place_and_month: bool, source: str = "proceedings") -> str:
        """pd_closures and completions under a method, nationally or per court, location and month."""
        if self.uses_monthly_table(method):
            self._load("monthly")
            in_window = definition.in_window_sql(self.window, "COMP_MONTH")
            conditions = " AND ".join([in_window, *definition.counted_sql(method)])
            rows = f"""SELECT BASE_CITY_CODE, HEARING_LOC_CODE, COMP_MONTH, {definition.is_pd_sql(method)} AS is_pd,
                              completions AS n FROM monthly WHERE {conditions}"""
        else:
            rows = f"""SELECT BASE_CITY_CODE, HEARING_LOC_CODE, date_trunc('month', COMP_DATE)::DATE AS COMP_MONTH,
                              is_pd, 1 AS n FROM ({definition.completions_sql(self.window, method, source)})"""
        keys = "BASE_CITY_CODE, HEARING_LOC_CODE, COMP_MONTH" if by_place_and_month else ""
        return f"""SELECT {keys + "," if keys else ""}
                          coalesce(sum(n) FILTER (WHERE is_pd), 0)::BIGINT AS pd_closures,
                          coalesce(sum(n), 0)::BIGINT AS completions
                   FROM ({rows}) {"GROUP BY " + keys if keys else ""}"""

    def national_for(self, method: Method) -> pd.DataFrame:
        """national() under another method for the same window, e.g. for a sensitivity analysis.

        Whole-month windows count proceedings from the monthly table, and cases with one scan of
        the cache. For other windows every method scans, so the window's proceedings are read from
        the cache once, into memory, and each method is a quick count over them. The method is
        resolved here (a pd-dismissals alternative decodes its dismissals)."""
        method = self.resolve(method)
        source = "proceedings"
        if not self.window.whole_months():
            self._load("window_rows")
            source = "window_rows"
        return self.national_row(self.con.execute(self._counts_sql(method, False, source)).df())

    def _summed(self, keys: str = "", group: str = "") -> pd.DataFrame:
        """The run's counts summed over the completions table, by keys that may name the court's
        lookup row (b) and the hearing location's (h)."""
        return self.con.execute(f"""
            SELECT {keys + "," if keys else ""} coalesce(sum(c.pd_closures), 0)::BIGINT AS pd_closures,
                   coalesce(sum(c.completions), 0)::BIGINT AS completions
            FROM completions c LEFT JOIN base_city b ON b.BASE_CITY_CODE = c.BASE_CITY_CODE
                               LEFT JOIN hloc h ON {HLOC_JOIN}
            {"GROUP BY " + group if group else ""}""").df()

    def national_row(self, counts: pd.DataFrame) -> pd.DataFrame:
        """A row like national.csv from one row of pd_closures and completions over this window."""
        return national_row(counts, self.window)

    def national(self) -> pd.DataFrame:
        """national.csv: the window, the counts and rate, and the definition they are counted under."""
        return self.national_row(self._summed()).assign(definition=self.method.definition)

    def definition_codes(self) -> pd.DataFrame:
        """definition_codes.csv: the codes this run's definition counts, per case type, with their
        descriptions from tblLookupCourtDecision (definition.definition_codes)."""
        return definition.definition_codes(self.method, self.decisions)

    def fiscal_years(self) -> pd.DataFrame:
        counts = self._summed(f"{definition.fiscal_year_sql('COMP_MONTH')} AS fiscal_year", group="fiscal_year")
        frame = pd.DataFrame({"fiscal_year": self.window.fiscal_years()})
        frame["period_start"] = [max(self.window.start, dt.date(fy - 1, 10, 1)).isoformat() for fy in frame.fiscal_year]
        frame["period_end"] = [min(self.window.end, dt.date(fy, 9, 30)).isoformat() for fy in frame.fiscal_year]
        frame["partial"] = [
            (s != f"{fy - 1}-10-01") or (e != f"{fy}-09-30")
            for fy, s, e in zip(frame.fiscal_year, frame.period_start, frame.period_end)
        ]
        counts["fiscal_year"] = counts["fiscal_year"].astype("int64")
        return add_rates(frame.merge(counts, on="fiscal_year", how="left"))

    def months(self) -> pd.DataFrame:
        counts = self._summed("strftime(COMP_MONTH, '%Y-%m') AS month", group="month")
        frame = pd.DataFrame({"month": self.window.months()})
        frame["fiscal_year"] = [definition.fiscal_year(dt.date(int(m[:4]), int(m[5:]), 1)) for m in frame.month]
        return add_rates(frame.merge(counts, on="month", how="left"))

    def courts(self, min_completions: int = 0) -> pd.DataFrame:
        frame = self._summed(
            """c.BASE_CITY_CODE AS base_city_code, any_value(b.BASE_CITY) AS city,
                                any_value(b.BASE_STATE) AS state, count(b.BASE_CITY_CODE) > 0 AS in_lookup""",
            group="c.BASE_CITY_CODE",
        )
        frame["court"] = court_names(frame)
        return rank(add_rates(frame), min_completions, "base_city_code")[
            ["base_city_code", "court", "state", *RATE_COLUMNS]
        ]

    def hearing_locations(self, min_completions: int = 0) -> pd.DataFrame:
        frame = self._summed(
            """c.HEARING_LOC_CODE AS hearing_loc_code, any_value(h.HEARING_LOC_NAME) AS hearing_location,
               any_value(h.HEARING_CITY) AS hearing_city, any_value(h.HEARING_STATE) AS hearing_state,
               count(h.HEARING_LOC_CODE) > 0 AS hloc_matched,
               c.HEARING_LOC_CODE IN (SELECT HEARING_LOC_CODE FROM hloc) AS hloc_in_lookup,
               c.BASE_CITY_CODE AS base_city_code, any_value(b.BASE_CITY) AS city,
               any_value(b.BASE_STATE) AS state, count(b.BASE_CITY_CODE) > 0 AS in_lookup""",
            group="c.HEARING_LOC_CODE, c.BASE_CITY_CODE",
        )
        frame["court"] = court_names(frame)
        frame["hearing_location"] = hearing_location_names(frame)
        return rank(add_rates(frame), min_completions, "hearing_loc_code", "base_city_code")[
            [
                "hearing_loc_code",
                "hearing_location",
                "hearing_city",
                "hearing_state",
                "base_city_code",
                "court",
                *RATE_COLUMNS,
            ]
        ]

    def _by_lookup_column(self, name: str, column: str, min_completions: int) -> pd.DataFrame:
        """Rates by one lookup column (the court's state or region, the location's circuit), ranked."""
        frame = self._summed(f"coalesce(nullif({column}, ''), '(unknown)') AS {name}", group="1")
        return rank(add_rates(frame), min_completions, name)[[name, *RATE_COLUMNS]]

    def states(self, min_completions: int = 0) -> pd.DataFrame:
        return self._by_lookup_column("state", "b.BASE_STATE", min_completions)

    def circuits(self, min_completions: int = 0) -> pd.DataFrame:
        return self._by_lookup_column("circuit", "h.CircuitCourt", min_completions)

    def regions(self, min_completions: int = 0) -> pd.DataFrame:
        return self._by_lookup_column("region", "b.strRegion", min_completions)

    def all_tables(self, min_completions: int = 0) -> dict[str, pd.DataFrame]:
        """Every output table of the rates stage, by file stem."""
        return {
            "national": self.national(),
            "fiscal_years": self.fiscal_years(),
            "months": self.months(),
            "courts": self.courts(min_completions),
            "hearing_locations": self.hearing_locations(min_completions),
            "states": self.states(min_completions),
            "circuits": self.circuits(min_completions),
            "regions": self.regions(min_completions),
        }


def decision_lookup(ingest: IngestResult) -> pd.DataFrame:
    """The release's cleaned tblLookupCourtDecision, which definition.resolve decodes dismissals from."""
    return pd.read_parquet(ingest.lookup_path(release_format.DECISION_TABLE))


def monthly_completions_sql(source: str = "proceedings") -> str:
    """Completions (valid COMP_DATE) per court, hearing location, month, OTHER_COMP, CASE_TYPE and DEC_CODE.

    Every method of the proceeding unit filters and classifies on these columns only, so its
    counts for any window of whole months are sums over this table. Ordered by month, so that
    a window reads only its own row groups."""
    # Grouped on a month number, made a date only per group: a fifth cheaper at full scale than
    # grouping on date_trunc('month', ...) of every row.
    return f"""SELECT BASE_CITY_CODE, HEARING_LOC_CODE,
                      make_date(month_number // 12, month_number % 12 + 1, 1) AS COMP_MONTH,
                      OTHER_COMP, CASE_TYPE, DEC_CODE, completions
               FROM (SELECT BASE_CITY_CODE, HEARING_LOC_CODE,
                            year(COMP_DATE) * 12 + month(COMP_DATE) - 1 AS month_number,
                            OTHER_COMP, CASE_TYPE, DEC_CODE, count(*) AS completions
                     FROM {source} WHERE COMP_DATE IS NOT NULL GROUP BY ALL)
               ORDER BY COMP_MONTH"""


def load_monthly(con: duckdb.DuckDBPyConnection, ingest: IngestResult) -> None:
    """Make the view `monthly` (see monthly_completions_sql) in a connection: read from the
    cache, written there first (from the cached proceedings) if missing."""
    path = ingest.cache_dir / MONTHLY_FILE
    if not path.exists():
        counted = monthly_completions_sql(f"read_parquet('{sql_path(ingest.proceedings_path)}')")
        staging = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            con.execute(f"COPY ({counted}) TO '{sql_path(staging)}' (FORMAT parquet, COMPRESSION zstd)")
            os.replace(staging, path)  # atomic: a concurrent run sees the whole file or none
        except (OSError, duckdb.IOException):  # a read-only cache: count for this run only
            staging.unlink(missing_ok=True)
            con.execute(f"CREATE TEMP TABLE monthly AS {counted}")
            return
    con.execute(f"CREATE VIEW monthly AS SELECT * FROM read_parquet('{sql_path(path)}')")


def rank(frame: pd.DataFrame, min_completions: int, *tie_keys: str) -> pd.DataFrame:
    """Rows with at least min_completions first, highest rate first (ties: more completions first);
    then the smaller rows, largest first (ties: higher rate first); remaining ties by tie_keys."""
    small = frame["completions"] < min_completions
    rate, size = frame["pd_rate"].fillna(-1), frame["completions"].astype(float)
    frame = frame.assign(_small=small, _first=rate.where(~small, size), _second=size.where(~small, rate))
    frame = frame.sort_values(
        ["_small", "_first", "_second", *tie_keys],
        ascending=[True, False, False, *[True] * len(tie_keys)],
        kind="mergesort",
    )
    return frame.drop(columns=["_small", "_first", "_second"]).reset_index(drop=True)


def court_names(frame: pd.DataFrame) -> list[str]:
    """'Seattle, WA' from the lookup's BASE_CITY and BASE_STATE (BASE_CITY_NAME is generic), for each
    row of a frame with base_city_code, city, state and in_lookup. A code missing from the lookup is
    '(unknown code XYZ)'; a code in the lookup without a city is '(code XYZ, no city in lookup)'."""
    names = []
    for code, city, state, in_lookup in zip(frame.base_city_code, frame.city, frame.state, frame.in_lookup):
        if pd.isna(code):
            names.append("(no court code)")
        elif not in_lookup:
            names.append(f"(unknown code {code})")
        elif not isinstance(city, str) or not city:
            names.append(f"(code {code}, no city in lookup)")
        else:
            names.append(city.title() + (f", {state}" if isinstance(state, str) and state else ""))
    return names


def hearing_location_names(frame: pd.DataFrame) -> list[str]:
    """The lookup's HEARING_LOC_NAME of each row's hearing location (joined as HLOC_JOIN says); else
    '(no hearing location code)', '(unknown code XYZ)' for a code missing from the lookup,
    '(code XYZ, not listed for this court)' for a code the lookup lists only for other courts (more
    than one), '(code XYZ, no name in lookup)' for a row without a name."""
    names = []
    for code, name, matched, in_lookup in zip(
        frame.hearing_loc_code, frame.hearing_location, frame.hloc_matched, frame.hloc_in_lookup
    ):
        if pd.isna(code):
            names.append("(no hearing location code)")
        elif matched and isinstance(name, str) and name:
            names.append(name)
        elif matched:
            names.append(f"(code {code}, no name in lookup)")
        elif in_lookup:
            names.append(f"(code {code}, not listed for this court)")
        else:
            names.append(f"(unknown code {code})")
    return names


def write_tables(tables: dict[str, pd.DataFrame], out_dir) -> list[Path]:
    """Write each table as CSV with fixed float formatting, so reruns give identical bytes."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, frame in tables.items():
        path = out_dir / f"{stem}.csv"
        frame.to_csv(path, index=False, float_format="%.6f", lineterminator="\n")
        paths.append(path)
    return paths


# --- Tables for reading (notebooks and the report); the CSVs keep fractions -----------------

# Column headings where "pd_closures" -> "Pd closures" would not do; other columns get their
# name with spaces and a capital.
HEADINGS = {
    "pd_closures": "PD closures",
    "pd_rate": "PD rate",
    "ci_low": "95% interval",
    "base_city_code": "Court code",
    "hearing_loc_code": "Location code",
    "hearing_city": "City",
    "hearing_state": "State",
    "circuit": "Federal circuit",
    "region": "EOIR region",
    "start": "From",
    "end": "To",
    "period_start": "From",
    "period_end": "To",
    "partial": "Part of the year",
    "label": "Definition",
    "is_default": "Run's method",
    "basis": "Computed from",
}
MISSING = "—"  # a rate or interval without completions


def publication_table(frame: pd.DataFrame, decimals: int = 1) -> pd.DataFrame:
    """The frame as text, as a publication prints it: rates as percentages ("6.7%") beside their
    counts, the 95% interval in one column ("6.5–6.9%"), counts with thousands separated, fiscal
    years as FY2013, yes for true, readable headings. Other columns are kept as they are."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if column == "ci_high" and "ci_low" in frame.columns:
            continue  # shown with ci_low
        if column == "pd_rate":
            text = [percent(v, decimals) for v in values]
        elif column == "ci_low" and "ci_high" in frame.columns:
            text = [
                MISSING if pd.isna(low) or pd.isna(high) else f"{100 * low:.{decimals}f}–{percent(high, decimals)}"
                for low, high in zip(values, frame["ci_high"])
            ]
        elif column == "fiscal_year":
            text = [f"FY{int(v)}" for v in values]
        elif pd.api.types.is_bool_dtype(values):
            text = ["yes" if v else "" for v in values]
        elif pd.api.types.is_integer_dtype(values):
            text = [f"{int(v):,}" for v in values]
        else:
            text = ["" if pd.isna(v) else str(v) for v in values]
        out[HEADINGS.get(column, column.replace("_", " ").capitalize())] = text
    return pd.DataFrame(out)


def percent(fraction, decimals: int = 1) -> str:
    return MISSING if pd.isna(fraction) else f"{100 * fraction:.{decimals}f}%"


class DisplayTable(Styler):
    """A Styler whose plain-text form is the table itself (not an object address), so that an
    executed notebook is the same on every run."""

    def __repr__(self) -> str:
        return self.data.to_string(index=False)


def display_table(frame: pd.DataFrame, decimals: int = 1) -> DisplayTable:
    """publication_table() styled for a notebook or the report: no index, numbers right-aligned."""
    table = publication_table(frame, decimals)
    shown = frame.drop(columns="ci_high") if "ci_low" in frame.columns else frame
    numeric = [
        i
        for i, column in enumerate(shown.columns)
        if column in ("pd_rate", "ci_low")
        or (pd.api.types.is_integer_dtype(shown[column]) and not pd.api.types.is_bool_dtype(shown[column]))
    ]
    # A fixed id (from the headings), so a rerun writes the same HTML.
    uuid = hashlib.sha256("|".join(table.columns).encode()).hexdigest()[:8]
    styles = [{"selector": f"td.col{i}, th.col_heading.col{i}", "props": "text-align: right"} for i in numeric]
    return (
        DisplayTable(table)
        .hide(axis="index")
        .set_uuid(uuid)
        .set_table_styles([{"selector": "td, th", "props": "text-align: left"}, *styles])
    )


def sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
