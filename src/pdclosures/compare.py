"""Compare two releases for the same window and method: what changed, nationally, per court, and per proceeding.

EOIR's database changes between releases: records are removed, added, recoded, their dates and
courts corrected. `make compare OLD=... NEW=...` counts both releases exactly as a normal run counts
one (definition.py's window and method, over each release's cleaned Parquet cache) and lists the
proceedings that explain the difference. Everything is counted in DuckDB over the two caches; only
the small result tables reach pandas.

Outputs (written by `write_tables`, into the run's data/processed/<RUN>/):
- national_compare.csv: one row per release (`release` = old, new), then a `difference` row (new - old);
- courts_compare.csv: per court, both releases' counts and rates and their differences, the largest
  change first (absolute change in PD closures, then in completions);
- proceedings_diff.csv (`change,proceedings`): among the proceedings (IDNPROCEEDING) that are a
  counted completion in the window in either release (in_window_sql and counted_sql: the proceeding
  unit's conditions, whatever the run's unit), those only in the old release (`only_in_old`: absent
  from the new release altogether), only in the new (`only_in_new`), and, among those in both, whose
  PD status (is_pd_sql under the run's definition) changed, whose COMP_DATE changed, whose court
  (BASE_CITY_CODE) changed. A proceeding can count under several of the last three;
- changed_proceedings_sample.csv: up to `sample_size` proceedings of each kind, lowest ids first,
  with their old and new values.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import definition, ingest, params, pipeline, rates, release_format, run_record
from .definition import Method, Window
from .errors import ParameterError, UserError, run_command
from .ingest import IngestResult
from .release import open_release, sha256_file

CHANGES = ["only_in_old", "only_in_new", "pd_status_changed", "comp_date_changed", "court_changed"]
RELEASE_COLUMNS = ["release", "release_id", "release_name", "checksum_sha256"]
SAMPLE_VALUES = ["IDNCASE", "COMP_DATE", "OTHER_COMP", "BASE_CITY_CODE", "CASE_TYPE", "is_pd", "counted_in_window"]
SAMPLE_SIZE = 20
# The SYNTHETIC sample and the later release derived from it (later_release.py): `make compare`'s defaults.
SAMPLE_LATER_RELEASE = "data/sample/eoir_synthetic_sample_later.zip"
DEFAULTS = {
    "old": params.SAMPLE_RELEASE,
    "new": SAMPLE_LATER_RELEASE,
    **{key: value for key, value in params.DEFAULTS.items() if key != "release"},
}
RECORD = "compare.json"  # in the run's processed folder: both releases' ingest records


@dataclass
class Comparison:
    """The two cached releases, the window and the method, and every table of the comparison."""

    old: IngestResult
    new: IngestResult
    window: Window
    method: Method = Method()
    sample_size: int = SAMPLE_SIZE

    def __post_init__(self):
        self.con = duckdb.connect()
        self.con.execute("SET threads TO 2")
        for side, ingested in (("old", self.old), ("new", self.new)):
            path = rates.sql_path(ingested.proceedings_path)
            self.con.execute(f"CREATE VIEW {side}_p AS SELECT * FROM read_parquet('{path}')")
            base_city = rates.sql_path(ingested.lookup_path(release_format.BASE_CITY_TABLE))
            self.con.execute(f"CREATE VIEW {side}_b AS SELECT * FROM read_parquet('{base_city}')")
        # Both releases count under one resolved method (pd-dismissals: the new release's decoding), so a
        # proceeding's PD status changes only when its own values do.
        self.method = definition.resolve(self.method, rates.decision_lookup(self.new))
        self._diff_built = False

    # --- counts as a run counts them ------------------------------------------------------------

    def _court_counts(self, side: str) -> str:
        rows = definition.completions_sql(self.window, self.method, f"{side}_p")
        return f"""SELECT BASE_CITY_CODE, count(*) FILTER (WHERE is_pd)::BIGINT AS pd_closures,
                          count(*)::BIGINT AS completions
                   FROM ({rows}) GROUP BY BASE_CITY_CODE"""

    def national(self) -> pd.DataFrame:
        """national_compare.csv: the old and new rows, like national.csv with the release named, and
        the difference (new - old) of the counts and the rate."""
        rows = []
        for side, ingested in (("old", self.old), ("new", self.new)):
            counts = self.con.execute(f"""SELECT coalesce(sum(pd_closures), 0)::BIGINT AS pd_closures,
                                                 coalesce(sum(completions), 0)::BIGINT AS completions
                                          FROM ({self._court_counts(side)})""").df()
            counts = rates.national_row(counts, self.window)
            for position, column in enumerate(RELEASE_COLUMNS):
                counts.insert(position, column, side if column == "release" else ingested.manifest.get(column, ""))
            rows.append(counts)
        frame = pd.concat(rows, ignore_index=True)
        old, new = frame.iloc[0], frame.iloc[1]
        difference = {column: "" for column in RELEASE_COLUMNS}
        difference.update(
            release="difference",
            start=old["start"],
            end=old["end"],
            pd_closures=int(new["pd_closures"] - old["pd_closures"]),
            completions=int(new["completions"] - old["completions"]),
            pd_rate=new["pd_rate"] - old["pd_rate"],
            ci_low=np.nan,
            ci_high=np.nan,
        )
        frame = pd.concat([frame, pd.DataFrame([difference])], ignore_index=True)
        frame[["pd_closures", "completions"]] = frame[["pd_closures", "completions"]].astype("int64")
        return frame

    def courts(self) -> pd.DataFrame:
        """courts_compare.csv: per court (in either release's window), both releases' counts and rates
        and the changes; the largest absolute change in PD closures first, then in completions."""
        frame = self.con.execute(f"""
            WITH o AS ({self._court_counts("old")}), n AS ({self._court_counts("new")}),
                 lookup AS (SELECT BASE_CITY_CODE, any_value(BASE_CITY) AS city, any_value(BASE_STATE) AS state
                            FROM (SELECT * FROM new_b UNION ALL BY NAME SELECT * FROM old_b) GROUP BY ALL)
            SELECT coalesce(o.BASE_CITY_CODE, n.BASE_CITY_CODE) AS base_city_code,
                   any_value(l.city) AS city, any_value(l.state) AS state, count(l.BASE_CITY_CODE) > 0 AS in_lookup,
                   coalesce(any_value(o.pd_closures), 0)::BIGINT AS pd_closures_old,
                   coalesce(any_value(o.completions), 0)::BIGINT AS completions_old,
                   coalesce(any_value(n.pd_closures), 0)::BIGINT AS pd_closures_new,
                   coalesce(any_value(n.completions), 0)::BIGINT AS completions_new
            FROM o FULL OUTER JOIN n ON o.BASE_CITY_CODE IS NOT DISTINCT FROM n.BASE_CITY_CODE
                 LEFT JOIN lookup l ON l.BASE_CITY_CODE = coalesce(o.BASE_CITY_CODE, n.BASE_CITY_CODE)
            GROUP BY 1""").df()
        frame["court"] = rates.court_names(frame)
        for side in ("old", "new"):
            frame[f"pd_rate_{side}"] = rates.rate(frame[f"pd_closures_{side}"], frame[f"completions_{side}"])
        frame["pd_closures_change"] = frame["pd_closures_new"] - frame["pd_closures_old"]
        frame["completions_change"] = frame["completions_new"] - frame["completions_old"]
        frame["pd_rate_change"] = frame["pd_rate_new"] - frame["pd_rate_old"]
        frame = frame.assign(
            _pd=-frame["pd_closures_change"].abs(), _n=-frame["completions_change"].abs(), _code=frame["base_city_code"]
        ).sort_values(["_pd", "_n", "_code"], kind="mergesort", na_position="last")
        columns = ["base_city_code", "court", "state"]
        for side in ("old", "new"):
            columns += [f"pd_closures_{side}", f"completions_{side}", f"pd_rate_{side}"]
        columns += ["pd_closures_change", "completions_change", "pd_rate_change"]
        return frame[columns].reset_index(drop=True)

    # --- proceedings --------------------------------------------------------------------------

    def _build_diff(self) -> None:
        """A temp table `diff`: one row per IDNPROCEEDING counted in the window in either release,
        with both releases' values (NULL where the release lacks the proceeding) and the change flags."""
        if self._diff_built:
            return
        counted = " AND ".join([definition.in_window_sql(self.window), *definition.counted_sql(self.method)])
        is_pd = definition.is_pd_sql(self.method)
        columns = "IDNPROCEEDING, IDNCASE, COMP_DATE, OTHER_COMP, BASE_CITY_CODE, CASE_TYPE"
        self.con.execute(f"""CREATE TEMP TABLE ids AS
            SELECT IDNPROCEEDING FROM old_p WHERE {counted}
            UNION SELECT IDNPROCEEDING FROM new_p WHERE {counted}""")
        for side in ("old", "new"):
            # One row per id (a release that repeats an id: the row with the latest COMP_DATE).
            self.con.execute(f"""CREATE TEMP TABLE {side}_rows AS
                SELECT {columns}, {is_pd} AS is_pd, coalesce({counted}, false) AS counted_in_window
                FROM {side}_p SEMI JOIN ids USING (IDNPROCEEDING)
                QUALIFY row_number() OVER (PARTITION BY IDNPROCEEDING
                                           ORDER BY COMP_DATE DESC NULLS LAST, OTHER_COMP NULLS LAST) = 1""")
        values = ", ".join(f"o.{c} AS {c}_old, n.{c} AS {c}_new" for c in SAMPLE_VALUES)
        self.con.execute(f"""CREATE TEMP TABLE diff AS
            SELECT i.IDNPROCEEDING, o.IDNPROCEEDING IS NOT NULL AS in_old, n.IDNPROCEEDING IS NOT NULL AS in_new,
                   {values}
            FROM ids i LEFT JOIN old_rows o USING (IDNPROCEEDING) LEFT JOIN new_rows n USING (IDNPROCEEDING)""")
        self._diff_built = True

    @staticmethod
    def _condition(change: str) -> str:
        both = "in_old AND in_new AND "
        return {
            "only_in_old": "in_old AND NOT in_new",
            "only_in_new": "in_new AND NOT in_old",
            "pd_status_changed": both + "is_pd_old IS DISTINCT FROM is_pd_new",
            "comp_date_changed": both + "COMP_DATE_old IS DISTINCT FROM COMP_DATE_new",
            "court_changed": both + "BASE_CITY_CODE_old IS DISTINCT FROM BASE_CITY_CODE_new",
        }[change]

    def proceedings_diff(self) -> pd.DataFrame:
        """proceedings_diff.csv: change, proceedings."""
        self._build_diff()
        counts = ", ".join(f"count(*) FILTER (WHERE {self._condition(c)})::BIGINT AS {c}" for c in CHANGES)
        row = self.con.execute(f"SELECT {counts} FROM diff").fetchone()
        return pd.DataFrame({"change": CHANGES, "proceedings": [int(v) for v in row]})

    def changed_sample(self) -> pd.DataFrame:
        """Up to sample_size proceedings of each kind of change (lowest ids first), old and new values."""
        self._build_diff()
        columns = ["IDNPROCEEDING"] + [f"{c}_{side}" for c in SAMPLE_VALUES for side in ("old", "new")]
        parts = [
            f"""(SELECT '{change}' AS change, {", ".join(columns)} FROM diff WHERE {self._condition(change)}
                 ORDER BY IDNPROCEEDING LIMIT {int(self.sample_size)})"""
            for change in CHANGES
        ]
        frame = self.con.execute(" UNION ALL ".join(parts)).df()
        frame["_order"] = frame["change"].map(CHANGES.index)
        frame = frame.sort_values(["_order", "IDNPROCEEDING"], kind="mergesort").drop(columns="_order")
        for column in ("COMP_DATE_old", "COMP_DATE_new"):
            frame[column] = pd.to_datetime(frame[column]).dt.strftime("%Y-%m-%d").fillna("")
        return frame.rename(columns={"IDNPROCEEDING": "idnproceeding"}).reset_index(drop=True)

    def window_flow(self) -> pd.DataFrame:
        """Where the change in completions comes from: proceedings counted in the window in the old
        release only (left) or in the new only (entered), by the first reason that applies."""
        self._build_diff()
        reason = """CASE WHEN NOT in_old THEN 'added to the release'
                         WHEN NOT in_new THEN 'removed from the release'
                         WHEN COMP_DATE_old IS DISTINCT FROM COMP_DATE_new THEN 'completion date changed'
                         WHEN OTHER_COMP_old IS DISTINCT FROM OTHER_COMP_new THEN 'OTHER_COMP recoded'
                         WHEN BASE_CITY_CODE_old IS DISTINCT FROM BASE_CITY_CODE_new THEN 'court changed'
                         WHEN CASE_TYPE_old IS DISTINCT FROM CASE_TYPE_new THEN 'case type changed'
                         ELSE 'other' END"""
        frame = self.con.execute(f"""
            SELECT {reason} AS reason,
                   count(*) FILTER (WHERE coalesce(counted_in_window_new, false)
                                    AND NOT coalesce(counted_in_window_old, false))::BIGINT AS entered_window,
                   count(*) FILTER (WHERE coalesce(counted_in_window_old, false)
                                    AND NOT coalesce(counted_in_window_new, false))::BIGINT AS left_window
            FROM diff GROUP BY 1 HAVING entered_window + left_window > 0 ORDER BY 1""").df()
        frame["net_change"] = frame["entered_window"] - frame["left_window"]
        return frame

    def all_tables(self) -> dict[str, pd.DataFrame]:
        return {
            "national_compare": self.national(),
            "courts_compare": self.courts(),
            "proceedings_diff": self.proceedings_diff(),
            "changed_proceedings_sample": self.changed_sample(),
            "window_flow": self.window_flow(),
        }

    def close(self) -> None:
        self.con.close()


def write_tables(tables: dict[str, pd.DataFrame], out_dir) -> list[Path]:
    return rates.write_tables(tables, out_dir)


# --------------------------------------------------------------------------------------------
# Parameters and inputs, checked before any work


def resolve(preset=None, **overrides) -> dict:
    """The comparison's parameters: DEFAULTS, then a preset's method and window (params/*.yaml; its
    release and run are not used), then the given values (None or empty: the default), checked as a
    run's are (params.resolve). `run` stays empty unless given: see default_run_name."""
    from_preset = {k: v for k, v in params.load_preset(preset).items() if k not in ("release", "run")} if preset else {}
    values = {**DEFAULTS, **from_preset, **{k: v for k, v in overrides.items() if v is not None and v != ""}}
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        raise ParameterError(f"unknown parameter {', '.join(unknown)} (known: {', '.join(DEFAULTS)})")
    checked = params.resolve(
        None, **{k: v for k, v in values.items() if k not in ("old", "new", "run")}, run=values["run"] or "compare"
    )
    checked.pop("release")
    return {"old": params.as_text(values["old"]), "new": params.as_text(values["new"]), **checked, "run": values["run"]}


def check_releases(old: Path, new: Path, courts: tuple[str, ...] | None = None) -> None:
    """Before any work: both releases readable (ingest.preflight, one line naming the file), and not
    the same release twice (the same path, or files with the same bytes)."""
    for name, path in (("OLD", old), ("NEW", new)):
        try:
            ingest.preflight(path, courts)
        except UserError as error:
            raise type(error)(f"{name}={str(error).replace('RELEASE=path', f'{name}=path')}") from None
    reason = _same_release(Path(old), Path(new))
    if reason:
        raise UserError(f"OLD and NEW are the same release ({reason}): nothing to compare")


def _same_release(old: Path, new: Path) -> str | None:
    if old.resolve() == new.resolve():
        return f"both {old}"
    a, b = open_release(old), open_release(new)
    try:
        if a.is_zip and b.is_zip:
            if old.stat().st_size == new.stat().st_size and sha256_file(old) == sha256_file(new):
                return "the two zip files have the same SHA-256"
        elif not a.is_zip and not b.is_zip:
            sizes = [[r.table_size(t) for t in release_format.TABLES] for r in (a, b)]
            if sizes[0] == sizes[1] and a.checksum() == b.checksum():
                return "the two folders' tables have the same SHA-256"
    finally:
        a.close()
        b.close()
    return None


def release_id(path: Path) -> str:
    release = open_release(path)
    try:
        return release.release_id(release.tables_to_read())
    finally:
        release.close()


def default_run_name(old: Path, new: Path) -> str:
    """<old release id>_vs_<new release id> (the ids of the caches), shortened to a valid run name."""
    ids = [release_id(old), release_id(new)]
    name = "_vs_".join(ids)
    if len(name) > 80:  # params' limit: shorten the names, keep the digests that tell releases apart
        parts = [re.match(r"(.*)-([0-9a-f]{12})$", i) for i in ids]
        keep = (80 - 4 - 2 * 13) // 2
        name = "_vs_".join(f"{m.group(1)[:keep].rstrip('-')}-{m.group(2)}" if m else i[:38] for m, i in zip(parts, ids))
    return name


def open_pair(old, new, interim_dir) -> tuple[IngestResult, IngestResult]:
    """Both releases' caches, built first where missing (a path as a run's: params.Run)."""
    return tuple(
        ingest.ingest_release(params.Run.from_parameters(release=str(path)).release, interim_dir, progress=False)
        for path in (old, new)
    )


def write_record(old: IngestResult, new: IngestResult, processed_dir) -> Path:
    """compare.json: both releases' ingest records (with their cache folders), for the runner."""
    record = {
        side: {**ingested.manifest, "cache_dir": str(ingested.cache_dir)}
        for side, ingested in (("old", old), ("new", new))
    }
    path = Path(processed_dir) / RECORD
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path


def load_record(processed_dir) -> dict[str, IngestResult]:
    record = json.loads((Path(processed_dir) / RECORD).read_text())
    return {side: IngestResult(Path(facts.pop("cache_dir")), facts) for side, facts in record.items()}


def pair_label(old: IngestResult, new: IngestResult) -> str:
    return f"{old.release_label} (old) and {new.release_label} (new)"


def courts_for_reading(courts: pd.DataFrame) -> pd.DataFrame:
    """courts_compare as a publication prints it: rates in percent, changes signed, the rate's change
    in percentage points."""

    def signed(n) -> str:
        return f"{int(n):+,}" if n else "0"

    out = pd.DataFrame({"Court": courts["court"], "Code": courts["base_city_code"]})
    for side in ("old", "new"):
        out[f"PD closures ({side})"] = [f"{int(n):,}" for n in courts[f"pd_closures_{side}"]]
        out[f"Completions ({side})"] = [f"{int(n):,}" for n in courts[f"completions_{side}"]]
        out[f"PD rate ({side})"] = [rates.percent(r) for r in courts[f"pd_rate_{side}"]]
    out["Change in PD closures"] = [signed(n) for n in courts["pd_closures_change"]]
    out["Change in completions"] = [signed(n) for n in courts["completions_change"]]
    out["Change in PD rate"] = [
        rates.MISSING if pd.isna(r) else f"{100 * r:+.1f} pts" for r in courts["pd_rate_change"]
    ]
    return out


# --- make compare: the notebook run like any run (staged, published at once, run.json) --------

COMPARE_NOTEBOOK = "compare_releases.ipynb"


def run_compare(values: dict, paths: pipeline.Paths | None = None, *, log=print) -> Path:
    """`make compare`: notebooks/compare_releases.ipynb for resolved parameters (resolve),
    staged and published like a run; returns data/processed/<RUN>/."""
    paths = paths or pipeline.Paths()
    old, new = (params.project_path(values[side], paths.root) for side in ("old", "new"))
    check_releases(old, new, params.parse_courts(values["courts"]))  # before any folder is touched
    values = {**values, "run": values["run"] or default_run_name(old, new)}
    name = values["run"]
    notebook = paths.notebooks / COMPARE_NOTEBOOK
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with pipeline.staged_outputs(paths, name) as (staging, finals):
        available = {
            **values,
            "old": str(old),
            "new": str(new),
            "interim_dir": str(paths.interim),
            "processed_dir": str(staging["processed"]),
            "figures_dir": str(staging["figures"]),
        }
        log(f"[{name}] {notebook.stem} ...")
        pipeline.execute(notebook, staging["reports"] / notebook.name, available, paths, name)
        timings[notebook.stem] = round(time.perf_counter() - started, 2)
        began = time.perf_counter()
        pair = load_record(staging["processed"])
        label = pair_label(pair["old"], pair["new"])
        synthetic = pair["old"].synthetic or pair["new"].synthetic
        combined = ingest.IngestResult(
            pair["new"].cache_dir,
            {"release_name": label, "synthetic": synthetic, "data_through": pair["new"].manifest.get("data_through")},
        )
        pipeline.write_reports(staging["reports"], values, combined)
        timings["report"] = round(time.perf_counter() - began, 2)
        timings["total"] = round(time.perf_counter() - started, 2)
        record = {
            "parameters": {key: values[key] for key in sorted(values)},
            "releases": {side: run_record.release_facts(pair[side].manifest) for side in ("old", "new")},
            "release_paths": {"old": str(old), "new": str(new)},
            "synthetic_sample": synthetic,
            **run_record.provenance(),
        }
        run_record.write_record(staging["processed"], record, timings, synthetic)
    log(
        f"[{name}] done in {timings['total']:.1f} s: {pipeline.shown(finals['processed'], paths)}/, "
        f"{pipeline.shown(finals['figures'], paths)}/, {pipeline.shown(finals['reports'], paths)}/report.html"
    )
    return finals["processed"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pdclosures.compare",
        description="Compare two releases for the same window and method (make compare).",
    )
    parser.add_argument("--params", help="preset YAML for the window and method, e.g. params/trac-2014.yaml")
    for name in DEFAULTS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"default: {DEFAULTS[name]!r}")
    args = parser.parse_args(argv)
    overrides = {name: getattr(args, name) for name in DEFAULTS}
    return run_command(
        lambda: run_compare(resolve(args.params, **overrides)),
        interrupted="interrupted: previous outputs left as they were",
    )


if __name__ == "__main__":
    raise SystemExit(main())
