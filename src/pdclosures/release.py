"""A release on disk, zipped or unpacked: find and open its tables; its checksum and release date.

Releases have moved their files between folders and changed letter case over the years, so tables
are found by file name (case-insensitive) at any depth. Zip members are streamed: nothing is
unpacked to disk. `make download` leaves a record beside the zip (`<zip>.download.json`, written by
download.py); this module reads it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import release_format
from .cleaning import clean_code
from .errors import ReleaseError

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
SYNTHETIC_MARKER = "SYNTHETIC_SAMPLE_README.txt"
COUNT_FILE = "count.txt"


def _read_deflate64() -> None:
    """Let zipfile read Deflate64 members (some releases use it) through zipfile-inflate64.

    Its version 0.1 also replaces zipfile's compressor factory with one that drops the compression
    level argument, so writing any compressed zip in the same process fails with a TypeError. Only
    reading is needed here: zipfile's own compressor factory is put back."""
    compressor = zipfile._get_compressor
    try:
        import zipfile_inflate64  # noqa: F401  (registers the codec with zipfile on import)
    except ImportError:  # pragma: no cover - a dependency; open_table says what to install
        return
    zipfile._get_compressor = compressor


_read_deflate64()


@dataclass
class Release:
    """A release on disk: a zip file or a folder, with the location of each table found in it."""

    path: Path
    is_zip: bool
    members: dict[str, str]  # lower-case table name -> zip member name or path relative to folder
    synthetic: bool
    count_file: str | None
    _zip: zipfile.ZipFile | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.path.name

    def has_table(self, table: str) -> bool:
        return table.lower() in self.members

    def tables_to_read(self) -> list[str]:
        """The tables the pipeline reads: every required one, then the optional lookups it has."""
        return release_format.TABLES + [t for t in release_format.OPTIONAL_LOOKUPS if self.has_table(t)]

    def member(self, table: str) -> str:
        try:
            return self.members[table.lower()]
        except KeyError:
            raise ReleaseError(
                f"{self.path}: no {table} table found (looked for {table}.csv at any depth, any letter case)"
            ) from None

    def describe(self, table: str) -> str:
        """How to name a table's file in messages: 'release.zip:folder/table.csv'."""
        return f"{self.path}:{self.member(table)}" if self.is_zip else str(self.path / self.member(table))

    def table_size(self, table: str) -> int:
        member = self.member(table)
        if self.is_zip:
            return self._zip.getinfo(member).file_size
        return (self.path / member).stat().st_size

    def open_table(self, table: str):
        """A binary stream of the table's bytes (decompressed on the fly for zips)."""
        member = self.member(table)
        if not self.is_zip:
            return open(self.path / member, "rb")
        try:
            return self._zip.open(member)
        except NotImplementedError:  # a compression method zipfile cannot read
            method = self._zip.getinfo(member).compress_type
            needs = "zipfile-inflate64 (pip install zipfile-inflate64)" if method == 9 else "another unzip tool"
            raise ReleaseError(
                f"{self.describe(table)}: compressed with method {method} "
                f"({zipfile.compressor_names.get(method, 'unknown')}), which needs {needs}"
            ) from None

    def read_table_bytes(self, table: str) -> bytes:
        with self.open_table(table) as stream:
            return _read_all(stream, self.describe(table))

    def published_counts(self) -> dict[str, int]:
        """Row counts from Count.txt, when the release has one: {lower-case table name: rows}."""
        if self.count_file is None:
            return {}
        if self.is_zip:
            text = self._zip.read(self.count_file).decode(release_format.ENCODING)
        else:
            text = (self.path / self.count_file).read_text(encoding=release_format.ENCODING)
        counts = {}
        for line in text.splitlines():
            match = re.match(r"\s*([A-Za-z_][\w]*)(?:\.\w+)?\s*[\t,:=\s]\s*([\d,]+)\s*$", line)
            if match:
                counts[match.group(1).lower()] = int(match.group(2).replace(",", ""))
        return counts

    def fingerprint(self, tables: list[str]) -> dict:
        """Size and modification time of what a cache depends on: the zip, or the table files."""
        if self.is_zip:
            stat = self.path.stat()
            return {"path": str(self.path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        files = {}
        for table in tables:
            stat = (self.path / self.member(table)).stat()
            files[self.member(table)] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        return {"path": str(self.path.resolve()), "files": files}

    def release_id(self, tables: list[str]) -> str:
        """A folder-safe id that changes whenever the release's files change size or mtime."""
        stem = re.sub(r"[^A-Za-z0-9]+", "-", self.path.stem if self.is_zip else self.path.name).strip("-")
        digest = hashlib.sha256(repr(self.fingerprint(tables)).encode()).hexdigest()[:12]
        return f"{stem.lower() or 'release'}-{digest}"

    @property
    def checksum_of(self) -> str:
        return "zip file" if self.is_zip else "table files"

    def checksum(self, known: dict[str, str] | None = None) -> str:
        """SHA-256 of the release, checkable with sha256sum (README, "Outputs").

        A zip: the zip file's, taken from its download record while the file keeps the recorded
        size and modification time (hashing 4 GB costs seconds). A folder: the SHA-256 of
        sha256sum's output for the tables the pipeline reads (release_format.TABLES, in that
        order, paths relative to the folder). `known` gives digests already taken, by member."""
        if self.is_zip:
            return recorded_sha256(self.path) or sha256_file(self.path)
        known = known or {}
        listing = ""
        for table in release_format.TABLES:
            member = self.member(table)
            listing += f"{known.get(member) or sha256_file(self.path / member)}  {member}\n"
        return hashlib.sha256(listing.encode()).hexdigest()

    def release_date(self) -> str | None:
        """The publication date: from the download record (the server's Last-Modified), else the
        newest member date of the zip if it looks real (not the 1980 zip epoch); None for a folder."""
        if not self.is_zip:
            return None
        record = read_download_record(self.path)
        if record and record.get("last_modified_date"):
            return record["last_modified_date"]
        newest = max((info.date_time for info in self._zip.infolist()), default=None)
        return "%04d-%02d-%02d" % newest[:3] if newest and newest[0] > 1990 else None

    def latest_valid_date(self, today: dt.date | None = None) -> tuple[dt.date, str]:
        """The last day a date in the release can be: (the day, where it comes from).

        The release date (release_date()) if known; else the newest modification time of the table
        files (a folder) or of the zip file: the day they were written, never before the release was
        published, so a date after it cannot be real. Never later than today (UTC): a date in the
        future is not plausible whatever the files say."""
        today = today or dt.datetime.now(dt.timezone.utc).date()
        published = self.release_date()
        if published:
            return min(dt.date.fromisoformat(published), today), "release date"
        if self.is_zip:
            stamps, rule = [self.path.stat().st_mtime], "modification time of the zip file"
        else:
            stamps = [(self.path / self.member(t)).stat().st_mtime for t in self.tables_to_read() if self.has_table(t)]
            rule = "newest modification time of the table files"
        newest = dt.datetime.fromtimestamp(max(stamps), dt.timezone.utc).date()
        return min(newest, today), rule

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def open_release(path: str | os.PathLike) -> Release:
    """Open a release zip or unpacked folder and locate its tables by file name."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ReleaseError(f"{path}: release not found (pass RELEASE=path to the zip or its unpacked folder)")
    if path.is_dir():
        names = [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
        return _index(path, names, is_zip=False, archive=None)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ReleaseError(f"{path}: not a zip file (or a truncated one); pass the release zip or its folder") from None
    except OSError as error:
        raise ReleaseError(f"{path}: cannot open release: {error.strerror or error}") from None
    names = [info.filename for info in archive.infolist() if not info.is_dir()]
    return _index(path, names, is_zip=True, archive=archive)


def _index(path: Path, names: list[str], *, is_zip: bool, archive) -> Release:
    members: dict[str, str] = {}
    synthetic = False
    count_file = None
    for name in sorted(names):
        base = name.rsplit("/", 1)[-1]
        if base.startswith(("._", "~$")) or "__MACOSX" in name:
            continue  # macOS resource forks and Office lock files
        if base.lower() == SYNTHETIC_MARKER.lower():
            synthetic = True
        elif base.lower() == COUNT_FILE:
            count_file = name
        stem, suffix = os.path.splitext(base)
        if suffix.lower() not in TABLE_SUFFIXES:
            continue
        key = stem.lower()
        if key in members and members[key] != name:
            raise ReleaseError(f"{path}: table {stem} found twice ({members[key]} and {name}); keep one")
        members[key] = name
    return Release(path, is_zip, members, synthetic, count_file, archive)


def split_header(raw: bytes, where: str) -> list[str]:
    """The header's column names (renamed columns under their current names: release_format.
    COLUMN_ALIASES), after checking the file is TAB-delimited latin-1 text at all."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or raw[1::2].count(b"\x00") > len(raw) // 4:
        raise ReleaseError(f"{where}: looks like UTF-16 text; expected latin-1, TAB-delimited")
    text = raw.decode(release_format.ENCODING).rstrip("\r\n")
    if sum(ch < " " and ch not in "\t\r\n" for ch in text) > 2:
        raise ReleaseError(f"{where}: header is not text (binary bytes); expected a TAB-delimited table")
    if release_format.DELIMITER not in text:
        kind = "comma-separated" if text.count(",") > 1 else "not TAB-delimited"
        raise ReleaseError(f"{where}: header is {kind}; expected TAB-delimited columns")
    names = [clean_code(name) for name in text.split(release_format.DELIMITER)]
    # An old name takes its current one, unless the file also has a column of the current name.
    aliases = release_format.COLUMN_ALIASES
    return [aliases[name] if name in aliases and aliases[name] not in names else name for name in names]


def require_columns(header: list[str], needed: list[str], where: str) -> None:
    missing = [name for name in needed if name not in header]
    if missing:
        raise ReleaseError(f"{where}: missing column {', '.join(missing)} (found: {', '.join(header[:12])}...)")


def _read_all(stream, where: str) -> bytes:
    try:
        return stream.read()
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, OSError) as error:
        raise ReleaseError(f"{where}: cannot read (truncated or corrupt zip member: {error})") from None


def iter_line_chunks(stream, where: str, chunk_bytes: int = 64 << 20):
    """Yield the stream's bytes as memoryviews of about chunk_bytes that end on a line break.

    A plain file is read without copying: after each read it seeks back to the start of the
    unfinished last line. A zip member cannot seek back cheaply, so its unfinished line is
    carried over and joined to the next read.
    """
    seekable = isinstance(stream, io.BufferedReader)
    carry = b""
    while True:
        try:
            block = stream.read(chunk_bytes)
        except (zipfile.BadZipFile, EOFError, OSError) as error:
            raise ReleaseError(f"{where}: cannot read (truncated or corrupt zip member: {error})") from None
        if not block:
            break
        if carry:
            block = carry + block
            carry = b""
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            carry = block  # no line end yet: read on
            continue
        if cut < len(block):
            if seekable:
                stream.seek(cut - len(block), io.SEEK_CUR)
            else:
                carry = block[cut:]
        yield memoryview(block)[:cut]
    if carry:
        yield memoryview(carry)


def sha256_file(path: Path, block: int = 8 << 20, on_block=None) -> str:
    """SHA-256 of a file, read in blocks; on_block(size) is told of each (for a progress bar)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(block), b""):
            digest.update(piece)
            if on_block is not None:
                on_block(len(piece))
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# The download record: `<zip>.download.json`, written by download.py beside the zip


def record_path(zip_path: Path | str) -> Path:
    zip_path = Path(zip_path)
    return zip_path.with_name(zip_path.name + ".download.json")


def read_download_record(zip_path: Path | str) -> dict | None:
    """The provenance recorded when `zip_path` was downloaded, or None if there is none.

    Keys: url, file, size (bytes), last_modified (the header, i.e. the release date, as sent),
    last_modified_date (its ISO date), etag, sha256, mtime_ns (the saved file's modification time;
    records written before it was added lack it), downloaded_at (ISO, UTC).
    A record whose size differs from the file on disk (the file was replaced since) counts as none.
    """
    zip_path = Path(zip_path)
    try:
        record = json.loads(record_path(zip_path).read_text(encoding="utf-8"))
        size = zip_path.stat().st_size
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("size") != size:
        return None
    return record


def recorded_sha256(zip_path: Path | str) -> str | None:
    """The SHA-256 recorded at download, if the file still has the recorded size and modification
    time (the test the cache itself trusts); None otherwise, or for a record without mtime_ns."""
    record = read_download_record(zip_path)
    if record and record.get("sha256") and record.get("mtime_ns") == Path(zip_path).stat().st_mtime_ns:
        return record["sha256"]
    return None
