"""PD closure rates from the cleaned proceedings cache, nationally and by every breakdown.

The method, with its defaults (each is a parameter; docs/methodology.md explains the choices):
- unit: the proceeding (or the case, IDNCASE, counted once at its last completion in the window);
- a proceeding completes in the window when its COMP_DATE falls in [start, end], inclusive;
- completions exclude OTHER_COMP C (change of venue) and T (transfer): the case goes on in a new
  proceeding, so counting them would count one case's end twice;
- a PD closure is a completion with OTHER_COMP in {Y, M, I};
- all case types count.
Every rate comes with its counts and a 95% Wilson score interval.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import release_format
from .ingest import IngestResult
from .errors import ParameterError
from .definition import Method, Window, counted_sql, fiscal_year, fiscal_year_sql, in_window_sql, is_pd_sql, sql_list

RATE_COLUMNS = ["pd_closures", "completions", "pd_rate", "ci_low", "ci_high"]
# Completions per court, hearing location, month, OTHER_COMP and CASE_TYPE, kept beside the
# cleaned release (the version is in the name: a new layout gets a new file).
MONTHLY_FILE = "completions_by_month.v1.parquet"
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
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["pd_rate"] = np.where(completions > 0, frame["pd_closures"] / np.maximum(completions, 1), np.nan)
    frame["ci_low"], frame["ci_high"] = wilson_interval(frame["pd_closures"], completions)
    return frame


class RateCalculator:
    """Counts completions and PD closures in the cached release with DuckDB.

    Proceeding counts for a window of whole months come from the monthly completions table
    (built once per cached release, see monthly_completions_sql), so a new window costs a scan
    of a few hundred thousand rows instead of millions. Other windows, and the case unit, scan
    the proceedings."""

    def __init__(self, ingest: IngestResult, window: Window, method: Method = Method()):
        self.ingest = ingest
        self.window = window
        self.method = method
        self._window_rows_loaded = False
        self._monthly_ready = False
        self.con = duckdb.connect()
        self.con.execute("SET threads TO 2")
        self.con.execute(f"CREATE VIEW proceedings AS SELECT * FROM read_parquet('{sql_path(ingest.proceedings_path)}')")
        for table, view in [(release_format.BASE_CITY_TABLE, "base_city"), (release_format.HLOC_TABLE, "hloc")]:
            self.con.execute(f"CREATE VIEW {view}_raw AS SELECT * FROM read_parquet('{sql_path(ingest.lookup_path(table))}')")
        # One row per code; where a code repeats (inactive duplicates), the first wins.
        self.con.execute("""CREATE VIEW base_city AS SELECT * EXCLUDE (rn) FROM (
            SELECT *, row_number() OVER (PARTITION BY BASE_CITY_CODE ORDER BY BASE_CITY_CODE) rn
            FROM base_city_raw) WHERE rn = 1""")
        self.con.execute("""CREATE VIEW hloc AS SELECT * EXCLUDE (rn) FROM (
            SELECT *, row_number() OVER (PARTITION BY HEARING_LOC_CODE ORDER BY HEARING_LOC_CODE) rn
            FROM hloc_raw) WHERE rn = 1""")
        self._check_courts()
        # Counts per court, hearing location and month: every table of the run is a sum over
        # this small table, so the counting happens once.
        self.con.execute(f"CREATE TEMP TABLE completions AS {self._counts_sql(self.method, by_place_and_month=True)}")

    def _check_courts(self) -> None:
        if not self.method.courts:
            return
        known = {row[0] for row in self.con.execute("SELECT BASE_CITY_CODE FROM base_city").fetchall()}
        unknown = [c for c in self.method.courts if c not in known]
        if unknown:
            raise ParameterError(f"courts: {', '.join(unknown)} is not a court in this release's tblLookupBaseCity")

    def uses_monthly_table(self, method: "Method | None" = None) -> bool:
        return (method or self.method).unit == "proceeding" and self.window.whole_months()

    def _counts_sql(self, method: "Method", by_place_and_month: bool, source: str = "proceedings") -> str:
        """pd_closures and completions under a method, nationally or per court, location and month."""
        keys = "BASE_CITY_CODE, HEARING_LOC_CODE, COMP_MONTH, " if by_place_and_month else ""
        group = "GROUP BY ALL" if by_place_and_month else ""
        if self.uses_monthly_table(method):
            self._load_monthly()
            is_pd = is_pd_sql(method)
            filters = [in_window_sql(self.window, "COMP_MONTH"),
                       *counted_sql(method)]
            return f"""SELECT {keys}coalesce(sum(completions) FILTER (WHERE {is_pd}), 0)::BIGINT AS pd_closures,
                              coalesce(sum(completions), 0)::BIGINT AS completions
                       FROM monthly WHERE {' AND '.join(filters)} {group}"""
        month = "date_trunc('month', COMP_DATE)::DATE AS COMP_MONTH, " if by_place_and_month else ""
        keys_from_rows = f"BASE_CITY_CODE, HEARING_LOC_CODE, {month}" if by_place_and_month else ""
        return f"""SELECT {keys_from_rows}count(*) FILTER (WHERE is_pd) AS pd_closures, count(*) AS completions
                   FROM ({self._completions_sql(method, source)}) {group}"""

    def _load_monthly(self) -> None:
        if not self._monthly_ready:
            load_monthly(self.con, self.ingest)
            self._monthly_ready = True

    def _completions_sql(self, method: "Method | None" = None, source: str = "proceedings") -> str:
        """One row per counted completion (proceeding or case), with is_pd and its breakdown keys."""
        m = method or self.method
        filters = [in_window_sql(self.window), *counted_sql(m)]
        base = f"""SELECT IDNPROCEEDING, IDNCASE, COMP_DATE, BASE_CITY_CODE, HEARING_LOC_CODE, {is_pd_sql(m)} AS is_pd
                   FROM {source} WHERE {' AND '.join(filters)}"""
        if m.unit == "case":
            # A case counts once, where and how its last completion in the window ended it.
            base = f"""SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (
                         PARTITION BY IDNCASE ORDER BY COMP_DATE DESC, IDNPROCEEDING DESC) rn FROM ({base}))
                       WHERE rn = 1"""
        return base

    def national_for(self, method: "Method") -> pd.DataFrame:
        """national() under another method for the same window, e.g. for a sensitivity analysis.

        Whole-month windows count proceedings from the monthly table, and cases with one scan of
        the cache. For other windows, every method scans: the proceedings completed in the window
        are read from the cache once, into memory, and each method is a quick count over them."""
        if self.window.whole_months():  # the monthly table, or (case unit) one scan
            counts = self.con.execute(self._counts_sql(method, by_place_and_month=False)).df()
        else:
            if not self._window_rows_loaded:
                self.con.execute(f"""CREATE TEMP TABLE window_rows AS
                    SELECT IDNPROCEEDING, IDNCASE, COMP_DATE, BASE_CITY_CODE, HEARING_LOC_CODE, OTHER_COMP, CASE_TYPE
                    FROM proceedings WHERE {in_window_sql(self.window)}""")
                self._window_rows_loaded = True
            counts = self.con.execute(self._counts_sql(method, by_place_and_month=False, source="window_rows")).df()
        counts.insert(0, "end", self.window.end.isoformat())
        counts.insert(0, "start", self.window.start.isoformat())
        return add_rates(counts)

    def _grouped(self, keys_sql: str, joins: str = "", group: str = "") -> pd.DataFrame:
        sql = f"""SELECT {keys_sql}, sum(c.pd_closures)::BIGINT AS pd_closures, sum(c.completions)::BIGINT AS completions
                  FROM completions c {joins} {('GROUP BY ' + group) if group else ''}"""
        return self.con.execute(sql).df()

    def national(self) -> pd.DataFrame:
        counts = self.con.execute("""SELECT coalesce(sum(pd_closures), 0)::BIGINT AS pd_closures,
                                            coalesce(sum(completions), 0)::BIGINT AS completions FROM completions""").df()
        counts.insert(0, "end", self.window.end.isoformat())
        counts.insert(0, "start", self.window.start.isoformat())
        return add_rates(counts)

    def fiscal_years(self) -> pd.DataFrame:
        counts = self._grouped(f"{fiscal_year_sql('COMP_MONTH')} AS fiscal_year",
                               group="fiscal_year")
        frame = pd.DataFrame({"fiscal_year": self.window.fiscal_years()})
        frame["period_start"] = [max(self.window.start, dt.date(fy - 1, 10, 1)).isoformat() for fy in frame.fiscal_year]
        frame["period_end"] = [min(self.window.end, dt.date(fy, 9, 30)).isoformat() for fy in frame.fiscal_year]
        frame["partial"] = [(s != f"{fy - 1}-10-01") or (e != f"{fy}-09-30")
                            for fy, s, e in zip(frame.fiscal_year, frame.period_start, frame.period_end)]
        counts["fiscal_year"] = counts["fiscal_year"].astype("int64")
        return add_rates(frame.merge(counts, on="fiscal_year", how="left"))

    def months(self) -> pd.DataFrame:
        counts = self._grouped("strftime(COMP_MONTH, '%Y-%m') AS month", group="month")
        frame = pd.DataFrame({"month": self.window.months()})
        frame["fiscal_year"] = [fiscal_year(dt.date(int(m[:4]), int(m[5:]), 1)) for m in frame.month]
        return add_rates(frame.merge(counts, on="month", how="left"))

    def courts(self, min_completions: int = 0) -> pd.DataFrame:
        frame = self._grouped(
            """c.BASE_CITY_CODE AS base_city_code,
               any_value(b.BASE_CITY) AS city, any_value(b.BASE_STATE) AS state,
               count(b.BASE_CITY_CODE) > 0 AS in_lookup""",
            joins="LEFT JOIN base_city b ON b.BASE_CITY_CODE = c.BASE_CITY_CODE",
            group="c.BASE_CITY_CODE")
        frame["court"] = court_names(frame)
        frame = add_rates(frame)
        return rank(frame, min_completions, "base_city_code")[
            ["base_city_code", "court", "state", *RATE_COLUMNS]]

    def hearing_locations(self, min_completions: int = 0) -> pd.DataFrame:
        frame = self._grouped(
            """c.HEARING_LOC_CODE AS hearing_loc_code, any_value(h.HEARING_LOC_NAME) AS hearing_location,
               any_value(h.HEARING_CITY) AS hearing_city, any_value(h.HEARING_STATE) AS hearing_state,
               c.BASE_CITY_CODE AS base_city_code, any_value(b.BASE_CITY) AS city,
               any_value(b.BASE_STATE) AS state, count(b.BASE_CITY_CODE) > 0 AS in_lookup""",
            joins="""LEFT JOIN hloc h ON h.HEARING_LOC_CODE = c.HEARING_LOC_CODE
                     LEFT JOIN base_city b ON b.BASE_CITY_CODE = c.BASE_CITY_CODE""",
            group="c.HEARING_LOC_CODE, c.BASE_CITY_CODE")
        frame["court"] = court_names(frame)
        frame = add_rates(frame)
        return rank(frame, min_completions, "hearing_loc_code", "base_city_code")[
            ["hearing_loc_code", "hearing_location", "hearing_city", "hearing_state", "base_city_code", "court",
             *RATE_COLUMNS]]

    def states(self, min_completions: int = 0) -> pd.DataFrame:
        frame = self._grouped("coalesce(nullif(b.BASE_STATE, ''), '(unknown)') AS state",
                              joins="LEFT JOIN base_city b ON b.BASE_CITY_CODE = c.BASE_CITY_CODE", group="1")
        return rank(add_rates(frame), min_completions, "state")[["state", *RATE_COLUMNS]]

    def circuits(self, min_completions: int = 0) -> pd.DataFrame:
        frame = self._grouped("coalesce(nullif(h.CircuitCourt, ''), '(unknown)') AS circuit",
                              joins="LEFT JOIN hloc h ON h.HEARING_LOC_CODE = c.HEARING_LOC_CODE", group="1")
        return rank(add_rates(frame), min_completions, "circuit")[["circuit", *RATE_COLUMNS]]

    def regions(self, min_completions: int = 0) -> pd.DataFrame:
        frame = self._grouped("coalesce(nullif(b.strRegion, ''), '(unknown)') AS region",
                              joins="LEFT JOIN base_city b ON b.BASE_CITY_CODE = c.BASE_CITY_CODE", group="1")
        return rank(add_rates(frame), min_completions, "region")[["region", *RATE_COLUMNS]]

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


def monthly_completions_sql(source: str = "proceedings") -> str:
    """Completions (valid COMP_DATE) per court, hearing location, month, OTHER_COMP and CASE_TYPE.

    Every method of the proceeding unit filters and classifies on these columns only, so its
    counts for any window of whole months are sums over this table. Ordered by month, so that
    a window reads only its own row groups."""
    # Grouped on a month number, made a date only per group: a fifth cheaper at full scale than
    # grouping on date_trunc('month', ...) of every row.
    return f"""SELECT BASE_CITY_CODE, HEARING_LOC_CODE, make_date(month_number // 12, month_number % 12 + 1, 1) AS COMP_MONTH,
                      OTHER_COMP, CASE_TYPE, completions
               FROM (SELECT BASE_CITY_CODE, HEARING_LOC_CODE, year(COMP_DATE) * 12 + month(COMP_DATE) - 1 AS month_number,
                            OTHER_COMP, CASE_TYPE, count(*) AS completions
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
    """Highest rate first among rows with at least min_completions; smaller rows follow, by size."""
    frame = frame.assign(_small=frame["completions"] < min_completions,
                         _rate=frame["pd_rate"].fillna(-1))
    frame = frame.sort_values(["_small", "_rate", "completions", *tie_keys],
                              ascending=[True, False, False, *[True] * len(tie_keys)], kind="mergesort")
    return frame.drop(columns=["_small", "_rate"]).reset_index(drop=True)


def court_names(frame: pd.DataFrame) -> list[str]:
    """court_name() for each row of a frame with base_city_code, city, state and in_lookup."""
    return [court_name(code, city, state, known)
            for code, city, state, known in zip(frame.base_city_code, frame.city, frame.state, frame.in_lookup)]


def court_name(code, city, state, in_lookup: bool) -> str:
    """'Seattle, WA' from the lookup's BASE_CITY and BASE_STATE (BASE_CITY_NAME is generic)."""
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return "(no court code)"
    if not in_lookup or not isinstance(city, str) or not city:
        return f"(unknown code {code})"
    name = city.title()
    return f"{name}, {state}" if isinstance(state, str) and state else name


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




def sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
