"""Notebook 01: check a release, read it into a cleaned Parquet cache, and hand it to the later notebooks.

The rules that decide each line's fate (loaded, repaired, quarantined; junk dates; code cleaning)
are in cleaning.py. This module is the machinery that applies them: the checks before any work
(`preflight`), the parallel parse of B_TblProceeding (3 GB; the one place where speed pays), the
cache in data/interim/<release-id>/, and ingest.json, where later notebooks find it (`load_ingest`).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import shutil
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import cleaning, database, release_format
from .cleaning import TableAccounting
from .errors import ParameterError, ReleaseError
from .release import Release, iter_line_chunks, open_release, require_columns, split_header

# Bump when cleaning changes what lands in the cache, so old caches are rebuilt.
# 3: every quarantined line with its line number and raw text; empty lines and ids of more than
#    18 digits named as such.
# 4: ids such as -5, 0x7 or of 19 digits are quarantined in every piece (before: loaded when every
#    other id of their piece was plain digits).
# 5: lookups reduced to one row per key (cleaning.reduce_lookup); dates after the release date
#    nulled; tab-shifted lines realigned wherever the stray field sits.
# 6: DEC_CODE, NAT, CUSTODY, LANG and IJ_CODE kept; the nationality, custody and language lookups
#    (optional); eoir.duckdb beside the cache.
# 7: a synthetic release's scale (its marker's scale line) in ingest.json.
CACHE_VERSION = 7
PROCEEDINGS_FILE = "proceedings.parquet"
MANIFEST_FILE = "manifest.json"
INGEST_RECORD = "ingest.json"
ACCOUNTING_COLUMNS = ["table", "lines", "loaded", "repaired", "quarantined"]  # row_accounting.csv
DATA_QUALITY_COLUMNS = ["table", "column", "issue", "rows"]  # data_quality.csv
LOOKUP_FILES = {
    release_format.BASE_CITY_TABLE: "base_city.parquet",
    release_format.HLOC_TABLE: "hearing_locations.parquet",
    release_format.DECISION_TABLE: "court_decisions.parquet",
    release_format.CASE_TYPE_TABLE: "case_types.parquet",
    release_format.NATIONALITY_TABLE: "nationalities.parquet",
    release_format.CUSTODY_TABLE: "custody_statuses.parquet",
    release_format.LANGUAGE_TABLE: "languages.parquet",
}
LOOKUP_MISSING = "lookup missing: codes not decoded"  # data_quality.csv, for an optional lookup


@dataclass
class IngestResult:
    """A cleaned release in the cache, with its accounting and provenance."""

    cache_dir: Path
    manifest: dict

    @property
    def proceedings_path(self) -> Path:
        return self.cache_dir / PROCEEDINGS_FILE

    def lookup_path(self, table: str) -> Path:
        return self.cache_dir / LOOKUP_FILES[table]

    def has_lookup(self, table: str) -> bool:
        """Whether the release had this lookup (the optional ones may be missing: codes stay codes)."""
        return table not in self.manifest.get("lookups_missing", []) and self.lookup_path(table).exists()

    @property
    def database_path(self) -> Path:
        """eoir.duckdb: SQL on the cleaned release (database.connect opens it read-only)."""
        return self.cache_dir / database.DATABASE_FILE

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    @property
    def scale(self) -> float:
        """Real proceedings per proceeding: a synthetic sample's stated scale, else 1."""
        return float(self.manifest.get("scale") or 1.0)

    @property
    def release_label(self) -> str:
        """How figures and reports name the release: its name, and its publication date if known."""
        name = self.manifest.get("release_name") or "(release not recorded)"
        date = self.manifest.get("release_date")
        return f"{name}, published {date}" if date else name

    @property
    def accounting(self) -> pd.DataFrame:
        return pd.DataFrame(self.manifest["accounting"], columns=ACCOUNTING_COLUMNS)

    @property
    def data_quality(self) -> pd.DataFrame:
        return pd.DataFrame(self.manifest["data_quality"], columns=DATA_QUALITY_COLUMNS)

    def quarantine_path(self, table: str) -> Path:
        """quarantine/<table>.tsv in the cache (absent when the table had no quarantined line)."""
        return self.cache_dir / "quarantine" / f"{table}.tsv"

    def quarantined(self) -> pd.DataFrame:
        """Every quarantined line: table, line (the header is line 1), reason, raw_line (escaped)."""
        frames = [
            pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3).assign(table=table)
            for table in release_format.TABLES + release_format.OPTIONAL_LOOKUPS
            if (path := self.quarantine_path(table)).exists()
        ]
        columns = ["table", "line", "reason", "raw_line"]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({c: [] for c in columns}, dtype=str)
        return frame[columns].assign(line=pd.to_numeric(frame["line"]).astype("Int64"))  # empty: not found again


# --------------------------------------------------------------------------------------------
# Checks of a release's files that need no parsing: run before any notebook starts


def preflight(release_path, courts: tuple[str, ...] | None = None) -> None:
    """Check in a second what would otherwise fail mid-ingest: the tables exist, are TAB-delimited
    text with the needed columns, and have data lines; requested courts exist in the lookup.
    Raises ReleaseError (files) or ParameterError (courts), naming the file or parameter."""
    release = open_release(release_path)
    try:
        needed = {
            release_format.PROCEEDING_TABLE: release_format.PROCEEDING_CACHE_COLUMNS,
            **release_format.LOOKUP_NEEDED_COLUMNS,
        }
        for table, columns in needed.items():
            if table in release_format.OPTIONAL_LOOKUPS and not release.has_table(table):
                continue
            where = release.describe(table)
            with release.open_table(table) as stream:
                try:
                    head = stream.read(1 << 16)
                except (OSError, EOFError, ValueError) as error:
                    raise ReleaseError(f"{where}: cannot read (truncated or corrupt: {error})") from None
            if not head.strip():
                raise ReleaseError(f"{where}: empty file (no header line)")
            header_end = head.find(b"\n") + 1 or len(head)
            require_columns(split_header(head[:header_end], where), columns, where)
            if not head[header_end:].strip(b"\r\n"):
                raise ReleaseError(f"{where}: has a header but no data lines")
        if courts:
            known = set(read_lookup(release, release_format.BASE_CITY_TABLE)[0]["BASE_CITY_CODE"])
            unknown = [code for code in courts if code not in known]
            if unknown:
                raise ParameterError(
                    f"courts: {', '.join(unknown)} is not a court in this release's {release_format.BASE_CITY_TABLE}"
                )
    finally:
        release.close()


# --------------------------------------------------------------------------------------------
# The cache: data/interim/<release-id>/, rebuilt only when the release's files change


def ingest_release(release_path, interim_root, *, force: bool = False, progress: bool = True) -> IngestResult:
    """Clean a release into data/interim/<release-id>/, or reuse the cache if the release is unchanged."""
    release = open_release(release_path)
    try:
        for table in release_format.TABLES:
            release.member(table)  # a missing table fails here, before any work
        tables = release.tables_to_read()
        release_id = release.release_id(tables)
        cache_dir = Path(interim_root) / release_id
        fingerprint = release.fingerprint(tables)
        if not force:
            cached = _read_manifest(cache_dir)
            if cached and cached.get("cache_version") == CACHE_VERSION and cached.get("fingerprint") == fingerprint:
                return IngestResult(cache_dir, cached)
        return _build_cache(release, release_id, cache_dir, fingerprint, progress)
    finally:
        release.close()


def _read_manifest(cache_dir: Path) -> dict | None:
    try:
        return json.loads((cache_dir / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None


def open_cache(cache_dir) -> IngestResult | None:
    """A release's cache folder (data/interim/<release-id>) as this version of ingest_release built it;
    None when the folder holds no such cache (e.g. explore.ipynb given a release path, not an id)."""
    manifest = _read_manifest(Path(cache_dir))
    if not manifest or manifest.get("cache_version") != CACHE_VERSION or "release_id" not in manifest:
        return None
    return IngestResult(Path(cache_dir), manifest)


def _build_cache(release: Release, release_id: str, cache_dir: Path, fingerprint: dict, progress: bool) -> IngestResult:
    started = time.perf_counter()
    staging = cache_dir.with_name(f".{cache_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "quarantine").mkdir(parents=True)
    try:
        published = release.published_counts()
        accountings = []
        missing = [t for t in release_format.OPTIONAL_LOOKUPS if not release.has_table(t)]
        for table, filename in LOOKUP_FILES.items():
            if table in missing:
                continue
            frame, accounting, quarantined = read_lookup(release, table)
            frame = cleaning.reduce_lookup(frame, table, accounting)
            frame.to_parquet(staging / filename, index=False)
            cleaning.write_quarantine(staging / "quarantine" / f"{table}.tsv", quarantined)
            accountings.append(accounting)
        table = release_format.PROCEEDING_TABLE
        latest, latest_rule = release.latest_valid_date()
        accounting, quarantined, digest, data_range = read_proceedings(
            release, staging / PROCEEDINGS_FILE, progress=progress, latest=latest
        )
        cleaning.write_quarantine(staging / "quarantine" / f"{table}.tsv", quarantined)
        accountings.insert(0, accounting)
        for accounting in accountings:
            accounting.published_count = published.get(accounting.table.lower())
            accounting.check()
        quality = [row for a in accountings for row in a.quality_rows()]
        quality += _missing_lookup_rows(staging / PROCEEDINGS_FILE, missing)
        database.build(staging, PROCEEDINGS_FILE, LOOKUP_FILES)  # views over the files above: no copy
        manifest = {
            "cache_version": CACHE_VERSION,
            "release_id": release_id,
            "release_path": str(release.path.resolve()),
            "release_name": release.name,
            "release_date": release.release_date(),
            "dates_valid_through": latest.isoformat(),
            "dates_valid_through_from": latest_rule,
            "data_from": data_range[0],
            "data_through": data_range[1],
            "synthetic": release.synthetic,
            "scale": release.synthetic_scale,
            "checksum_sha256": release.checksum({release.member(table): digest}),
            "checksum_of": release.checksum_of,
            "fingerprint": fingerprint,
            "members": {table: release.member(table) for table in release.tables_to_read()},
            "lookups_missing": missing,
            "accounting": [a.row() for a in accountings],
            "published_counts": {a.table: a.published_count for a in accountings},
            "data_quality": quality,
            "ingest_seconds": round(time.perf_counter() - started, 2),
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _replace_dir(staging, cache_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return IngestResult(cache_dir, manifest)


def _missing_lookup_rows(proceedings_path: Path, missing: list[str]) -> list[dict]:
    """data_quality.csv rows for the optional lookups the release lacks: the column whose codes stay
    undecoded, and how many loaded proceedings hold a code in it."""
    rows = []
    for table in missing:
        column = release_format.LOOKUP_DECODES[table][0]
        values = pq.read_table(proceedings_path, columns=[column])[column]
        coded = len(values) - values.null_count
        rows.append({"table": table, "column": column, "issue": LOOKUP_MISSING, "rows": coded})
    return rows


def _replace_dir(staging: Path, final: Path) -> None:
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# B_TblProceeding: the parallel parse


def _parse_threads() -> int:
    """One parse worker per available core, at least two and at most four. At full scale the
    workers use about 18 CPU-seconds and the reading thread, which hashes and counts every byte,
    about 4: past four workers the reading thread sets the pace."""
    try:
        cores = len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:  # macOS and Windows have no affinity call
        cores = os.cpu_count() or 2
    return max(2, min(cores, 4))


PARSE_THREADS = _parse_threads()

# Ids are delta-encoded (they mostly increase); codes keep their dictionaries. Dates are written
# plain: dictionary-encoding them costs a third of the write time and saves under a tenth of the size.
# Min/max statistics are kept for ids and dates (DuckDB skips row groups outside a date window); for
# the codes they would cost a quarter of the write time, and no query filters on a code's range.
# Snappy writes a quarter faster than zstd and reads no slower, for a file a third bigger (130 MB
# for 16.5 million proceedings).
_PARQUET_OPTIONS = {
    "compression": "snappy",
    "use_dictionary": release_format.PROCEEDING_CODE_COLUMNS,
    "column_encoding": {c: "DELTA_BINARY_PACKED" for c in release_format.PROCEEDING_ID_COLUMNS},
    "write_statistics": release_format.PROCEEDING_ID_COLUMNS + release_format.PROCEEDING_DATE_COLUMNS,
}

# Ids and the REPAIRED flag are never null (a line without whole-number ids is quarantined), and
# saying so spares the Parquet writer their definition levels: a tenth of the write time.
_CACHE_SCHEMA = pa.schema(
    [pa.field(c, pa.int64(), nullable=False) for c in release_format.PROCEEDING_ID_COLUMNS]
    + [pa.field(c, pa.date32()) for c in release_format.PROCEEDING_DATE_COLUMNS]
    + [pa.field(c, pa.dictionary(pa.int32(), pa.string())) for c in release_format.PROCEEDING_CODE_COLUMNS]
    + [pa.field("REPAIRED", pa.bool_(), nullable=False)]
)

# Ids come as text, checked before they become integers (the parser's own integers would take -5
# and 0x7); dates and codes come dictionary-encoded, so each distinct value is cleaned once.
_PARSED_TYPES = {
    **{c: pa.string() for c in release_format.PROCEEDING_ID_COLUMNS},
    **{
        c: pa.dictionary(pa.int32(), pa.string())
        for c in release_format.PROCEEDING_DATE_COLUMNS + release_format.PROCEEDING_CODE_COLUMNS
    },
}


def read_proceedings(
    release: Release, out_path: Path, *, progress: bool = True, chunk_bytes: int = 16 << 20, latest=None
):
    """Stream B_TblProceeding into Parquet.

    A reading thread reads, hashes and counts pieces of whole lines; PARSE_THREADS workers
    parse and clean pieces in parallel; this thread merges their accounting and writes the
    Parquet row groups in file order. At most a few pieces are in memory at once.

    Returns (accounting, quarantined lines, sha256 of the table, (first, last) valid COMP_DATE).
    The sha256 is None for a zip release: its checksum is the zip file's, so the table's text is
    not hashed (2 CPU-seconds at full scale). Dates after `latest` (the release's own date) are
    nulled and counted."""
    from tqdm import tqdm  # text bars: tqdm.auto wants ipywidgets in a notebook, and warns without

    table = release_format.PROCEEDING_TABLE
    where = release.describe(table)
    accounting = TableAccounting(table)
    quarantined: list[tuple] = []
    digest = None if release.is_zip else hashlib.sha256()
    writer = None
    header = None
    lines_before = 0  # data lines in earlier pieces, for quarantine line numbers
    dates = []
    in_flight: deque = deque()
    bar = tqdm(
        total=release.table_size(table),
        unit="B",
        unit_scale=True,
        desc=f"Reading {table}",
        disable=not progress,
        mininterval=1.0,
    )

    def write_next():
        nonlocal writer
        cleaned, part, part_quarantine = in_flight.popleft().result()
        accounting.add(part)
        quarantined.extend(part_quarantine)
        if writer is None:
            writer = pq.ParquetWriter(out_path, cleaned.schema, **_PARQUET_OPTIONS)
        writer.write_table(cleaned)
        dates.append(pc.min_max(cleaned["COMP_DATE"]))

    workers = ThreadPoolExecutor(max_workers=PARSE_THREADS, thread_name_prefix="parse")
    try:
        with release.open_table(table) as stream:
            for chunk, line_feeds in _prefetch(_hashed_counted_pieces(stream, where, digest, chunk_bytes)):
                bar.update(len(chunk))
                if header is None:
                    chunk = bytes(chunk)
                    end = chunk.find(b"\n") + 1 or len(chunk)
                    header = split_header(chunk[:end], where)
                    require_columns(header, release_format.PROCEEDING_CACHE_COLUMNS, where)
                    chunk, line_feeds = chunk[end:], line_feeds - chunk[:end].count(b"\n")
                if not chunk:
                    continue
                in_flight.append(workers.submit(_parse_piece, chunk, line_feeds, header, lines_before, where, latest))
                lines_before += line_feeds + (chunk[-1:] != b"\n")
                if len(in_flight) > 2 * PARSE_THREADS:
                    write_next()
            while in_flight:
                write_next()
    finally:
        workers.shutdown(wait=True, cancel_futures=True)
        bar.close()
    if header is None:
        raise ReleaseError(f"{where}: empty file (no header line)")
    if writer is None:
        raise ReleaseError(f"{where}: has a header but no data lines")
    writer.close()
    firsts = [d["min"].as_py() for d in dates if d["min"].is_valid]
    lasts = [d["max"].as_py() for d in dates if d["max"].is_valid]
    data_range = (min(firsts).isoformat() if firsts else None, max(lasts).isoformat() if lasts else None)
    return accounting, quarantined, digest and digest.hexdigest(), data_range


def _prefetch(iterable, depth: int = 4):
    """Run a producer (decompression, file reads) one step ahead of the consumer, in a thread."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    finished = object()

    def produce():
        try:
            for item in iterable:
                slots.put(item)
            slots.put(finished)
        except BaseException as error:  # handed to the consumer, which re-raises it
            slots.put(error)

    threading.Thread(target=produce, daemon=True).start()
    while True:
        item = slots.get()
        if item is finished:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def _hashed_counted_pieces(stream, where: str, digest, chunk_bytes: int):
    """Pieces of whole lines with their line-feed counts; hashing (unless digest is None) and
    counting run here, in the reading thread, while the workers parse earlier pieces."""
    for piece in iter_line_chunks(stream, where, chunk_bytes):
        if digest is not None:
            digest.update(piece)
        yield piece, _count_line_feeds(piece)


def _count_line_feeds(piece) -> int:
    """numpy counts three times as fast as bytes.count, and lets go of the GIL while it does;
    slices of 256 kB keep the comparison's temporary array in the CPU cache."""
    values = np.frombuffer(piece, np.uint8)
    step = 1 << 18
    return sum(int(np.count_nonzero(values[i : i + step] == 10)) for i in range(0, len(values), step))


def _parse_piece(chunk, line_feeds: int, header: list[str], lines_before: int, where: str, latest=None):
    """Parse and clean one piece of whole lines (runs in a worker thread).

    Returns (cleaned table, this piece's accounting, its quarantined lines)."""
    # The parser wants UTF-8; latin-1 is the same bytes as long as they are ASCII, so only
    # pieces with other bytes pay for transcoding.
    whole = chunk.obj if isinstance(chunk, memoryview) else chunk
    text = chunk if whole.isascii() else bytes(chunk).decode(release_format.ENCODING).encode("utf-8")
    accounting = TableAccounting(release_format.PROCEEDING_TABLE)
    invalid: list = []  # lines with the wrong number of fields
    parsed = pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(text)),
        read_options=pacsv.ReadOptions(column_names=header, use_threads=False),
        parse_options=pacsv.ParseOptions(
            delimiter=release_format.DELIMITER,
            quote_char=False,
            escape_char=False,
            ignore_empty_lines=False,
            invalid_row_handler=lambda row: invalid.append(row) or "skip",
        ),
        # The text is valid UTF-8 (ASCII, or transcoded from latin-1 above), and so is every
        # field cut from it at a tab: checking it again cost an eighth of the parse.
        convert_options=pacsv.ConvertOptions(
            include_columns=release_format.PROCEEDING_CACHE_COLUMNS,
            column_types=_PARSED_TYPES,
            strings_can_be_null=False,
            check_utf8=False,
        ),
    )
    records_seen = parsed.num_rows + len(invalid)
    chunk_lines = line_feeds + (text[-1:] != b"\n")
    if records_seen != chunk_lines:  # lone CRs also end lines for the parser: count them too
        text = bytes(text)
        chunk_lines = _count_lines(text)
    if records_seen != chunk_lines:
        raise RuntimeError(f"{where}: parser saw {records_seen} records in a piece with {chunk_lines} lines")

    repaired_rows, unrepaired = [], []  # realigned fields; (reason, raw line)
    for row in invalid:
        fixed, reason = cleaning.realign_or_reason(row.text.split(release_format.DELIMITER), header)
        if fixed is not None:
            repaired_rows.append(fixed.fields)
            accounting.issues[fixed.issue(header)] += 1
        else:
            unrepaired.append((reason, row.text))
    # Quarantined lines are found in a bytes copy of the piece, for their line numbers; a piece whose
    # wrong-length lines were all realigned (the usual case) needs no copy.
    searchable = bytes(text) if unrepaired else b""
    quarantine = [(_line_number(searchable, raw, lines_before), reason, raw) for reason, raw in unrepaired]
    if repaired_rows:
        positions = [header.index(c) for c in release_format.PROCEEDING_CACHE_COLUMNS]
        extra = pa.table(
            {
                c: pa.array([r[i] for r in repaired_rows], pa.string()).cast(_PARSED_TYPES[c])
                for c, i in zip(release_format.PROCEEDING_CACHE_COLUMNS, positions)
            }
        )
        parsed = pa.concat_tables([parsed, extra])
        accounting.repaired += len(repaired_rows)

    # Repaired lines keep a flag, so any count can be told with and without them.
    flags = np.zeros(parsed.num_rows, dtype=bool)
    flags[parsed.num_rows - len(repaired_rows) :] = True
    cleaned, bad_ids = _clean_proceedings(parsed, pa.array(flags), accounting, latest)
    if bad_ids:
        quarantine.extend(_quarantine_bad_ids(bad_ids, searchable or bytes(text), header, lines_before))
    for _, reason, _ in quarantine:
        accounting.quarantine(reason)
    accounting.lines += chunk_lines
    accounting.loaded += cleaned.num_rows
    return cleaned, accounting, quarantine


def _clean_proceedings(parsed: pa.Table, repaired_flags: pa.Array, accounting: TableAccounting, latest=None):
    """The cache's typed columns (cleaning.py's rules); rows whose ids are not whole numbers are
    split off for quarantine, as (reason, {column: text})."""
    parsed = parsed.unify_dictionaries()  # one dictionary per column: each column cleaned in one go
    ids = {name: parsed[name] for name in release_format.PROCEEDING_ID_COLUMNS}
    bad_ids = []
    if not all(cleaning.ids_are_plain(values) for values in ids.values()):  # checked row by row
        ids = {name: cleaning.strip_codes(values) for name, values in ids.items()}
        ids_ok = pc.and_(*(cleaning.ids_whole_number_mask(values) for values in ids.values()))
        bad = pc.invert(ids_ok)
        columns = release_format.PROCEEDING_CACHE_COLUMNS
        for values in zip(*(pc.filter(parsed[name], bad).to_pylist() for name in columns)):
            record = dict(zip(columns, values))
            bad_ids.append((cleaning.bad_id_reason(record), record))
        parsed = parsed.filter(ids_ok)
        repaired_flags = pc.filter(repaired_flags, ids_ok.combine_chunks())
        ids = {name: pc.filter(values, ids_ok) for name, values in ids.items()}
    out = {name: pc.cast(values, pa.int64()) for name, values in ids.items()}
    for name in release_format.PROCEEDING_DATE_COLUMNS:
        out[name], junk, future = cleaning.parse_dates(parsed[name], latest)
        if junk:
            accounting.issues[(name, cleaning.JUNK_DATE)] += junk
        if future:
            accounting.issues[(name, cleaning.FUTURE_DATE)] += future
    for name in release_format.PROCEEDING_CODE_COLUMNS:
        out[name] = cleaning.clean_codes(parsed[name])
    out["REPAIRED"] = repaired_flags
    return pa.table(out, schema=_CACHE_SCHEMA), bad_ids


def _count_lines(text: bytes) -> int:
    """Line breaks as the parser sees them: CRLF, LF, or a lone CR."""
    lines = text.count(b"\n") + text.count(b"\r") - text.count(b"\r\n")
    if not text.endswith((b"\n", b"\r")):
        lines += 1
    return lines


def _line_number(text: bytes, row_text: str, lines_before: int) -> int | None:
    """1-based line number in the file (the header is line 1) of a raw line, found by search."""
    position = text.find(row_text.encode("utf-8")) if row_text else -1
    if position < 0:
        return None
    return lines_before + text.count(b"\n", 0, position) + 2


def _quarantine_bad_ids(bad_ids: list[tuple], text: bytes, header: list[str], lines_before: int) -> list[tuple]:
    """(line number, reason, raw line) for the rows whose ids are not whole numbers.

    The parser hands over only the kept fields, and reads an empty line as a row of empty fields,
    so the lines are found again in the piece's text: the lines it kept (whole, or empty), then
    the realigned ones, in file order, as the rows are. Should they not pair up one to one (a
    lone CR ends a line for the parser, not here), the rows keep their reasons without line
    numbers, and the raw line is rebuilt from the kept fields."""
    lines = text.decode("utf-8").split("\n")
    if lines[-1] == "":  # after the last line feed
        lines.pop()
    id_positions = [header.index(c) for c in release_format.PROCEEDING_ID_COLUMNS]
    kept, realigned = [], []
    for number, line in enumerate(lines, start=lines_before + 2):  # the header is line 1
        line = line.removesuffix("\r")
        fields = line.split(release_format.DELIMITER) if line else [""] * len(header)
        found_in = kept
        if len(fields) != len(header):
            fixed = cleaning.realign(fields, header)
            if fixed is None:
                continue
            fields, found_in = fixed.fields, realigned
        if not all(cleaning.id_is_whole_number(fields[i]) for i in id_positions):
            found_in.append((number, line))
    found = kept + realigned
    if len(found) != len(bad_ids):
        return [(None, reason, "\t".join(f"{k}={v}" for k, v in record.items())) for reason, record in bad_ids]
    return [
        (number, cleaning.EMPTY_LINE if line == "" else reason, line)
        for (reason, _), (number, line) in zip(bad_ids, found)
    ]


# --------------------------------------------------------------------------------------------
# Lookup tables: small, read whole so a record broken by a line break can be rejoined


def read_lookup(release: Release, table: str) -> tuple[pd.DataFrame, TableAccounting, list[tuple]]:
    """A lookup table as text columns, its accounting and its quarantined lines."""
    where = release.describe(table)
    raw = release.read_table_bytes(table)
    if not raw.strip():
        raise ReleaseError(f"{where}: empty file (no header line)")
    first_break = raw.find(b"\n") + 1 or len(raw)
    header = split_header(raw[:first_break], where)
    require_columns(header, release_format.LOOKUP_NEEDED_COLUMNS[table], where)
    lines = re.split(r"\r\n|\n|\r", raw[first_break:].decode(release_format.ENCODING))
    if lines and lines[-1] == "":
        lines.pop()  # the final line break ends the last line; it does not start a new one
    records, accounting, quarantined = cleaning.lookup_records(table, lines, len(header))
    frame = pd.DataFrame(records, columns=header, dtype="string")
    return frame.loc[:, ~frame.columns.duplicated()], accounting, quarantined


# --------------------------------------------------------------------------------------------
# Handing the ingest over to the later notebooks of a run


def write_ingest_outputs(ingest: IngestResult, processed_dir) -> None:
    """row_accounting.csv, data_quality.csv and ingest.json (where later notebooks find the cache)."""
    processed_dir = Path(processed_dir)
    processed_dir.mkdir(parents=True, exist_ok=True)
    ingest.accounting.to_csv(processed_dir / "row_accounting.csv", index=False, lineterminator="\n")
    ingest.data_quality.to_csv(processed_dir / "data_quality.csv", index=False, lineterminator="\n")
    record = {**ingest.manifest, "cache_dir": str(ingest.cache_dir)}
    (processed_dir / INGEST_RECORD).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def load_ingest(processed_dir) -> IngestResult:
    """The ingest that notebook 01 recorded for this run: the one reader of ingest.json."""
    path = Path(processed_dir) / INGEST_RECORD
    try:
        record = json.loads(path.read_text())
    except OSError:
        raise ReleaseError(f"{path}: missing; run notebook 01_ingest first (make all runs them in order)") from None
    except ValueError:
        raise ReleaseError(f"{path}: not valid JSON; run notebook 01_ingest again") from None
    return IngestResult(Path(record.pop("cache_dir")), record)
