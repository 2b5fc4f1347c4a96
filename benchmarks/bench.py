"""Full-scale benchmark: the pipeline against a bare DuckDB pass, with pandas baselines.

    python benchmarks/bench.py --release data/bench            # after `make bench-data`
    python benchmarks/bench.py --release small_release --smoke  # what CI runs, on a small release

Each variant runs in its own process; wall time and peak RSS (os.wait4: the largest of the
process and of the processes it started and waited for, such as notebook kernels) are recorded.
The variants run in rounds (--repeat, default 3; pandas with all columns, at almost three minutes
a run, once), interleaved so that a slow spell of the machine hits all of them; the results show
the median of each variant's runs, and every run's time. Every variant must give the same
national and per-court counts for the window: the pipeline's own counts are compared with the
baselines on the lines a plain reader can read (the pipeline's repaired lines left out), and with
the generator's planted truth when present. The baselines read latin-1, as the release requires;
where the table is plain ASCII, pandas with usecols and the DuckDB pass also run reading UTF-8,
for reference. The pandas baselines are reported without goals. results.md and results.json
describe the latest run only.

(g) times `make compare` between the release and a later synthetic one derived from it
(pdclosures.later_release, written once beside it as <release>-later/), both caches built, and checks
the differences it finds against the changes planted in the later release.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW = ("2012-10-01", "2014-03-31")  # (a), (d), (e): TRAC's April 2014 window
OTHER_WINDOW = ("2011-10-01", "2013-12-31")  # (b): report 339's window, from the cache
DAYS_WINDOW = ("2011-10-15", "2013-12-14")  # (b'): not whole months, so counted by a scan
CHAIN_WINDOW = ("2012-10-01", "2013-09-30")  # (c): FY2013, the whole notebook chain
PD_CODES = ("Y", "M", "I")  # the default method, which (d) and (e) spell out
EXCLUDED = ("C", "T")
# The goals of issue 18, checked on the medians.
GOAL_A_VS_E = 1.5  # (a) at most this many times (e)
GOAL_B_SECONDS = 1.0  # (b) and (b′): the rates, once the process has its imports
GOAL_C_SECONDS = 30.0  # (c)
GOAL_F_SECONDS = 60.0  # (f)
GOAL_RSS_MB = 1536  # every pipeline variant: (a), (b), (b′), (c), (f)
PIPELINE_VARIANTS = ("a", "b", "b_days", "c", "f")
# The goals of issue 22: `make compare` of two full-scale releases, caches built.
GOAL_G_SECONDS = 30.0
GOAL_G_RSS_MB = 2048


# --------------------------------------------------------------------------------------------
# Steps: each runs in a child process and prints one JSON line


def step_pipeline_cold(release: str, interim: str) -> dict:
    """(a) the project's first run: ingest (cold cache) plus every rates table for one window."""
    from pdclosures import ingest, params, rates

    run = params.Run.from_parameters(release=release, start=WINDOW[0], end=WINDOW[1], interim_dir=interim)
    ingested = ingest.ingest_release(run.release, run.interim_dir, force=True, progress=False)
    tables = rates.RateCalculator(ingested, run.window, run.method).all_tables(run.min_completions)
    return {
        "national": _pair(tables["national"].iloc[0]),
        "courts": {r.base_city_code: _pair(r) for r in tables["courts"].itertuples()},
        "accounting": ingested.manifest["accounting"][0],
    }


def step_pipeline_counts(release: str, interim: str) -> dict:
    """Not timed: the counts of (a)'s cache without its repaired lines, to compare with (d) and (e)."""
    import duckdb

    from pdclosures import ingest

    ingested = ingest.ingest_release(release, interim, progress=False)
    sql = f"""SELECT BASE_CITY_CODE, count(*) FILTER (WHERE OTHER_COMP IN {PD_CODES}) pd, count(*) n
              FROM read_parquet('{ingested.proceedings_path}')
              WHERE NOT REPAIRED AND COMP_DATE BETWEEN DATE '{WINDOW[0]}' AND DATE '{WINDOW[1]}'
                AND (OTHER_COMP IS NULL OR OTHER_COMP NOT IN {EXCLUDED}) GROUP BY 1"""
    return {"without_repaired": _from_rows(duckdb.sql(sql).fetchall())}


def step_pipeline_warm(release: str, interim: str, window=OTHER_WINDOW) -> dict:
    """(b) every rates table for another window, from the cache."""
    started = time.perf_counter()
    from pdclosures import ingest, params, rates

    imported = time.perf_counter()
    run = params.Run.from_parameters(release=release, start=window[0], end=window[1], interim_dir=interim)
    ingested = ingest.ingest_release(run.release, run.interim_dir, progress=False)
    tables = rates.RateCalculator(ingested, run.window, run.method).all_tables(run.min_completions)
    with tempfile.TemporaryDirectory() as out:
        rates.write_tables(tables, out)
    done = time.perf_counter()
    return {
        "import_seconds": round(imported - started, 3),
        "rates_seconds": round(done - imported, 3),
        "national": _pair(tables["national"].iloc[0]),
    }


def step_pandas(release: str, usecols: bool, encoding: str = "latin-1") -> dict:
    """(d) what a typical notebook does: read_csv the whole table, clean codes, group."""
    import pandas as pd

    path = _table_path(release)
    columns = ["BASE_CITY_CODE", "OTHER_COMP", "COMP_DATE"]
    frame = pd.read_csv(
        path,
        sep="\t",
        encoding=encoding,
        quoting=csv.QUOTE_NONE,
        dtype=str,
        keep_default_na=False,
        on_bad_lines="skip",
        usecols=columns if usecols else None,
    )
    for column in ["BASE_CITY_CODE", "OTHER_COMP"]:
        frame[column] = frame[column].str.replace("\x00", "", regex=False).str.strip()
    comp = pd.to_datetime(frame["COMP_DATE"].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    valid = comp.dt.year > 1900
    in_window = valid & (comp >= WINDOW[0]) & (comp <= WINDOW[1]) & ~frame["OTHER_COMP"].isin(EXCLUDED)
    done = frame.loc[in_window]
    grouped = done.assign(pd_=done["OTHER_COMP"].isin(PD_CODES)).groupby("BASE_CITY_CODE")["pd_"].agg(["sum", "count"])
    return {"without_repaired": _from_rows([(code, int(r["sum"]), int(r["count"])) for code, r in grouped.iterrows()])}


def step_duckdb_bare(release: str, encoding: str = "latin-1") -> dict:
    """(e) the floor: one DuckDB pass over the TSV computing the same counts, reading (and cleaning
    as the cache does: codes trimmed of NUL bytes and spaces, dates parsed, ids as integers) every
    column the cache keeps, so that it parses what the ingest parses."""
    import duckdb

    from pdclosures import release_format

    path = str(_table_path(release)).replace("'", "''")
    ids = release_format.PROCEEDING_ID_COLUMNS
    dates = release_format.PROCEEDING_DATE_COLUMNS
    codes = release_format.PROCEEDING_CODE_COLUMNS
    cleaned = [f"try_cast({c} AS BIGINT) AS {c}" for c in ids]
    cleaned += [f"try_strptime(left({c}, 10), '%Y-%m-%d')::DATE AS {c}" for c in dates]
    cleaned += [f"nullif(trim(replace({c}, chr(0), '')), '') AS {c}" for c in codes]
    # Every kept column counted over all rows, so DuckDB cannot skip reading any of them.
    read_all = ", ".join(f"count({c})" for c in ids + dates + codes)
    sql = f"""
        WITH t AS (
          SELECT {", ".join(cleaned)}
          FROM read_csv('{path}', delim='\t', quote='', escape='', header=true, all_varchar=true,
                        encoding='{encoding}', ignore_errors=true, comment=''))
        SELECT BASE_CITY_CODE,
               count(*) FILTER (WHERE in_window AND OTHER_COMP IN {PD_CODES}),
               count(*) FILTER (WHERE in_window), {read_all}
        FROM (SELECT *, COMP_DATE BETWEEN DATE '{WINDOW[0]}' AND DATE '{WINDOW[1]}' AND year(COMP_DATE) > 1900
                        AND (OTHER_COMP IS NULL OR OTHER_COMP NOT IN {EXCLUDED}) AS in_window FROM t)
        GROUP BY 1"""
    rows = [row[:3] for row in duckdb.sql(sql).fetchall() if row[2]]  # courts with completions in the window
    return {"without_repaired": _from_rows(rows)}


def _table_is_ascii(release: Path) -> bool:
    """Whether B_TblProceeding is plain ASCII, so that reading it as UTF-8 gives the same text."""
    with open(_table_path(str(release)), "rb") as table:
        return all(block.isascii() for block in iter(lambda: table.read(16 << 20), b""))


def _table_path(release: str) -> Path:
    matches = [p for p in Path(release).rglob("*") if p.name.lower() == "b_tblproceeding.csv"]
    if len(matches) != 1:
        sys.exit(f"error: {release}: expected one unpacked B_TblProceeding.csv (the benchmark reads a folder)")
    return matches[0]


def _pair(row) -> list[int]:
    """[pd_closures, completions] of a DataFrame row (Series or itertuples record)."""
    return [int(row.pd_closures), int(row.completions)]


def _from_rows(rows) -> dict:
    courts = {str(code): [int(pd), int(n)] for code, pd, n in rows}
    return {"national": [sum(v[0] for v in courts.values()), sum(v[1] for v in courts.values())], "courts": courts}


# --------------------------------------------------------------------------------------------
# The driver


def measure(args: list[str], env: dict | None = None) -> dict:
    """Run a child process; its wall time, peak RSS and the JSON it printed last."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    stdout, stderr = child.stdout.read(), child.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"error: {' '.join(args[:6])} failed:\n{stderr[-2000:]}")
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    return {**result, "wall_seconds": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def run_step(name: str, release: str, interim: str) -> dict:
    return measure([sys.executable, __file__, "step", name, "--release", release, "--interim", interim])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    step = sub.add_parser("step")
    step.add_argument("name")
    step.add_argument("--release", required=True)
    step.add_argument("--interim", required=True)
    parser.add_argument("--release", default=str(ROOT / "data" / "bench"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.md"))
    parser.add_argument("--smoke", action="store_true", help="small release: check counts, skip the goals")
    parser.add_argument(
        "--repeat", type=int, default=None, help="rounds of the timed variants (default 3; 1 with --smoke)"
    )
    parser.add_argument(
        "--ingest-only",
        action="store_true",
        help="only (e) and (a), the cold-ingest goal: print the ratio and peak memory (results.md untouched)",
    )
    args = parser.parse_args(argv)
    if args.command == "step":
        steps = {
            "cold": lambda: step_pipeline_cold(args.release, args.interim),
            "cold_counts": lambda: step_pipeline_counts(args.release, args.interim),
            "warm": lambda: step_pipeline_warm(args.release, args.interim),
            "warm_days": lambda: step_pipeline_warm(args.release, args.interim, DAYS_WINDOW),
            "pandas_all": lambda: step_pandas(args.release, usecols=False),
            "pandas_usecols": lambda: step_pandas(args.release, usecols=True),
            "duckdb_bare": lambda: step_duckdb_bare(args.release),
            "pandas_usecols_utf8": lambda: step_pandas(args.release, usecols=True, encoding="utf-8"),
            "duckdb_bare_utf8": lambda: step_duckdb_bare(args.release, encoding="utf-8"),
        }
        print(json.dumps(steps[args.name]()))
        return 0
    repeat = args.repeat or (1 if args.smoke or args.ingest_only else 3)
    if repeat < 1:
        parser.error("--repeat: must be 1 or more")
    if args.ingest_only:
        return drive_ingest_only(Path(args.release).resolve(), repeat)
    return drive(Path(args.release).resolve(), Path(args.out), smoke=args.smoke, repeat=repeat)


# Counts and other results every run of a variant must repeat exactly.
_STABLE_KEYS = ("national", "courts", "accounting", "without_repaired", "proceedings_diff", "national_difference")


def drive(release: Path, out: Path, smoke: bool, repeat: int = 3) -> int:
    if not release.exists():
        sys.exit(f"error: {release}: no benchmark release; run `make bench-data` first")
    # The release's tables are latin-1, so the baselines read latin-1. The same baselines reading
    # UTF-8 run alongside, for reference only, where the table is ASCII (as the generator writes it)
    # and UTF-8 therefore reads the same text.
    references = (
        [("d_usecols_utf8", "pandas_usecols_utf8"), ("e_utf8", "duckdb_bare_utf8")] if _table_is_ascii(release) else []
    )
    scratch = Path(tempfile.mkdtemp(prefix="pdclosures-bench-"))
    interim = scratch / "data" / "interim"  # where the chain in (c) looks for the cache
    runs: dict[str, list[dict]] = {}
    from pdclosures import params  # here, not at the top: each step's process imports only what it times

    sample = ROOT / params.SAMPLE_RELEASE
    later = later_release_for(release)
    try:
        for round_number in range(repeat):
            print(f"round {round_number + 1} of {repeat}", file=sys.stderr, flush=True)
            for key, step in [("e", "duckdb_bare"), ("a", "cold"), ("b", "warm"), ("b_days", "warm_days")]:
                runs.setdefault(key, []).append(run_step(step, str(release), str(interim)))
            if round_number == 0:
                counts = run_step("cold_counts", str(release), str(interim))
                runs["a"][0]["without_repaired"] = counts["without_repaired"]
            runs.setdefault("c", []).append(measure_chain(release, scratch, CHAIN_WINDOW, "bench-chain"))
            # (f) the chain on the sample in a project of its own: its first run, so its cache is built too.
            runs.setdefault("f", []).append(measure_chain(sample, scratch / f"sample-{round_number}", None, "default"))
            if round_number == 0:  # (g) compares with the cache of (a) and one of the later release, built here
                measure([sys.executable, "-c", _ingest_code(later, interim)])
            runs.setdefault("g", []).append(measure_compare(release, later, scratch))
            runs.setdefault("d_usecols", []).append(run_step("pandas_usecols", str(release), str(interim)))
            for key, step in references:
                runs.setdefault(key, []).append(run_step(step, str(release), str(interim)))
        runs["d_all"] = [run_step("pandas_all", str(release), str(interim))]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results = {key: summarize(variant_runs) for key, variant_runs in runs.items()}
    problems = [
        f"({key}) runs disagree on {name}"
        for key, variant_runs in runs.items()
        for name in _STABLE_KEYS
        if len({json.dumps(r.get(name), sort_keys=True) for r in variant_runs if name in r}) > 1
    ]
    problems += check_counts(results, release, later)
    goals = check_goals(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    table_bytes = _table_path(str(release)).stat().st_size
    latest = latest_run(results, goals, problems, release, smoke, table_bytes)
    out.with_suffix(".json").write_text(json.dumps(latest, indent=1) + "\n")
    report = render(results, goals, release, problems, smoke, table_bytes)
    out.write_text(report)
    print(report)
    return 1 if problems else 0


def drive_ingest_only(release: Path, repeat: int) -> int:
    """(e) and (a) only, interleaved: the cold-ingest goal and (a)'s peak memory, with the counts of
    the two checked against each other and against the planted truth. Prints; writes nothing."""
    if not release.exists():
        sys.exit(f"error: {release}: no benchmark release; run `make bench-data` first")
    scratch = Path(tempfile.mkdtemp(prefix="pdclosures-bench-"))
    interim = scratch / "data" / "interim"
    runs: dict[str, list[dict]] = {}
    try:
        for round_number in range(repeat):
            print(f"round {round_number + 1} of {repeat}", file=sys.stderr, flush=True)
            for key, step in [("e", "duckdb_bare"), ("a", "cold")]:
                runs.setdefault(key, []).append(run_step(step, str(release), str(interim)))
        runs["a"][0]["without_repaired"] = run_step("cold_counts", str(release), str(interim))["without_repaired"]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results = {key: summarize(variant_runs) for key, variant_runs in runs.items()}
    a, e = results["a"], results["e"]
    problems = check_counts(results, release, release.with_name(release.name + "-later"))
    ratio = a["wall_seconds"] / e["wall_seconds"]
    print(
        f"(e) bare DuckDB pass reading the cached columns: {e['wall_seconds']:.1f} s "
        f"(runs {e['wall_runs']}), {e['peak_rss_mb']:.0f} MB\n"
        f"(a) cold ingest plus rates: {a['wall_seconds']:.1f} s (runs {a['wall_runs']}), {a['peak_rss_mb']:.0f} MB\n"
        f"(a)/(e) = {_ratio(ratio, at_least=False)} "
        f"(goal ≤ {GOAL_A_VS_E}×: {'met' if ratio <= GOAL_A_VS_E else 'NOT met'}); "
        f"peak ≤ {GOAL_RSS_MB / 1024:g} GB: {'met' if a['peak_rss_mb'] <= GOAL_RSS_MB else 'NOT met'}\n"
        + (
            "\n".join(f"- {p}" for p in problems)
            if problems
            else "counts: (a) and (e) agree, and equal the planted truth"
        )
    )
    return 1 if problems else 0


def summarize(variant_runs: list[dict]) -> dict:
    """One variant's runs as one result: median times, the largest peak RSS, every run's wall time."""
    first = variant_runs[0]
    summary = {
        **first,
        "wall_runs": [r["wall_seconds"] for r in variant_runs],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in variant_runs),
    }
    for name in ("wall_seconds", "rates_seconds", "import_seconds"):
        if name in first:
            summary[name] = statistics.median(r[name] for r in variant_runs)
    return summary


def measure_chain(release: Path, root: Path, window: tuple[str, str] | None, run: str) -> dict:
    """The whole notebook chain as `make all` runs it (params.resolve, then pipeline.run), writing
    into the scratch project `root` rather than the repository; window None: the default window."""
    dates = f"start={window[0]!r}, end={window[1]!r}, " if window else ""
    code = (
        "from pathlib import Path; from pdclosures import params, pipeline\n"
        f"paths = pipeline.Paths(Path({str(root)!r}), notebooks=pipeline.PROJECT_ROOT / 'notebooks')\n"
        f"pipeline.run(params.resolve(release={str(release)!r}, {dates}run={run!r}), paths, log=lambda *a: None)\n"
    )
    return measure([sys.executable, "-c", code])


def later_release_for(release: Path) -> Path:
    """(g)'s later release: derived from the benchmark release by pdclosures.later_release into a
    folder beside it (<release>-later, kept for the next run), unless it is there already."""
    later = release.with_name(release.name + "-later")
    if not (later / "manifest.json").is_file():
        print(f"deriving the later release for (g) into {later} ...", file=sys.stderr, flush=True)
        code = (
            "from pdclosures import later_release; "
            f"later_release.derive_later_release({str(release)!r}, {str(later)!r})"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
    return later


def _ingest_code(release: Path, interim: Path) -> str:
    return f"from pdclosures import ingest; ingest.ingest_release({str(release)!r}, {str(interim)!r}, progress=False)"


def measure_compare(old: Path, new: Path, root: Path) -> dict:
    """(g) `make compare` as the Makefile runs it (compare.resolve, then compare.run_compare) in the
    scratch project `root`, whose data/interim holds both caches; prints the diff for the checks."""
    code = (
        "import json; from pathlib import Path; import pandas as pd; from pdclosures import compare, pipeline\n"
        f"paths = pipeline.Paths(Path({str(root)!r}), notebooks=pipeline.PROJECT_ROOT / 'notebooks')\n"
        f"values = compare.resolve(old={str(old)!r}, new={str(new)!r}, start={WINDOW[0]!r}, end={WINDOW[1]!r}, "
        "run='bench-compare')\n"
        "out = compare.run_compare(values, paths, log=lambda *a: None)\n"
        "diff = pd.read_csv(out / 'proceedings_diff.csv')\n"
        "national = pd.read_csv(out / 'national_compare.csv').set_index('release').loc['difference']\n"
        "print(json.dumps({'proceedings_diff': dict(zip(diff['change'], map(int, diff['proceedings']))),\n"
        "                  'national_difference': {k: int(national[k]) for k in ('pd_closures', 'completions')}}))\n"
    )
    return measure([sys.executable, "-c", code])


def check_goals(results: dict) -> list[tuple[str, str, bool]]:
    """(goal, measured, met) for each goal of issue 18, on the medians."""
    a, e, c, f = results["a"], results["e"], results["c"], results["f"]
    slower_b = max(results["b"]["rates_seconds"], results["b_days"]["rates_seconds"])
    heaviest = max(PIPELINE_VARIANTS, key=lambda key: results[key]["peak_rss_mb"])
    return [
        (
            f"(a) cold ingest plus rates ≤ {GOAL_A_VS_E}× (e)",
            _ratio(a["wall_seconds"] / e["wall_seconds"], at_least=False),
            a["wall_seconds"] <= GOAL_A_VS_E * e["wall_seconds"],
        ),
        (
            f"(b), (b′) rates for another window from the cache ≤ {GOAL_B_SECONDS:g} s",
            f"{results['b']['rates_seconds']:.2f} s whole months, {results['b_days']['rates_seconds']:.2f} s not "
            f"(the process: {results['b']['wall_seconds']:.1f} s "
            f"with {results['b']['import_seconds']:.1f} s of imports)",
            slower_b <= GOAL_B_SECONDS,
        ),
        (
            f"(c) the chain for a new window from the cache ≤ {GOAL_C_SECONDS:g} s",
            f"{c['wall_seconds']:.1f} s",
            c["wall_seconds"] <= GOAL_C_SECONDS,
        ),
        (
            f"(f) `make all` on the sample after setup ≤ {GOAL_F_SECONDS:g} s",
            f"{f['wall_seconds']:.1f} s",
            f["wall_seconds"] <= GOAL_F_SECONDS,
        ),
        (
            f"(g) `make compare` of two releases, caches built, ≤ {GOAL_G_SECONDS:g} s "
            f"and ≤ {GOAL_G_RSS_MB / 1024:g} GB",
            f"{results['g']['wall_seconds']:.1f} s, {results['g']['peak_rss_mb']:.0f} MB",
            results["g"]["wall_seconds"] <= GOAL_G_SECONDS and results["g"]["peak_rss_mb"] <= GOAL_G_RSS_MB,
        ),
        (
            f"peak memory of any pipeline step ≤ {GOAL_RSS_MB / 1024:g} GB",
            f"{results[heaviest]['peak_rss_mb']:.0f} MB ({heaviest.replace('_days', '′')})",
            results[heaviest]["peak_rss_mb"] <= GOAL_RSS_MB,
        ),
    ]


def latest_run(results: dict, goals: list, problems: list[str], release: Path, smoke: bool, table_bytes: int) -> dict:
    """What results.json keeps: this run's figures (not the history, not the per-court counts)."""
    kept = ("wall_seconds", "wall_runs", "peak_rss_mb", "rates_seconds", "import_seconds")
    return {
        "date": dt.date.today().isoformat(),
        "smoke": smoke,
        "machine": {"cores": os.cpu_count(), "memory_gb": round(_memory_gb(), 1), "python": platform.python_version()},
        "release": {
            "path": str(release),
            "proceeding_lines": results["a"]["accounting"]["lines"],
            "table_bytes": table_bytes,
        },
        "variants": {key: {name: result[name] for name in kept if name in result} for key, result in results.items()},
        "goals": [{"goal": goal, "measured": measured, "met": met} for goal, measured, met in goals],
        "national": {
            "window": list(WINDOW),
            "pd_closures": results["a"]["national"][0],
            "completions": results["a"]["national"][1],
        },
        "problems": problems,
    }


def check_counts(results: dict, release: Path, later: Path) -> list[str]:
    """Every variant's national and per-court counts must agree; return what does not."""
    problems = []
    reference = results["a"]["without_repaired"]
    for key in ["d_all", "d_usecols", "e", "d_usecols_utf8", "e_utf8"]:
        if key in results and results[key]["without_repaired"] != reference:
            problems.append(f"({key}) counts differ from the pipeline's on the same lines")
    later_manifest = later / "manifest.json"
    if "g" in results and later_manifest.is_file():
        planted = json.loads(later_manifest.read_text())["truth"]
        for name in ("proceedings_diff", "national_difference"):
            if results["g"].get(name) != planted[name]:
                problems.append(f"(g) {name} {results['g'].get(name)} != the later release's planted {planted[name]}")
    truth = _planted_truth(release)
    if truth is not None:
        accounting, planted = results["a"]["accounting"], truth["lines"]
        found = (accounting["lines"], accounting["loaded"], accounting["repaired"], accounting["quarantined"])
        expected = (
            planted["lines"],
            planted["expected_loaded"],
            planted["expected_repaired"],
            planted["expected_quarantined"],
        )
        if found != expected:
            problems.append(f"(a) row accounting {found} != planted {expected} (lines, loaded, repaired, quarantined)")
        if results["a"]["national"] != truth["national"]:
            problems.append(f"(a) national {results['a']['national']} != planted truth {truth['national']}")
        if truth.get("courts") and results["a"]["courts"] != truth["courts"]:
            problems.append("(a) per-court counts differ from the planted truth")
    return problems


def _planted_truth(release: Path) -> dict | None:
    """The generator's truth for the benchmark window, if the release came from pdclosures.sample."""
    for path in sorted(release.rglob("*manifest*.json")):
        manifest = json.loads(path.read_text())
        truth = manifest.get("truth", {})
        national = truth.get("national", {}).get("trac-2014")
        if national:
            courts = truth.get("by_court", {}).get("trac-2014", {})
            return {
                "lines": manifest["proceedings_lines"],
                "national": [national["pd_closures"], national["completions"]],
                "courts": {code: [c["pd_closures"], c["completions"]] for code, c in courts.items()},
            }
    return None


LABELS = {
    "a": "(a) pipeline, first run: ingest + rates, cold cache",
    "b": "(b) pipeline, rates for another window from the cache (whole months)",
    "b_days": "(b′) the same for a window that is not whole months (a scan of the cache)",
    "c": "(c) pipeline, whole notebook chain (`make all`), new window, from the cache",
    "f": "(f) `make all` on the synthetic sample, first run (builds its cache)",
    "g": "(g) `make compare` of the release and a later one derived from it, both caches built",
    "e": "(e) bare DuckDB pass over the TSV, reading the columns the cache keeps (the floor)",
    "d_usecols": "(d) pandas read_csv + groupby, usecols (baseline, no goal)",
    "d_all": "(d) pandas read_csv + groupby, all columns (baseline, no goal)",
    "d_usecols_utf8": "(d′) for reference: (d) usecols reading UTF-8 instead of latin-1",
    "e_utf8": "(e′) for reference: (e) reading UTF-8 instead of latin-1",
}


def render(results: dict, goals: list, release: Path, problems: list[str], smoke: bool, table_bytes: int) -> str:
    a, e = results["a"], results["e"]
    table = ["| variant | wall (s), median | each run (s) | peak RSS (MB) | × (e) |", "|---|---:|---:|---:|---:|"]
    for key, label in LABELS.items():
        if key in results:
            r = results[key]
            table.append(
                f"| {label} | {r['wall_seconds']:.1f} | {', '.join(f'{w:.1f}' for w in r['wall_runs'])} "
                f"| {r['peak_rss_mb']:.0f} | {r['wall_seconds'] / e['wall_seconds']:.2f} |"
            )
    rounds = len(a["wall_runs"])
    accounting = a["accounting"]
    lines = [
        "# Benchmark results" + (" (smoke run on a small release: goals not meaningful)" if smoke else ""),
        "",
        f"Run {dt.date.today().isoformat()} with `make bench` on a SYNTHETIC full-scale release made by "
        f"`make bench-data` ({accounting['lines']:,} proceeding lines, {table_bytes / 1e9:.2f} GB of "
        "B_TblProceeding text).",
        f"Machine: {os.cpu_count()} cores, {_memory_gb():.0f} GB memory, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}.",
        "",
        f"Each variant ran in its own process, {rounds} time{'s' if rounds > 1 else ''}, in interleaved rounds "
        "(pandas with all columns once, after the rounds). Times are medians over the runs; each run's time is listed. "
        "Peak RSS is the largest resident set of the variant's process and of the processes it started "
        "(for (c) and (f), the runner and each notebook's kernel, whichever is largest). "
        "The goals are checked on the medians.",
        "",
        *table,
        "",
        "## Goals",
        "",
        "| goal | measured | met |",
        "|---|---|---|",
        *[f"| {goal} | {measured} | {'yes' if met else 'NO'} |" for goal, measured, met in goals],
        "",
        "Against the pandas baselines (no goals): (a) is "
        f"{results['d_usecols']['wall_seconds'] / a['wall_seconds']:.2f}× faster than (d) with usecols and "
        f"{results['d_all']['wall_seconds'] / a['wall_seconds']:.2f}× faster than (d) with all columns.",
        "",
        *(
            _reference_note(a, results)
            if "e_utf8" in results
            else ["The table is not plain ASCII, so the baselines were not also run reading UTF-8.", ""]
        ),
        "## Counts",
        "",
        f"Window {WINDOW[0]}..{WINDOW[1]}: the pipeline counts {a['national'][0]:,} PD closures of "
        f"{a['national'][1]:,} completions (row accounting: {accounting['loaded']:,} loaded, "
        f"{accounting['repaired']:,} repaired, {accounting['quarantined']:,} quarantined).",
        "The row accounting and the national and per-court counts equal the generator's planted truth; "
        "on the lines a plain reader takes (the pipeline's repaired lines left out), pandas and the bare "
        "DuckDB pass give " + ("identical national and per-court counts." if not problems else "DIFFERENT counts:"),
        *[f"- {p}" for p in problems],
        "",
    ]
    return "\n".join(lines)


def _ratio(value: float, at_least: bool) -> str:
    """A goal's ratio to two decimals, rounded against the goal: 1.997× for 'at least 2×' shows
    as 1.99×, not as a 2.00× next to a 'NO'."""
    hundredths = round(value * 100, 6)  # 1.15 * 100 is 114.99999999999999
    return f"{(math.floor(hundredths) if at_least else math.ceil(hundredths)) / 100:.2f}×"


def _reference_note(a: dict, results: dict) -> list[str]:
    d_utf8, e_utf8 = results["d_usecols_utf8"]["wall_seconds"], results["e_utf8"]["wall_seconds"]
    return [
        "The release's tables are latin-1, and (d) and (e) read them so, as a notebook for the real "
        "release must. This table is plain ASCII, so (d′) and (e′) also read it as UTF-8, which gives "
        "the same text (their counts are checked with the others, below): for reference only, not for "
        f"the goals. Against them, (a) is {a['wall_seconds'] / e_utf8:.2f}× (e′) and "
        f"{d_utf8 / a['wall_seconds']:.2f}× faster than (d′). The pipeline itself reads an ASCII piece of "
        "the table without transcoding it.",
        "",
    ]


def _memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return float("nan")


if __name__ == "__main__":
    sys.exit(main())
