"""SQL on the cleaned release: data/interim/<release-id>/eoir.duckdb, built with the cache.

The database holds views only, over the cache's Parquet files, so building it costs a fraction of a
second and no copy of the data:
- `proceedings`: every cached column of B_TblProceeding (loaded lines only, exactly as many rows),
  plus labels decoded from the lookups: court, hearing_location, nationality, custody_status,
  language, case_type_name, decision (DEC_CODE, through the tblLookupCourtDecision rows with
  strDecType C of the proceeding's own CASE_TYPE) and other_completion (OTHER_COMP, through its
  strDecType O rows). A label is null where the lookup has no row for the code (or the release has
  no such lookup); court and hearing_location name those cases, as the rate tables do.
- one view per lookup (LOOKUP_VIEWS): base_cities, hearing_locations, decisions, case_types,
  nationalities, custody_statuses, languages (an optional lookup the release lacks is an empty view
  with its published columns).

The views name their files relative to the database's folder, so the cache folder can be moved or
the project cloned elsewhere: connect() points DuckDB's file_search_path at the folder. Opened by
hand, run DuckDB from that folder (`cd data/interim/<release-id> && duckdb -readonly eoir.duckdb`) or
`SET file_search_path = '<folder>'` first.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from . import release_format
from .errors import ReleaseError

DATABASE_FILE = "eoir.duckdb"
LOOKUP_VIEWS = {
    release_format.BASE_CITY_TABLE: "base_cities",
    release_format.HLOC_TABLE: "hearing_locations",
    release_format.DECISION_TABLE: "decisions",
    release_format.CASE_TYPE_TABLE: "case_types",
    release_format.NATIONALITY_TABLE: "nationalities",
    release_format.CUSTODY_TABLE: "custody_statuses",
    release_format.LANGUAGE_TABLE: "languages",
}

# Python's str.title() in SQL, as rates.court_names writes a court ('SEATTLE' -> 'Seattle'): each
# run of letters capitalised, everything else kept.
_TITLE_CASE = (
    "list_aggr(list_transform(regexp_extract_all(lower({0}), '\\pL+|[^\\pL]+'), "
    "lambda w: upper(w[1]) || w[2:]), 'string_agg', '')"
)

# The labels, as the rate tables name them (rates.court_names, rates.hearing_location_names; a
# hearing location is its code's row for the proceeding's own court, else the code's only row:
# rates.HLOC_JOIN).
_PROCEEDINGS_VIEW = f"""
CREATE VIEW proceedings AS
WITH hloc AS (
    SELECT HEARING_LOC_CODE, HEARING_BASE_CITY, HEARING_LOC_NAME,
           count(*) OVER (PARTITION BY HEARING_LOC_CODE) AS rows_for_code
    FROM hearing_locations),
hloc_codes AS (SELECT DISTINCT HEARING_LOC_CODE FROM hearing_locations)
SELECT p.*,
       CASE WHEN p.BASE_CITY_CODE IS NULL THEN '(no court code)'
            WHEN b.BASE_CITY_CODE IS NULL THEN '(unknown code ' || p.BASE_CITY_CODE || ')'
            WHEN coalesce(b.BASE_CITY, '') = '' THEN '(code ' || p.BASE_CITY_CODE || ', no city in lookup)'
            ELSE {_TITLE_CASE.format("b.BASE_CITY")}
                 || CASE WHEN coalesce(b.BASE_STATE, '') = '' THEN '' ELSE ', ' || b.BASE_STATE END
       END AS court,
       CASE WHEN p.HEARING_LOC_CODE IS NULL THEN '(no hearing location code)'
            WHEN h.HEARING_LOC_CODE IS NOT NULL AND coalesce(h.HEARING_LOC_NAME, '') <> '' THEN h.HEARING_LOC_NAME
            WHEN h.HEARING_LOC_CODE IS NOT NULL THEN '(code ' || p.HEARING_LOC_CODE || ', no name in lookup)'
            WHEN k.HEARING_LOC_CODE IS NOT NULL THEN '(code ' || p.HEARING_LOC_CODE || ', not listed for this court)'
            ELSE '(unknown code ' || p.HEARING_LOC_CODE || ')'
       END AS hearing_location,
       n.NAT_NAME AS nationality,
       s.strDescription AS custody_status,
       l.strDescription AS language,
       t.strDescription AS case_type_name,
       dc.strDecDescription AS decision,
       oc.strDecDescription AS other_completion
FROM read_parquet('{{proceedings_file}}') AS p
LEFT JOIN base_cities AS b ON b.BASE_CITY_CODE = p.BASE_CITY_CODE
LEFT JOIN hloc AS h ON h.HEARING_LOC_CODE = p.HEARING_LOC_CODE
    AND (h.HEARING_BASE_CITY = p.BASE_CITY_CODE OR h.rows_for_code = 1)
LEFT JOIN hloc_codes AS k ON k.HEARING_LOC_CODE = p.HEARING_LOC_CODE
LEFT JOIN nationalities AS n ON n.NAT_CODE = p.NAT
LEFT JOIN custody_statuses AS s ON s.strCode = p.CUSTODY
LEFT JOIN languages AS l ON l.strCode = p.LANG
LEFT JOIN case_types AS t ON t.strCode = p.CASE_TYPE
LEFT JOIN decisions AS dc ON dc.strDecType = 'C' AND dc.strCaseType = p.CASE_TYPE AND dc.strDecCode = p.DEC_CODE
LEFT JOIN decisions AS oc ON oc.strDecType = 'O' AND oc.strCaseType = p.CASE_TYPE AND oc.strDecCode = p.OTHER_COMP
"""


def build(cache_dir, proceedings_file: str, lookup_files: dict[str, str]) -> Path:
    """Write eoir.duckdb into a cache folder, over the Parquet files already there: the proceedings,
    and each lookup's file (lookup_files: table -> file name; a missing file, an absent lookup)."""
    cache_dir = Path(cache_dir)
    path = cache_dir / DATABASE_FILE
    staging = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    staging.unlink(missing_ok=True)
    con = duckdb.connect(str(staging))
    try:
        con.execute(f"SET file_search_path = '{_sql_text(cache_dir.resolve())}'")
        for table, view in LOOKUP_VIEWS.items():
            filename = lookup_files[table]
            if (cache_dir / filename).exists():
                con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet('{filename}')")
            else:  # an optional lookup the release lacks: its columns, no rows
                columns = ", ".join(f'NULL::VARCHAR AS "{c}"' for c in release_format.LOOKUP_COLUMNS[table])
                con.execute(f"CREATE VIEW {view} AS SELECT {columns} WHERE false")
        con.execute(_PROCEEDINGS_VIEW.replace("{proceedings_file}", proceedings_file))
        con.close()
        os.replace(staging, path)
    finally:
        con.close()
        staging.unlink(missing_ok=True)
    return path


def connect(ingest_or_path) -> duckdb.DuckDBPyConnection:
    """The cleaned release's database, read-only: an IngestResult, its cache folder, or the file."""
    path = Path(getattr(ingest_or_path, "cache_dir", ingest_or_path))
    if path.is_dir():
        path = path / DATABASE_FILE
    if not path.is_file():
        raise ReleaseError(f"{path}: no database; run notebook 01_ingest (make all) to build the cache")
    con = duckdb.connect(str(path), read_only=True)
    con.execute(f"SET file_search_path = '{_sql_text(path.parent.resolve())}'")
    return con


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")
