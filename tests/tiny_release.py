"""Hand-built tiny releases in the real file format, for tests with known answers."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import inflate64

from pdclosures import release_format

COURTS = [  # code, city, state, region
    ("SEA", "SEATTLE", "WA", "Western"),
    ("TUC", "TUCSON", "AZ", "Western"),
    ("HOU", "HOUSTON", "TX", "Eastern"),
    ("NYC", "NEW YORK", "NY", "Eastern"),
]
HEARING_LOCATIONS = [  # code, name, city, state, base city, circuit
    ("SEA", "SEATTLE IMMIGRATION COURT", "SEATTLE", "WA", "SEA", "9"),
    ("TAC", "TACOMA DETENTION", "TACOMA", "WA", "SEA", "9"),
    ("TUC", "TUCSON IMMIGRATION COURT", "TUCSON", "AZ", "TUC", "9"),
    ("HOU", "HOUSTON IMMIGRATION COURT", "HOUSTON", "TX", "HOU", "5"),
    ("NYC", "NEW YORK IMMIGRATION COURT", "NEW YORK", "NY", "NYC", "2"),
]


NATIONALITIES = [("MX", "MEXICO"), ("CH", "CHINA"), ("KS", "SOUTH KOREA"), ("??", "UNKNOWN NATIONALITY")]
CUSTODY_STATUSES = [("D", "Detained"), ("N", "Never Detained"), ("R", "Released")]
LANGUAGES = [("SP ", "SPANISH"), ("MAN", "MANDARIN"), ("KOR", "KOREAN"), ("ENG", "ENGLISH")]  # 'SP ': padded


def proceeding(
    idn,
    case=None,
    court="SEA",
    comp="2013-01-15",
    other="",
    dec="",
    case_type="RMV",
    hloc=None,
    nat="",
    custody="",
    lang="",
    judge="",
    **extra,
) -> dict:
    """One B_TblProceeding row as a dict of column -> text (dates like the release writes them).
    A merits decision (dec) has a decision type, as every real one does (DEC_TYPE O: oral)."""
    row = {c: "" for c in release_format.PROCEEDING_COLUMNS}
    row.update(
        IDNPROCEEDING=str(idn),
        IDNCASE=str(case if case is not None else idn),
        BASE_CITY_CODE=court,
        HEARING_LOC_CODE=hloc if hloc is not None else court,
        IJ_CODE=judge,
        OTHER_COMP=other,
        DEC_TYPE="O" if dec else "",
        DEC_CODE=dec,
        CASE_TYPE=case_type,
        NAT=nat,
        CUSTODY=custody,
        LANG=lang,
        OSC_DATE="2012-01-05 00:00:00.000",
        INPUT_DATE="2012-01-06 00:00:00.000",
        COMP_DATE=f"{comp} 00:00:00.000" if comp and len(comp) == 10 else (comp or ""),
    )
    row.update(extra)
    return row


def proceeding_line(row: dict, columns=release_format.PROCEEDING_COLUMNS) -> str:
    return "\t".join(row.get(c, "") for c in columns)


LOOKUP_COLUMNS = release_format.LOOKUP_COLUMNS


def lookup_lines(table: str, rows: list[dict]) -> list[str]:
    """A lookup's header and one line per row (a dict of column -> text; other columns empty)."""
    columns = LOOKUP_COLUMNS[table]
    return ["\t".join(columns), *("\t".join(row.get(c, "") for c in columns) for row in rows)]


def lookup_tables() -> dict[str, list[str]]:
    def line(values: dict, columns):
        return "\t".join(values.get(c, "") for c in columns)

    base = [
        line(
            {
                "idnBaseCity": str(i),
                "BASE_CITY_CODE": code,
                "BASE_CITY_NAME": "IMMIGRATION COURT",
                "BASE_CITY": city,
                "BASE_STATE": state,
                "strRegion": region,
            },
            release_format.BASE_CITY_COLUMNS,
        )
        for i, (code, city, state, region) in enumerate(COURTS, 1)
    ]
    hloc = [
        line(
            {
                "idnHloc": str(i),
                "HEARING_LOC_CODE": code,
                "HEARING_LOC_NAME": name,
                "HEARING_CITY": city,
                "HEARING_STATE": state,
                "HEARING_BASE_CITY": base_city,
                "CircuitCourt": circuit,
            },
            release_format.HLOC_COLUMNS,
        )
        for i, (code, name, city, state, base_city, circuit) in enumerate(HEARING_LOCATIONS, 1)
    ]
    decisions = [
        line(
            {
                "idnCourtDecision": str(i),
                "strCaseType": "RMV",
                "strDecCode": code,
                "strDecDescription": text,
                "strDecType": "O",
                "blnActive": "1",
                "datCreatedOn": "2011-07-01 00:00:00.000",
            },
            release_format.DECISION_COLUMNS,
        )
        for i, (code, text) in enumerate(
            [("Y", "Prosecutorial Discretion - Admin Close"), ("C", "Change of venue"), ("T", "Transfer")], 1
        )
    ]
    case_types = [
        line({"idnCaseType": "1", "strCode": "RMV", "strDescription": "Removal"}, release_format.CASE_TYPE_COLUMNS)
    ]
    nationalities = [
        {"ID": str(i), "NAT_CODE": code, "NAT_NAME": name, "blnActive": "1"}
        for i, (code, name) in enumerate(NATIONALITIES, 1)
    ]
    custody = [
        {"idnCustodyStatus": str(i), "strCode": code, "strDescription": name, "blnActive": "1"}
        for i, (code, name) in enumerate(CUSTODY_STATUSES, 1)
    ]
    languages = [
        {"idnLang": str(i), "strCode": code, "strDescription": name, "blnActive": "1"}
        for i, (code, name) in enumerate(LANGUAGES, 1)
    ]
    return {
        release_format.BASE_CITY_TABLE: ["\t".join(release_format.BASE_CITY_COLUMNS), *base],
        release_format.HLOC_TABLE: ["\t".join(release_format.HLOC_COLUMNS), *hloc],
        release_format.DECISION_TABLE: ["\t".join(release_format.DECISION_COLUMNS), *decisions],
        release_format.CASE_TYPE_TABLE: ["\t".join(release_format.CASE_TYPE_COLUMNS), *case_types],
        release_format.NATIONALITY_TABLE: lookup_lines(release_format.NATIONALITY_TABLE, nationalities),
        release_format.CUSTODY_TABLE: lookup_lines(release_format.CUSTODY_TABLE, custody),
        release_format.LANGUAGE_TABLE: lookup_lines(release_format.LANGUAGE_TABLE, languages),
    }


def write_release(
    dest: Path,
    proceeding_lines: list[str] | bytes,
    *,
    zipped: bool = False,
    deflate64: bool = False,
    folder: str = "EOIR Case Data/",
    lower_case: bool = False,
    header: str | None = None,
    lookups: dict[str, list[str] | bytes] | None = None,
    extra_files: dict[str, bytes] | None = None,
    drop_tables: tuple[str, ...] = (),
    data_folder: str = "",
) -> Path:
    """Write a release (a zip, a Deflate64 zip, or a folder) with the given B_TblProceeding data lines.

    The layout is the current one (April 2026): data tables directly in `folder` ("EOIR Case Data/"),
    lookups in its Lookup/; data_folder="Data/" gives the older layout with a Data/ folder. Every
    lookup of lookup_tables() is written, the three optional ones too; drop_tables leaves tables out
    (e.g. (release_format.NATIONALITY_TABLE,) for a release without that lookup)."""
    files = {}
    if isinstance(proceeding_lines, bytes):
        files[f"{data_folder}{release_format.PROCEEDING_TABLE}.csv"] = proceeding_lines
    else:
        head = header if header is not None else "\t".join(release_format.PROCEEDING_COLUMNS)
        files[f"{data_folder}{release_format.PROCEEDING_TABLE}.csv"] = _encode([head, *proceeding_lines])
    for table, lines in {**lookup_tables(), **(lookups or {})}.items():
        files[f"Lookup/{table}.csv"] = lines if isinstance(lines, bytes) else _encode(lines)
    files = {
        folder + (name.lower() if lower_case else name): data
        for name, data in files.items()
        if not any(("/" + name).endswith(f"/{t}.csv") for t in drop_tables)
    }
    files.update(extra_files or {})
    if deflate64:
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_deflate64_zip(dest, files)
    elif zipped:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
    else:
        for name, data in files.items():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(data)
    return dest


DEFLATE64 = 9  # the zip compression method number of Deflate64 ("Enhanced Deflating")
MEMBER_DATE = (2026, 4, 1)  # the modification date of every member of write_deflate64_zip


def write_deflate64_zip(dest: Path, files: dict[str, bytes]) -> None:
    """A zip whose members are compressed with Deflate64, written byte by byte as the zip format
    (PKWARE APPNOTE, sections 4.3.7, 4.3.12, 4.3.16) lays it out, so no zip writer is involved."""
    year, month, day = MEMBER_DATE
    dos_date = (year - 1980) << 9 | month << 5 | day
    body, directory = bytearray(), bytearray()
    for name, data in files.items():
        deflater = inflate64.Deflater()
        packed = deflater.deflate(data) + deflater.flush()
        encoded = name.encode()
        # version needed (2.1 for Deflate64), flags, method, time, date, CRC-32, sizes, name and extra lengths
        common = struct.pack(
            "<HHHHHIIIHH", 21, 0, DEFLATE64, 0, dos_date, zlib.crc32(data), len(packed), len(data), len(encoded), 0
        )
        # version made by, common fields, comment length, disk, internal and external attributes, offset
        directory += b"PK\x01\x02" + struct.pack("<H", 21) + common + struct.pack("<HHHII", 0, 0, 0, 0, len(body))
        directory += encoded
        body += b"PK\x03\x04" + common + encoded + packed
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(files), len(files), len(directory), len(body), 0)
    dest.write_bytes(bytes(body + directory + end))


def _encode(lines: list[str]) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode(release_format.ENCODING)
