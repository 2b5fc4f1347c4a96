"""The accounting rules: what decides the fate of every data line of a release's tables.

Each data line ends up in exactly one place, and lines = loaded + quarantined (checked):
- loaded: the header's number of fields, and (B_TblProceeding) both ids whole numbers of 1 to 18
  digits once NUL bytes and padding are stripped;
- repaired, counted within loaded: a tab-shifted line whose one stray field (wherever it sits,
  empty or not) can be removed in only one way that leaves every column well formed
  (B_TblProceeding; the removed value is counted in data_quality.csv); a lookup record split by
  a line break inside a field, rejoined;
- quarantined with its reason: a wrong number of fields, an empty line, ids that are not whole
  numbers of at most 18 digits. Listed in quarantine/<table>.tsv, escaped as QUARANTINE_ESCAPES says.
In loaded lines, codes lose NUL bytes and padding (empty becomes null), and junk dates (year 1900
or earlier, impossible days such as 2013-02-30, text) and dates after the release's own date
(Release.latest_valid_date) become null, counted per column.
The reading machinery (ingest.py) applies these rules; it decides nothing itself.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from . import release_format

MAX_ID_DIGITS = 18  # an int64 holds any 18 digits
LAST_JUNK_YEAR = 1900  # dates in this year or earlier are placeholders, not dates

# Issues counted in data_quality.csv (column, issue) besides "quarantined: <reason>".
EMPTY_LINE = "empty line"
REALIGNED = "tab-shifted line realigned (stray empty field removed)"
REJOINED = "line break inside a field rejoined"
JUNK_DATE = "junk date set to null"
FUTURE_DATE = "date after the release date set to null"


@dataclass
class TableAccounting:
    """Where every data line of one table went, and the issues found on the way."""

    table: str
    lines: int = 0
    loaded: int = 0
    repaired: int = 0
    quarantined: int = 0
    published_count: int | None = None  # from the release's Count.txt, if it has one
    issues: Counter = field(default_factory=Counter)  # (column, issue) -> rows

    def quarantine(self, reason: str) -> None:
        self.quarantined += 1
        self.issues[("", f"quarantined: {reason}")] += 1

    def add(self, part: TableAccounting) -> None:
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
        return {
            "table": self.table,
            "lines": self.lines,
            "loaded": self.loaded,
            "repaired": self.repaired,
            "quarantined": self.quarantined,
        }

    def quality_rows(self) -> list[dict]:
        """data_quality.csv rows: each issue with its count, and a disagreement with Count.txt."""
        rows = [
            {"table": self.table, "column": column, "issue": issue, "rows": count}
            for (column, issue), count in sorted(self.issues.items())
        ]
        if self.published_count is not None and self.published_count != self.lines:
            rows.append(
                {
                    "table": self.table,
                    "column": "",
                    "rows": self.published_count,
                    "issue": f"Count.txt says {self.published_count} rows; file has {self.lines} data lines",
                }
            )
        return rows


def wrong_field_count(found: int, expected: int) -> str:
    return f"{found} fields, expected {expected}"


# --- Codes: NUL bytes and padding stripped before any use ------------------------------------


def clean_code(value: str) -> str:
    return value.replace("\x00", "").strip()


def strip_codes(values):
    """clean_code for an Arrow array."""
    return pc.utf8_trim_whitespace(pc.replace_substring(values, "\x00", ""))


def clean_codes(values) -> pa.ChunkedArray:
    """Codes cleaned, empty as null, kept dictionary-encoded; 'SEA' and 'SEA ' become one entry.
    Each distinct value is cleaned once (a few thousand in millions of rows)."""
    cleaned_chunks = []
    for chunk in _dictionary_chunks(values):
        stripped = strip_codes(chunk.dictionary)
        cleaned = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped).dictionary_encode()
        cleaned_chunks.append(
            pa.DictionaryArray.from_arrays(pc.take(cleaned.indices, chunk.indices), cleaned.dictionary)
        )
    return pa.chunked_array(cleaned_chunks, pa.dictionary(pa.int32(), pa.string()))


# --- Ids: whole numbers of 1 to 18 digits, else the line is quarantined ----------------------

_WHOLE_NUMBER = re.compile(rf"\d{{1,{MAX_ID_DIGITS}}}", re.ASCII)


def id_is_whole_number(value: str) -> bool:
    return bool(_WHOLE_NUMBER.fullmatch(clean_code(value)))


def ids_are_plain(values) -> bool:
    """True when every id is 1 to 18 ASCII digits as it stands: the usual case, needing no cleaning."""
    plain = pc.and_(pc.ascii_is_decimal(values), pc.less_equal(pc.binary_length(values), MAX_ID_DIGITS))
    return bool(pc.all(plain).as_py())


def ids_whole_number_mask(values):
    """id_is_whole_number for an Arrow array (of text already stripped by strip_codes)."""
    return pc.match_substring_regex(values, rf"^[0-9]{{1,{MAX_ID_DIGITS}}}$")


def bad_id_reason(record: dict[str, str]) -> str:
    """'IDNCASE not a whole number', 'IDNPROCEEDING longer than 18 digits', or both ids at once."""
    problems: dict[str, list[str]] = {}
    for name in release_format.PROCEEDING_ID_COLUMNS:
        value = clean_code(record[name])
        if not _WHOLE_NUMBER.fullmatch(value):
            too_long = value.isascii() and value.isdigit()
            problems.setdefault(f"longer than {MAX_ID_DIGITS} digits" if too_long else "not a whole number", []).append(
                name
            )
    return "; ".join(f"{' and '.join(names)} {problem}" for problem, names in problems.items())


# --- Dates: '2013-01-05 00:00:00.000' -> 2013-01-05; junk -> null, never a nearby date --------

_DATE_SHAPE = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?$"


def parse_dates(values, latest: date | None = None) -> tuple[pa.ChunkedArray, int, int]:
    """Dates; how many non-empty values were junk (nulled); how many were real days after
    `latest`, the release's own date (nulled too: a release cannot record what has not happened).
    strptime alone would roll 2013-02-30 over to March 2, so a parsed date must read back as its
    own text."""
    dates, junk, future = [], 0, 0
    for chunk in _dictionary_chunks(values):
        text = strip_codes(chunk.dictionary)
        day_text = pc.utf8_slice_codeunits(text, 0, 10)
        parsed = pc.cast(pc.strptime(day_text, format="%Y-%m-%d", unit="s", error_is_null=True), pa.date32())
        # Written back out by a cast (six times as fast as strftime).
        valid = pc.and_kleene(
            pc.and_kleene(
                pc.match_substring_regex(text, _DATE_SHAPE), pc.equal(pc.cast(parsed, pa.string()), day_text)
            ),
            pc.greater(pc.year(parsed), LAST_JUNK_YEAR),
        )
        valid = pc.fill_null(valid, False)
        if latest is not None:
            after = pc.and_(valid, pc.fill_null(pc.greater(parsed, pa.scalar(latest, pa.date32())), False))
            if pc.any(after).as_py():  # counted over the rows only when some distinct value is late
                future += pc.sum(pc.take(after, chunk.indices)).as_py() or 0
                valid = pc.and_(valid, pc.invert(after))
        distinct = pc.if_else(valid, parsed, pa.scalar(None, pa.date32()))
        distinct_junk = pc.and_(pc.is_null(distinct), pc.not_equal(text, ""))
        junk += pc.sum(pc.take(distinct_junk, chunk.indices)).as_py() or 0
        dates.append(pc.take(distinct, chunk.indices))
    return pa.chunked_array(dates, pa.date32()), junk - future, future


def _dictionary_chunks(values) -> list[pa.DictionaryArray]:
    """Dictionary-encoded pieces of a column; one piece when the chunks share their dictionary."""
    if isinstance(values, pa.ChunkedArray):
        if (
            pa.types.is_dictionary(values.type)
            and values.num_chunks > 1
            and all(c.dictionary.equals(values.chunk(0).dictionary) for c in values.chunks[1:])
        ):
            return [values.combine_chunks()]
        chunks = values.chunks
    else:
        chunks = [values]
    return [c if pa.types.is_dictionary(c.type) else c.dictionary_encode() for c in chunks]


# --- Tab-shifted lines (B_TblProceeding): realign only when there is one way to -------------

_ID_COLUMNS = set(release_format.PROCEEDING_ID_COLUMNS)
_DATE_COLUMNS = {c for c in release_format.PROCEEDING_COLUMNS if "DATE" in c} - {"DATE_APPEAL_DUE_STATUS"}
_DATE_OR_CODE_COLUMNS = {"DATE_APPEAL_DUE_STATUS", "VENUE_CHG_GRANTED"}  # the name does not settle it
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}")
_ID_TEXT = re.compile(r"^\d+$")
_TIME_TEXT = re.compile(r"^\d{0,4}$")  # HEARING_TIME: 0900
_CODE_TEXT = re.compile(r"^[A-Za-z0-9 ]{0,12}$")


def field_is_well_formed(column: str, value: str) -> bool:
    value = clean_code(value)
    if column in _ID_COLUMNS:
        return bool(_ID_TEXT.match(value))
    if column in _DATE_COLUMNS:
        return value == "" or bool(_DATE_TEXT.match(value))
    if column in _DATE_OR_CODE_COLUMNS:
        return bool(_DATE_TEXT.match(value) or _CODE_TEXT.match(value))
    if column == "HEARING_TIME":
        return bool(_TIME_TEXT.match(value))
    if column in release_format.CODE_MAX_LENGTH:
        marks = release_format.CODE_PUNCTUATION.get(column, "")
        text = value.translate({ord(mark): "A" for mark in marks}) if marks else value
        return len(value) <= release_format.CODE_MAX_LENGTH[column] and bool(_CODE_TEXT.match(text))
    return bool(_CODE_TEXT.match(value))


@dataclass
class Realignment:
    """A tab-shifted line put right: its fields, and the stray field removed (its value, and the
    column it was found in front of)."""

    fields: list[str]
    position: int
    removed: str

    def issue(self, header: list[str]) -> tuple[str, str]:
        """The (column, issue) counted in data_quality.csv: the stray field's value, and the column
        it sat in front of ('' at the end of the line)."""
        column = header[self.position] if self.position < len(header) else ""
        value = clean_code(self.removed)
        if not value:
            return column, REALIGNED
        shown = value if len(value) <= 40 else value[:40] + "..."
        return column, f"tab-shifted line realigned (stray field {shown!r} removed)"


def realign(fields: list[str], header: list[str]) -> Realignment | None:
    """The line without its one stray field, if exactly one realignment fits; else None.

    Candidates are the removals of one field that leave every column well formed
    (field_is_well_formed: ids whole numbers, dates date-shaped, codes of their column's length),
    compared on the columns the cache keeps: removing any field of a run of empties, or any of
    several removals that differ only in columns nobody reads, gives the same kept values and
    counts as one. The removals of an empty field are tried first; only when none of them fits are
    the removals of a non-empty field tried (public loaders find the stray cells of real releases
    before COMP_DATE, and nobody has shown that they are always empty). Exactly one outcome in the
    first pass that has any is a repair; more than one is ambiguous (quarantined). The removal
    recorded is the first (leftmost) of those that give the kept values."""
    if len(fields) != len(header) + 1:
        return None
    kept = [header.index(c) for c in release_format.PROCEEDING_CACHE_COLUMNS if c in header]
    for want_empty in (True, False):
        results: dict[tuple, Realignment] = {}
        for position, value in enumerate(fields):
            if (clean_code(value) == "") != want_empty:
                continue
            candidate = fields[:position] + fields[position + 1 :]
            if all(map(field_is_well_formed, header, candidate)):
                results.setdefault(tuple(candidate[i] for i in kept), Realignment(candidate, position, value))
                if len(results) > 1:
                    return None
        if results:
            return next(iter(results.values()))
    return None


def realign_or_reason(fields: list[str], header: list[str]) -> tuple[Realignment | None, str | None]:
    """A line with the wrong number of fields: (realignment, None) or (None, why quarantined)."""
    fixed = realign(fields, header)
    if fixed is not None:
        return fixed, None
    reason = wrong_field_count(len(fields), len(header))
    if len(fields) == len(header) + 1:
        reason += "; stray field position ambiguous"
    return None, reason


# --- Lookup tables: a record broken by a line break inside a description is rejoined ---------


def lookup_records(table: str, lines: list[str], columns: int) -> tuple[list[list[str]], TableAccounting, list]:
    """Records of cleaned fields, the accounting, and (line number, reason, raw) of quarantined lines.
    Physical lines are joined (with a space) while together they still have no more fields than
    the header; a record that still has the wrong number of fields is quarantined."""
    accounting, records, quarantined = TableAccounting(table), [], []
    tabs = columns - 1
    index = 0
    while index < len(lines):
        start, record = index, lines[index]
        index += 1
        while (
            record.count("\t") < tabs and index < len(lines) and record.count("\t") + lines[index].count("\t") <= tabs
        ):
            record = record + " " + lines[index]
            index += 1
        accounting.lines += 1
        if record.count("\t") == tabs:
            records.append([clean_code(v) for v in record.split("\t")])
            accounting.loaded += 1
            if index - start > 1:
                accounting.repaired += 1
                accounting.issues[("", REJOINED)] += 1
        else:
            reason = wrong_field_count(record.count("\t") + 1, columns)
            quarantined.append((start + 2, reason, record))  # the header is line 1
            accounting.quarantine(reason)
    return records, accounting, quarantined


# --- Lookups with repeated keys: one row per key, by one stated rule ---------------------------

REPEATED_KEY = "repeated key: one row kept (active, then latest datModifiedOn, then highest id)"
SHARED_HLOC_CODE = "code listed for several base cities (each proceeding takes its own court's row)"
_ACTIVE_TEXT = {"1", "TRUE", "T", "Y", "YES"}


def reduce_lookup(frame, table: str, accounting: TableAccounting | None = None):
    """One row per key (release_format.LOOKUP_KEYS) of a lookup read as text.

    Among rows with the same key: an active row (blnActive 1/True/Y) before an inactive one, then
    the latest datModifiedOn (a junk or empty date counts as the oldest), then the highest id, then
    the row's text (so that even rows equal in all of these give one answer). The pick depends on
    the rows only, never on their order in the file. Keys that repeat are counted, per table, in
    accounting.issues. Sorted by key, so the cached lookup is the same whatever the file's order."""
    import pandas as pd

    keys = [k for k in release_format.LOOKUP_KEYS[table] if k in frame.columns]
    if frame.empty or not keys:
        return frame.reset_index(drop=True)
    active_col, modified_col, id_col = release_format.LOOKUP_ROW_ORDER[table]
    text = frame.astype("string").fillna("")

    def column(name):
        return text[name] if name in text.columns else pd.Series("", index=text.index, dtype="string")

    modified = column(modified_col).str.slice(0, 23)
    modified = modified.where(modified.str.match(r"^\d{4}-\d{2}-\d{2}"), "")
    order = pd.DataFrame(
        {
            "_active": column(active_col).str.strip().str.upper().isin(_ACTIVE_TEXT),
            "_modified": modified,
            "_id": pd.to_numeric(column(id_col).str.strip(), errors="coerce").fillna(-1),
            "_row": text.apply(lambda row: "\t".join(row), axis=1) if len(text) else "",
        },
        index=text.index,
    )
    ranked = pd.concat([text, order], axis=1).sort_values(
        [*keys, "_active", "_modified", "_id", "_row"],
        ascending=[True] * len(keys) + [False, False, False, True],
        kind="mergesort",
    )
    repeated = ranked.duplicated(keys, keep=False)
    if accounting is not None and repeated.any():
        repeated_keys = int(ranked.loc[repeated, keys].drop_duplicates().shape[0])
        accounting.issues[("+".join(keys), REPEATED_KEY)] += repeated_keys
        accounting.issues[("+".join(keys), "rows dropped as repeats of a kept key")] += (
            int(repeated.sum()) - repeated_keys
        )
    kept = ranked.drop_duplicates(keys, keep="first").drop(columns=list(order.columns))
    if accounting is not None and table == release_format.HLOC_TABLE:
        # A hearing code kept once per court (IAD): counted, as the join on code and court needs it.
        shared = int((kept.groupby("HEARING_LOC_CODE").size() > 1).sum())
        if shared:
            accounting.issues[("HEARING_LOC_CODE", SHARED_HLOC_CODE)] += shared
    return kept.reset_index(drop=True)


# --- The quarantine file: line, reason, raw_line; escapes keep each line one row ---------------

QUARANTINE_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\r": "\\r", "\n": "\\n", "\x00": "\\0"}
_ESCAPE_TABLE = str.maketrans(QUARANTINE_ESCAPES)


def escape_raw_line(raw: str) -> str:
    return raw.translate(_ESCAPE_TABLE)


def write_quarantine(path, quarantined: list[tuple]) -> None:
    """(line number or None, reason, raw line) rows as a UTF-8 TSV; nothing when there are none."""
    if not quarantined:
        return
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("line\treason\traw_line\n")
        for line_number, reason, raw in quarantined:
            out.write(f"{'' if line_number is None else line_number}\t{reason}\t{escape_raw_line(raw)}\n")
