"""Ingest a release into a cleaned, cached Parquet table, accounting for every data line.

Each data line of B_TblProceeding ends up in exactly one place:
- loaded: parsed with the expected number of fields, codes NUL-stripped and trimmed, junk dates
  nulled and counted;
- repaired (a subset of loaded): a tab-shifted line whose single stray empty field can be removed
  in only one way that leaves every column well formed;
- quarantined: written with its reason to data/interim/<release-id>/quarantine/<table>.tsv.
The invariant lines = loaded + quarantined is checked in code; a mismatch is an error.
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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import release_format
from .errors import ParameterError, ReleaseError
from .release import (Release, clean_code, iter_line_chunks, open_release, require_columns, sha256_file,
                      split_header)

# Bump when cleaning changes what lands in the cache, so old caches are rebuilt.
# 2: nine cached columns (DEC_CODE, CUSTODY, NAT, LANG dropped), plain dates.
# 3: every quarantined line with its line number and raw text; empty lines and ids of more than
#    18 digits named as such (before: reported as ids that are not whole numbers, without lines).
CACHE_VERSION = 3
PROCEEDINGS_FILE = "proceedings.parquet"
MANIFEST_FILE = "manifest.json"
LOOKUP_FILES = {
    release_format.BASE_CITY_TABLE: "base_city.parquet",
    release_format.HLOC_TABLE: "hearing_locations.parquet",
    release_format.DECISION_TABLE: "court_decisions.parquet",
    release_format.CASE_TYPE_TABLE: "case_types.parquet",
}

_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}")
_ID_TEXT = re.compile(r"^\d+$")
_WHOLE_NUMBER = re.compile(r"\d{1,18}", re.ASCII)  # an id the cache takes (as the careful path's check)
_TIME_TEXT = re.compile(r"^\d{0,4}$")
_CODE_TEXT = re.compile(r"^[A-Za-z0-9 ]{0,12}$")
_ID_COLUMNS = {"IDNPROCEEDING", "IDNCASE"}
_DATE_COLUMNS = {c for c in release_format.PROCEEDING_COLUMNS if "DATE" in c} - {"DATE_APPEAL_DUE_STATUS"}
# Columns whose name does not settle whether they hold a date or a code: accept both.
_DATE_OR_CODE_COLUMNS = {"DATE_APPEAL_DUE_STATUS", "VENUE_CHG_GRANTED"}


@dataclass
class TableAccounting:
    """Where every data line of one table went."""

    table: str
    lines: int = 0
    loaded: int = 0
    repaired: int = 0
    quarantined: int = 0
    published_count: int | None = None
    issues: Counter = field(default_factory=Counter)  # (column, issue) -> rows

    def add(self, part: "TableAccounting") -> None:
        self.lines += part.lines
        self.loaded += part.loaded
        self.repaired += part.repaired
        self.quarantined += part.quarantined
        self.issues.update(part.issues)

    def check(self) -> None:
        if self.lines != self.loaded + self.quarantined:
            raise RuntimeError(
                f"{self.table}: row accounting does not add up: {self.lines} lines != "
                f"{self.loaded} loaded + {self.quarantined} quarantined"
            )

    def row(self) -> dict:
        return {"table": self.table, "lines": self.lines, "loaded": self.loaded,
                "repaired": self.repaired, "quarantined": self.quarantined}


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

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    @property
    def release_label(self) -> str:
        """How figures and reports name the release: its name, and its publication date if known."""
        name = self.manifest.get("release_name") or "(release not recorded)"
        date = self.manifest.get("release_date")
        return f"{name}, published {date}" if date else name

    @property
    def accounting(self) -> pd.DataFrame:
        return pd.DataFrame(self.manifest["accounting"], columns=["table", "lines", "loaded", "repaired", "quarantined"])

    @property
    def data_quality(self) -> pd.DataFrame:
        return pd.DataFrame(self.manifest["data_quality"], columns=["table", "column", "issue", "rows"])


# --------------------------------------------------------------------------------------------
# Entry point


def ingest_release(release_path, interim_root, *, force: bool = False, progress: bool = True) -> IngestResult:
    """Clean a release into data/interim/<release-id>/, or reuse the cache if the release is unchanged."""
    release = open_release(release_path)
    try:
        tables = [release_format.PROCEEDING_TABLE, *LOOKUP_FILES]
        for table in tables:
            release.member(table)  # a missing table fails here, before any work
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


def _build_cache(release: Release, release_id: str, cache_dir: Path, fingerprint: dict, progress: bool) -> IngestResult:
    started = time.perf_counter()
    staging = cache_dir.with_name(f".{cache_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "quarantine").mkdir(parents=True)
    try:
        published = release.published_counts()
        accountings = []
        for table, filename in LOOKUP_FILES.items():
            frame, accounting, quarantined = read_lookup(release, table)
            accounting.published_count = published.get(table.lower())
            frame.to_parquet(staging / filename, index=False)
            _write_quarantine(staging, table, quarantined)
            accountings.append(accounting)
        accounting, quarantined, digest, data_range = read_proceedings(
            release, staging / PROCEEDINGS_FILE, progress=progress
        )
        accounting.published_count = published.get(release_format.PROCEEDING_TABLE.lower())
        _write_quarantine(staging, release_format.PROCEEDING_TABLE, quarantined)
        accountings.insert(0, accounting)
        for accounting in accountings:
            accounting.check()
        checksum = (_zip_checksum(release.path) if release.is_zip
                    else _combined_checksum(release, {release.member(release_format.PROCEEDING_TABLE): digest}))
        manifest = {
            "cache_version": CACHE_VERSION,
            "release_id": release_id,
            "release_path": str(release.path.resolve()),
            "release_name": release.name,
            "release_date": _release_date(release),
            "data_from": data_range[0],
            "data_through": data_range[1],
            "synthetic": release.synthetic,
            "checksum_sha256": checksum,
            "checksum_of": "zip file" if release.is_zip else "table files",
            "fingerprint": fingerprint,
            "members": {table: release.member(table) for table in [release_format.PROCEEDING_TABLE, *LOOKUP_FILES]},
            "accounting": [a.row() for a in accountings],
            "published_counts": {a.table: a.published_count for a in accountings},
            "data_quality": _data_quality_rows(accountings),
            "ingest_seconds": round(time.perf_counter() - started, 2),
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _replace_dir(staging, cache_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return IngestResult(cache_dir, manifest)


def _replace_dir(staging: Path, final: Path) -> None:
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)


def _zip_checksum(path: Path) -> str:
    """The zip's SHA-256: the one `make download` recorded while the file is unchanged since,
    else computed (3 s for a 4 GB zip)."""
    from .download import recorded_sha256

    return recorded_sha256(path) or sha256_file(path)


def _combined_checksum(release: Release, known: dict[str, str]) -> str:
    lines = []
    for table in [release_format.PROCEEDING_TABLE, *LOOKUP_FILES]:
        member = release.member(table)
        digest = known.get(member) or sha256_file(release.path / member)
        lines.append(f"{digest}  {member}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _release_date(release: Release) -> str | None:
    """The release's publication date, where the download record or the zip says it."""
    from .download import read_download_record

    if release.is_zip:
        record = read_download_record(release.path)
        if record and record.get("last_modified_date"):
            return record["last_modified_date"]
        return release.newest_member_date()
    return None


def _data_quality_rows(accountings: list[TableAccounting]) -> list[dict]:
    rows = []
    for accounting in accountings:
        for (column, issue), count in sorted(accounting.issues.items()):
            rows.append({"table": accounting.table, "column": column, "issue": issue, "rows": count})
        if accounting.published_count is not None and accounting.published_count != accounting.lines:
            rows.append({"table": accounting.table, "column": "", "rows": accounting.published_count,
                         "issue": f"Count.txt says {accounting.published_count} rows; file has {accounting.lines} data lines"})
    return rows


def _write_quarantine(staging: Path, table: str, quarantined: list[tuple]) -> None:
    """One TSV per table: line number, reason, and the raw line with TAB, CR, LF, NUL and backslash
    written as \\t, \\r, \\n, \\0 and \\\\ so that each quarantined line stays one three-column row."""
    if not quarantined:
        return
    with open(staging / "quarantine" / f"{table}.tsv", "w", encoding="utf-8", newline="\n") as out:
        out.write("line\treason\traw_line\n")
        for line_number, reason, raw in quarantined:
            out.write(f"{'' if line_number is None else line_number}\t{reason}\t{escape_raw_line(raw)}\n")


_RAW_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\r": "\\r", "\n": "\\n", "\x00": "\\0"})


def escape_raw_line(raw: str) -> str:
    return raw.translate(_RAW_ESCAPES)


# --------------------------------------------------------------------------------------------
# Tab-shifted lines: the checks that decide whether one can be realigned


def _field_is_well_formed(column: str, value: str) -> bool:
    value = clean_code(value)
    if column in _ID_COLUMNS:
        return bool(_ID_TEXT.match(value))
    if column in _DATE_COLUMNS:
        return value == "" or bool(_DATE_TEXT.match(value))
    if column in _DATE_OR_CODE_COLUMNS:
        return bool(_DATE_TEXT.match(value) or _CODE_TEXT.match(value))
    if column == "HEARING_TIME":
        return bool(_TIME_TEXT.match(value))
    return bool(_CODE_TEXT.match(value))


def realign_shifted_fields(fields: list[str], header: list[str]) -> list[str] | None:
    """Remove the one stray empty field of a tab-shifted line, if the realignment is unambiguous.

    Candidates are the removals of one empty field that leave every column well formed. They are
    compared on the columns the cache keeps: removing any empty of a run of empties, or any of
    several that differ only in columns nobody reads, gives the same kept values. Returns None
    when no candidate fits, or when candidates disagree on a kept value.
    """
    if len(fields) != len(header) + 1:
        return None
    kept = [header.index(c) for c in release_format.PROCEEDING_CACHE_COLUMNS if c in header]
    results = {}
    for position, value in enumerate(fields):
        if clean_code(value) != "":
            continue
        candidate = fields[:position] + fields[position + 1:]
        if all(map(_field_is_well_formed, header, candidate)):
            results.setdefault(tuple(candidate[i] for i in kept), candidate)
    return next(iter(results.values())) if len(results) == 1 else None


# --------------------------------------------------------------------------------------------
# B_TblProceeding: the engine pass


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


def read_proceedings(release: Release, out_path: Path, *, progress: bool = True, chunk_bytes: int = 16 << 20):
    """Stream B_TblProceeding into Parquet.

    A reading thread reads, hashes and counts pieces of whole lines; PARSE_THREADS workers
    parse and clean pieces in parallel; this thread merges their accounting and writes the
    Parquet row groups in file order. At most a few pieces are in memory at once.

    Returns (accounting, quarantined lines, sha256 of the table, (first, last) valid COMP_DATE).
    The sha256 is None for a zip release: its checksum is the zip file's, so the table's text is
    not hashed (2 CPU-seconds at full scale)."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

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
    bar = tqdm(total=release.table_size(table), unit="B", unit_scale=True, desc=f"Reading {table}",
               disable=not progress, mininterval=1.0)

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
                in_flight.append(workers.submit(_parse_proceeding_chunk, chunk, line_feeds, header, lines_before, where))
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
    + [pa.field("REPAIRED", pa.bool_(), nullable=False)])


# Dates and codes come dictionary-encoded straight from the parser. Ids are parsed as integers
# first; a piece where that fails is parsed again with ids as text, and checked id by id.
_PARSED_TYPES = {
    **{c: pa.string() for c in release_format.PROCEEDING_ID_COLUMNS},
    **{c: pa.dictionary(pa.int32(), pa.string()) for c in release_format.PROCEEDING_DATE_COLUMNS + release_format.PROCEEDING_CODE_COLUMNS},
}
_PARSED_TYPES_PLAIN_IDS = {**_PARSED_TYPES, **{c: pa.int64() for c in release_format.PROCEEDING_ID_COLUMNS}}


def _hashed_counted_pieces(stream, where: str, digest, chunk_bytes: int):
    """Pieces of whole lines with their line-feed counts; hashing (unless digest is None) and
    counting run here, in the reading thread, while the main thread parses the previous piece."""
    for piece in iter_line_chunks(stream, where, chunk_bytes):
        if digest is not None:
            digest.update(piece)
        yield piece, _count_line_feeds(piece)


def _count_line_feeds(piece) -> int:
    """numpy counts three times as fast as bytes.count, and lets go of the GIL while it does;
    slices of 256 kB keep the comparison's temporary array in the CPU cache."""
    values = np.frombuffer(piece, np.uint8)
    step = 1 << 18
    return sum(int(np.count_nonzero(values[i:i + step] == 10)) for i in range(0, len(values), step))


def _parse_proceeding_chunk(chunk, line_feeds: int, header: list[str], lines_before: int, where: str):
    """Parse and clean one piece of whole lines (runs in a worker thread).

    Returns (cleaned table, this piece's accounting, its quarantined lines)."""
    # The parser wants UTF-8; latin-1 is the same bytes as long as they are ASCII, so only
    # pieces with other bytes pay for transcoding.
    whole = chunk.obj if isinstance(chunk, memoryview) else chunk
    text = chunk if whole.isascii() else bytes(chunk).decode(release_format.ENCODING).encode("utf-8")
    try:  # ids straight to integers: the usual case, and the parser's fastest
        return _parse_piece(text, line_feeds, header, lines_before, where, plain_ids=True)
    except _IdsNotPlain:  # a padded, empty or non-numeric id: again, with ids as text
        return _parse_piece(text, line_feeds, header, lines_before, where, plain_ids=False)


class _IdsNotPlain(Exception):
    """Some id in the piece is not plain digits; the piece is parsed again with ids as text."""


def _parse_piece(text, line_feeds: int, header: list[str], lines_before: int, where: str, *, plain_ids: bool):
    accounting = TableAccounting(release_format.PROCEEDING_TABLE)
    types = _PARSED_TYPES_PLAIN_IDS if plain_ids else _PARSED_TYPES
    invalid: list = []
    try:
        parsed = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(text)),
            read_options=pacsv.ReadOptions(column_names=header, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False,
                                             ignore_empty_lines=False,
                                             invalid_row_handler=lambda row: invalid.append(row) or "skip"),
            # The text is valid UTF-8 (ASCII, or transcoded from latin-1 by the caller), and so is
            # every field cut from it at a tab: checking it again cost an eighth of the parse.
            convert_options=pacsv.ConvertOptions(include_columns=release_format.PROCEEDING_CACHE_COLUMNS,
                                                 column_types=types, strings_can_be_null=False,
                                                 check_utf8=False),
        )
    except pa.ArrowInvalid:
        if plain_ids:
            raise _IdsNotPlain() from None
        raise
    if plain_ids and any(parsed[name].null_count for name in release_format.PROCEEDING_ID_COLUMNS):
        raise _IdsNotPlain()  # an empty id field
    records_seen = parsed.num_rows + len(invalid)
    chunk_lines = line_feeds + (text[-1:] != b"\n")
    if records_seen != chunk_lines:  # lone CRs also end lines for the parser: count them too
        text = bytes(text)
        chunk_lines = _count_lines(text)
    if records_seen != chunk_lines:
        raise RuntimeError(f"{where}: parser saw {records_seen} records in a piece with {chunk_lines} lines")
    repaired_rows = []
    unrepaired = []  # (reason, raw line)
    for row in invalid:
        fields = row.text.split("\t")
        fixed = realign_shifted_fields(fields, header)
        if fixed is not None:
            repaired_rows.append(fixed)
            continue
        reason = (f"{len(fields)} fields, expected {len(header)}; stray field position ambiguous"
                  if len(fields) == len(header) + 1 else f"{len(fields)} fields, expected {len(header)}")
        unrepaired.append((reason, row.text))
    # Quarantined lines are found in a bytes copy of the piece, for their line numbers; a piece whose
    # wrong-length lines were all realigned (the usual case) needs no copy.
    searchable = bytes(text) if unrepaired else b""
    quarantine = [(_line_number(searchable, raw, lines_before), reason, raw) for reason, raw in unrepaired]
    if repaired_rows:
        positions = [header.index(c) for c in release_format.PROCEEDING_CACHE_COLUMNS]
        try:
            extra = pa.table({c: pa.array([r[i] for r in repaired_rows], pa.string()).cast(types[c])
                              for c, i in zip(release_format.PROCEEDING_CACHE_COLUMNS, positions)})
        except pa.ArrowInvalid:  # only when ids are integers here: a realigned line's id is not
            raise _IdsNotPlain() from None
        parsed = pa.concat_tables([parsed, extra])
        accounting.repaired += len(repaired_rows)
        accounting.issues[("", "tab-shifted line realigned (stray empty field removed)")] += len(repaired_rows)

    # Repaired lines keep a flag, so any count can be told with and without them.
    flags = np.zeros(parsed.num_rows, dtype=bool)
    flags[parsed.num_rows - len(repaired_rows):] = True
    repaired_flags = pa.array(flags)
    cleaned, bad_ids = _clean_proceedings(parsed, repaired_flags, accounting)
    if bad_ids:
        quarantine.extend(_quarantine_bad_ids(bad_ids, searchable or bytes(text), header, lines_before))
    for _, reason, _ in quarantine:
        accounting.issues[("", f"quarantined: {reason}")] += 1
    accounting.lines += chunk_lines
    accounting.loaded += cleaned.num_rows
    accounting.quarantined += len(quarantine)
    return cleaned, accounting, quarantine


def _count_lines(text: bytes) -> int:
    """Line breaks as the parser sees them: CRLF, LF, or a lone CR."""
    lines = text.count(b"\n") + text.count(b"\r") - text.count(b"\r\n")
    if not text.endswith((b"\n", b"\r")):
        lines += 1
    return lines


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
        fields = line.split("\t") if line else [""] * len(header)
        found_in = kept
        if len(fields) != len(header):
            fields, found_in = realign_shifted_fields(fields, header), realigned
            if fields is None:
                continue
        if not all(_WHOLE_NUMBER.fullmatch(clean_code(fields[i])) for i in id_positions):
            found_in.append((number, line))
    found = kept + realigned
    if len(found) != len(bad_ids):
        return [(None, reason, "\t".join(f"{k}={v}" for k, v in record.items())) for reason, record in bad_ids]
    return [(number, "empty line" if line == "" else reason, line) for (reason, _), (number, line) in zip(bad_ids, found)]


def _line_number(text: bytes, row_text: str, lines_before: int) -> int | None:
    """1-based line number in the file (the header is line 1) of a raw line, found by search."""
    position = text.find(row_text.encode("utf-8")) if row_text else -1
    if position < 0:
        return None
    return lines_before + text.count(b"\n", 0, position) + 2


def _clean_proceedings(parsed: pa.Table, repaired_flags: pa.Array, accounting: TableAccounting):
    """Typed, trimmed columns; rows whose ids are not whole numbers are split off for quarantine.

    The parser hands over dates and codes dictionary-encoded. They repeat a lot (a few thousand
    distinct values in millions of rows), so each is cleaned once per distinct value.
    """
    # One dictionary per column for the whole piece, so each column is cleaned in one go.
    parsed = parsed.unify_dictionaries()
    out = _whole_numbers(parsed)
    bad_ids = []
    if out is None:  # some id is padded or not a number: the slow, careful path
        ids = {name: _strip_codes(parsed[name]) for name in release_format.PROCEEDING_ID_COLUMNS}
        ids_ok = pc.and_(*(pc.match_substring_regex(ids[name], r"^\d{1,18}$") for name in ids))
        bad = pc.invert(ids_ok)
        for values in zip(*(pc.filter(parsed[name], bad).to_pylist() for name in release_format.PROCEEDING_CACHE_COLUMNS)):
            record = dict(zip(release_format.PROCEEDING_CACHE_COLUMNS, values))
            bad_ids.append((_bad_id_reason(record), record))
        parsed = parsed.filter(ids_ok)
        repaired_flags = pc.filter(repaired_flags, ids_ok.combine_chunks())
        out = {name: pc.cast(pc.filter(values, ids_ok), pa.int64()) for name, values in ids.items()}
    for name in release_format.PROCEEDING_DATE_COLUMNS:
        out[name], junk = parse_dates(parsed[name])
        if junk:
            accounting.issues[(name, "junk date set to null")] += junk
    for name in release_format.PROCEEDING_CODE_COLUMNS:
        out[name] = _clean_codes(parsed[name])
    out["REPAIRED"] = repaired_flags
    return pa.table(out, schema=_CACHE_SCHEMA), bad_ids


def _bad_id_reason(record: dict) -> str:
    """Why a row's ids cannot be cached: 'IDNCASE not a whole number', 'IDNPROCEEDING longer
    than 18 digits' (an int64 holds 18 digits whatever they are), or both ids named at once."""
    problems: dict[str, list[str]] = {}
    for name in release_format.PROCEEDING_ID_COLUMNS:
        value = clean_code(record[name])
        if not _WHOLE_NUMBER.fullmatch(value):
            too_long = value.isascii() and value.isdigit()
            problems.setdefault("longer than 18 digits" if too_long else "not a whole number", []).append(name)
    return "; ".join(f"{' and '.join(names)} {problem}" for problem, names in problems.items())


def _whole_numbers(parsed: pa.Table) -> dict | None:
    """The id columns as int64 if every value is plain digits (the usual case), else None."""
    try:
        return {name: pc.cast(parsed[name], pa.int64()) for name in release_format.PROCEEDING_ID_COLUMNS}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _strip_codes(values):
    return pc.utf8_trim_whitespace(pc.replace_substring(values, "\x00", ""))


def _as_dictionary_chunks(values) -> list[pa.DictionaryArray]:
    """Dictionary-encoded pieces of a column; one piece when the chunks share their dictionary."""
    if isinstance(values, pa.ChunkedArray):
        if pa.types.is_dictionary(values.type) and values.num_chunks > 1 and all(
                c.dictionary.equals(values.chunk(0).dictionary) for c in values.chunks[1:]):
            return [values.combine_chunks()]
        chunks = values.chunks
    else:
        chunks = [values]
    return [c if pa.types.is_dictionary(c.type) else c.dictionary_encode() for c in chunks]


def _clean_codes(values) -> pa.ChunkedArray:
    """Codes NUL-stripped and trimmed, empty as null, kept dictionary-encoded (small in memory
    and in Parquet); 'SEA' and 'SEA ' become one dictionary entry."""
    cleaned_chunks = []
    for chunk in _as_dictionary_chunks(values):
        stripped = _strip_codes(chunk.dictionary)
        cleaned = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped).dictionary_encode()
        indices = pc.take(cleaned.indices, chunk.indices)
        cleaned_chunks.append(pa.DictionaryArray.from_arrays(indices, cleaned.dictionary))
    return pa.chunked_array(cleaned_chunks, pa.dictionary(pa.int32(), pa.string()))


def _date_values(values: pa.Array) -> pa.Array:
    """Valid dates as date32; null for empty text and for junk."""
    text = _strip_codes(values)
    day_text = pc.utf8_slice_codeunits(text, 0, 10)
    parsed = pc.cast(pc.strptime(day_text, format="%Y-%m-%d", unit="s", error_is_null=True), pa.date32())
    shape_ok = pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?$")
    # Written back out by a cast (six times as fast as strftime), a date must equal its text.
    round_trip = pc.equal(pc.cast(parsed, pa.string()), day_text)
    valid = pc.and_kleene(pc.and_kleene(shape_ok, round_trip), pc.greater(pc.year(parsed), 1900))
    return pc.if_else(pc.fill_null(valid, False), parsed, pa.scalar(None, pa.date32()))


def parse_dates(values) -> tuple[pa.ChunkedArray, int]:
    """'2013-01-05 00:00:00.000' -> date; junk (year <= 1900, impossible day, not a date) -> null.

    strptime alone would roll 2013-02-30 over to March 2, so each parsed date is written back
    out and must equal its text. Returns the dates and the number of junk values nulled.
    """
    dates, junk = [], 0
    for chunk in _as_dictionary_chunks(values):
        distinct_dates = _date_values(chunk.dictionary)
        distinct_junk = pc.and_(pc.is_null(distinct_dates), pc.not_equal(_strip_codes(chunk.dictionary), ""))
        junk += pc.sum(pc.take(distinct_junk, chunk.indices)).as_py() or 0
        dates.append(pc.take(distinct_dates, chunk.indices))
    return pa.chunked_array(dates, pa.date32()), junk


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


# --------------------------------------------------------------------------------------------
# Lookup tables: small, read in Python so embedded line breaks can be rejoined


def read_lookup(release: Release, table: str) -> tuple[pd.DataFrame, TableAccounting, list[tuple]]:
    """Read a lookup table; a record broken by a line break inside a description is rejoined."""
    where = release.describe(table)
    raw = release.read_table_bytes(table)
    if not raw.strip():
        raise ReleaseError(f"{where}: empty file (no header line)")
    first_break = raw.find(b"\n") + 1 or len(raw)
    header = split_header(raw[:first_break], where)
    require_columns(header, release_format.LOOKUP_NEEDED_COLUMNS[table], where)
    physical = re.split(r"\r\n|\n|\r", raw[first_break:].decode(release_format.ENCODING))
    if physical and physical[-1] == "":
        physical.pop()  # the final line break ends the last line; it does not start a new one
    accounting = TableAccounting(table)
    quarantined = []
    records = []
    expected_tabs = len(header) - 1
    index = 0
    while index < len(physical):
        start = index
        record = physical[index]
        index += 1
        # A description with a line break splits one record over several lines: rejoin while the
        # pieces together still have no more fields than the header.
        while record.count("\t") < expected_tabs and index < len(physical) \
                and record.count("\t") + physical[index].count("\t") <= expected_tabs:
            record = record + " " + physical[index]
            index += 1
        accounting.lines += 1
        if record.count("\t") == expected_tabs:
            records.append([clean_code(v) for v in record.split("\t")])
            accounting.loaded += 1
            if index - start > 1:
                accounting.repaired += 1
                accounting.issues[("", "line break inside a field rejoined")] += 1
        else:
            reason = f"{record.count(chr(9)) + 1} fields, expected {len(header)}"
            quarantined.append((start + 2, reason, record))
            accounting.quarantined += 1
            accounting.issues[("", f"quarantined: {reason}")] += 1
    frame = pd.DataFrame(records, columns=header, dtype="string")
    frame = frame.loc[:, ~frame.columns.duplicated()]
    return frame, accounting, quarantined


# --------------------------------------------------------------------------------------------
# Handing the ingest over to the later notebooks of a run

INGEST_RECORD = "ingest.json"


def write_ingest_outputs(ingest: IngestResult, processed_dir) -> None:
    """row_accounting.csv, data_quality.csv and ingest.json (where later notebooks find the cache)."""
    processed_dir = Path(processed_dir)
    processed_dir.mkdir(parents=True, exist_ok=True)
    ingest.accounting.to_csv(processed_dir / "row_accounting.csv", index=False, lineterminator="\n")
    ingest.data_quality.to_csv(processed_dir / "data_quality.csv", index=False, lineterminator="\n")
    record = {**ingest.manifest, "cache_dir": str(ingest.cache_dir)}
    (processed_dir / INGEST_RECORD).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def load_ingest(processed_dir) -> IngestResult:
    """The ingest that notebook 01 recorded for this run."""
    path = Path(processed_dir) / INGEST_RECORD
    try:
        record = json.loads(path.read_text())
    except OSError:
        raise ReleaseError(f"{path}: missing; run notebook 01_ingest first (make all runs them in order)") from None
    return IngestResult(Path(record.pop("cache_dir")), record)


# --------------------------------------------------------------------------------------------
# Checks of a release's files that need no parsing: run before any notebook starts


def preflight(release_path, courts: tuple[str, ...] | None = None) -> None:
    """Check in a second what would otherwise fail mid-ingest: the tables exist, are TAB-delimited
    text with the needed columns, and have data lines; requested courts exist in the lookup.
    Raises ReleaseError (files) or ParameterError (courts), naming the file or parameter."""
    release = open_release(release_path)
    try:
        needed = {release_format.PROCEEDING_TABLE: release_format.PROCEEDING_CACHE_COLUMNS, **release_format.LOOKUP_NEEDED_COLUMNS}
        for table, columns in needed.items():
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
                raise ParameterError(f"courts: {', '.join(unknown)} is not a court in this release's "
                                     f"{release_format.BASE_CITY_TABLE}")
    finally:
        release.close()
