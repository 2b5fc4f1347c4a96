"""A later SYNTHETIC "release" derived from any release: some proceedings removed, some added, some
recoded, some with their completion date moved or their court changed, as EOIR's database changes
between releases. It exists so that `make compare` has two releases to compare offline.

    python -m pdclosures.later_release --source data/sample/eoir_synthetic_sample.zip \\
        --out data/sample/eoir_synthetic_sample_later.zip        (make sample-later)

The same source and seed give the same bytes. Only well-formed lines (the header's number of
fields, whole-number ids, a valid or empty COMP_DATE, clean codes) are changed; every other line,
quirks included, is copied as it is, and the lookup tables are copied byte for byte. The result is
always labelled synthetic (SYNTHETIC_SAMPLE_README.txt), whatever the source: its changes are made
up. The manifest beside it records the changes and, for the default window and method, the counts
`make compare` must find (`truth`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import sys
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from . import definition, release_format
from .errors import ReleaseError, run_command
from .params import DEFAULTS
from .release import SYNTHETIC_MARKER, open_release

DEFAULT_SEED = 20260401
VERSION = 1
# Shares of the well-formed proceedings changed, each in one way only.
SHARES = {"removed": 0.015, "recoded": 0.005, "date_moved": 0.01, "court_changed": 0.005, "added": 0.02}
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
DATE = re.compile(rb"^(\d{4})-(\d{2})-(\d{2}) 00:00:00\.000$")
CODE = re.compile(rb"^[A-Z0-9]*$")
ID = re.compile(rb"^[0-9]{1,18}$")


def _date(field: bytes) -> dt.date | None | bool:
    """A COMP_DATE field: a date, None when empty, False when not a clean valid date."""
    if field == b"":
        return None
    match = DATE.match(field)
    if not match:
        return False
    try:
        day = dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return False
    return day if day.year > 1900 else False


def _stamp(day: dt.date) -> bytes:
    return f"{day.isoformat()} 00:00:00.000".encode()


def derive_later_release(source, dest, *, seed: int = DEFAULT_SEED, manifest_path=None) -> dict:
    """Write a later synthetic release derived from `source` (zip or folder) as the zip `dest`;
    returns its manifest, also written to manifest_path (default: <dest stem>_manifest.json beside it)."""
    source, dest = Path(source), Path(dest)
    release = open_release(source)
    try:
        members = {table: release.member(table) for table in release_format.TABLES}
        tables = {table: release.read_table_bytes(table) for table in release_format.TABLES}
        count_name = release.count_file
        count_text = release._zip.read(count_name) if count_name and release.is_zip else None
        if count_name and not release.is_zip:
            count_text = (release.path / count_name).read_bytes()
        source_sha256 = release.checksum()
    finally:
        release.close()

    raw = tables[release_format.PROCEEDING_TABLE]
    header_end = raw.find(b"\n") + 1
    header = [name.strip(b"\r\x00 ").decode(release_format.ENCODING) for name in raw[:header_end].split(b"\t")]
    needed = ["IDNPROCEEDING", "IDNCASE", "COMP_DATE", "OTHER_COMP", "BASE_CITY_CODE", "HEARING_LOC_CODE"]
    missing = [c for c in needed if c not in header]
    if missing:
        raise ReleaseError(f"{source}: {release_format.PROCEEDING_TABLE} lacks column {', '.join(missing)}")
    col = {name: header.index(name) for name in needed}
    lines = raw[header_end:].split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()

    # Well-formed lines: the only ones changed (and copied as templates for additions).
    fields: dict[int, list[bytes]] = {}
    dates: dict[int, dt.date | None] = {}
    for number, line in enumerate(lines):
        if not line.endswith(b"\r"):
            continue
        parts = line[:-1].split(b"\t")
        if len(parts) != len(header) or not parts[col["IDNPROCEEDING"]] or not line.isascii():
            continue
        if not (ID.match(parts[col["IDNPROCEEDING"]]) and ID.match(parts[col["IDNCASE"]])):
            continue
        if not all(CODE.match(parts[col[c]]) for c in ("OTHER_COMP", "BASE_CITY_CODE", "HEARING_LOC_CODE")):
            continue
        day = _date(parts[col["COMP_DATE"]])
        if day is False:
            continue
        fields[number], dates[number] = parts, day
    repeated = {k for k, n in Counter(p[col["IDNPROCEEDING"]] for p in fields.values()).items() if n > 1}
    if repeated:  # an id on several lines would make the planted truth ambiguous: leave those lines alone
        fields = {n: p for n, p in fields.items() if p[col["IDNPROCEEDING"]] not in repeated}
    if not fields:
        raise ReleaseError(f"{source}: no well-formed {release_format.PROCEEDING_TABLE} line to derive from")

    rng = np.random.default_rng(seed)
    eligible = np.array(sorted(fields))
    completed = np.array([n for n in eligible if dates[n] is not None])
    sizes = {kind: int(round(share * len(eligible))) for kind, share in SHARES.items()}
    excluded = [c.encode() for c in definition.NEW_PROCEEDING_CODES_DEFAULT]
    pd_codes = [c.encode() for c in definition.PD_CODES_DEFAULT]
    chosen = [int(n) for n in rng.permutation(completed)]
    # Recodings: half of PD closures to other outcomes, half the other way.
    pd_rows = [n for n in chosen if fields[n][col["OTHER_COMP"]] in pd_codes]
    other_rows = [n for n in chosen if fields[n][col["OTHER_COMP"]] not in pd_codes + excluded]
    half = sizes["recoded"] // 2
    picks = {"recoded": sorted(pd_rows[:half] + other_rows[: sizes["recoded"] - half])}
    others = [n for n in chosen if n not in set(picks["recoded"])]
    picks["date_moved"] = sorted(others[: sizes["date_moved"]])
    picks["court_changed"] = sorted(others[sizes["date_moved"] : sizes["date_moved"] + sizes["court_changed"]])
    taken = {n for kind in picks for n in picks[kind]}
    rest = np.array([n for n in eligible if n not in taken])
    picks["removed"] = sorted(int(n) for n in rng.choice(rest, size=min(sizes["removed"], len(rest)), replace=False))

    courts: dict[bytes, list[bytes]] = {}
    for parts in fields.values():
        courts.setdefault(parts[col["BASE_CITY_CODE"]], [])
        if parts[col["HEARING_LOC_CODE"]] not in courts[parts[col["BASE_CITY_CODE"]]]:
            courts[parts[col["BASE_CITY_CODE"]]].append(parts[col["HEARING_LOC_CODE"]])
    court_codes = sorted(c for c in courts if c)

    changes = []  # (kind, old (comp, other) or None, new (comp, other) or None)
    new_lines = list(lines)
    for number in picks["removed"]:
        new_lines[number] = None
        changes.append(("removed", (dates[number], fields[number][col["OTHER_COMP"]]), None))
    for number in picks["recoded"]:
        parts = list(fields[number])
        before = parts[col["OTHER_COMP"]]
        parts[col["OTHER_COMP"]] = b"" if before in pd_codes else pd_codes[int(rng.integers(len(pd_codes)))]
        changes.append(("recoded", (dates[number], before), (dates[number], parts[col["OTHER_COMP"]])))
        new_lines[number] = b"\t".join(parts) + b"\r"
    for number in picks["date_moved"]:
        parts = list(fields[number])
        shift = int(rng.integers(1, 121)) * (1 if rng.random() < 0.5 else -1)
        moved = dates[number] + dt.timedelta(days=shift)
        parts[col["COMP_DATE"]] = _stamp(moved)
        changes.append(("date_moved", (dates[number], parts[col["OTHER_COMP"]]), (moved, parts[col["OTHER_COMP"]])))
        new_lines[number] = b"\t".join(parts) + b"\r"
    court_moves = 0
    for number in picks["court_changed"]:
        parts = list(fields[number])
        others = [c for c in court_codes if c != parts[col["BASE_CITY_CODE"]]]
        if not others:
            continue
        court = others[int(rng.integers(len(others)))]
        parts[col["BASE_CITY_CODE"]] = court
        parts[col["HEARING_LOC_CODE"]] = courts[court][0] if courts[court] else court
        key = (dates[number], parts[col["OTHER_COMP"]])
        changes.append(("court_changed", key, key))
        court_moves += 1
        new_lines[number] = b"\t".join(parts) + b"\r"

    # Additions: proceedings entered since (copies of completed ones with new ids), half completed in
    # the source's own period, half in the six months after its last completion date.
    next_id = max(int(p[col["IDNPROCEEDING"]]) for p in fields.values()) + 1
    next_case = max(int(p[col["IDNCASE"]]) for p in fields.values()) + 1
    last = max(d for d in dates.values() if d is not None)
    added = []
    for i, number in enumerate(rng.choice(completed, size=sizes["added"], replace=True)):
        parts = list(fields[int(number)])
        day = dates[int(number)] if i % 2 == 0 else last + dt.timedelta(days=int(rng.integers(1, 183)))
        parts[col["IDNPROCEEDING"]] = str(next_id + i).encode()
        parts[col["IDNCASE"]] = str(next_case + i).encode()
        parts[col["COMP_DATE"]] = _stamp(day)
        added.append(b"\t".join(parts) + b"\r")
        changes.append(("added", None, (day, parts[col["OTHER_COMP"]])))

    kept = [line for line in new_lines if line is not None] + added
    body = raw[:header_end] + b"\n".join(kept) + (b"\n" if kept else b"")
    outputs = {members[t]: tables[t] for t in release_format.TABLES}
    outputs[members[release_format.PROCEEDING_TABLE]] = body
    if count_text is not None:
        delta = len(added) - len(picks["removed"])
        outputs[count_name] = re.sub(
            rb"(?im)^(\s*" + release_format.PROCEEDING_TABLE.encode() + rb"(?:\.\w+)?\s*[\t,:=\s]\s*)([\d,]+)",
            lambda m: m.group(1) + str(int(m.group(2).replace(b",", b"")) + delta).encode(),
            count_text,
        )
    outputs[SYNTHETIC_MARKER] = _readme(source.name, seed).encode(release_format.ENCODING)

    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try:
        with zipfile.ZipFile(staging, "w") as archive:
            for name in [SYNTHETIC_MARKER] + sorted(n for n in outputs if n != SYNTHETIC_MARKER):
                info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, outputs[name], compresslevel=9)
        os.replace(staging, dest)
    finally:
        staging.unlink(missing_ok=True)

    counts = {kind: sum(1 for k, _, _ in changes if k == kind) for kind in SHARES}
    manifest = {
        "synthetic": True,
        "warning": "SYNTHETIC: a made-up later release, derived by pdclosures.later_release; not EOIR data.",
        "derived_from": {"name": source.name, "checksum_sha256": source_sha256},
        "seed": seed,
        "version": VERSION,
        "proceedings_lines": len(kept),
        "changes": counts,
        "truth": _truth(changes),
        "sha256": hashlib.sha256(dest.read_bytes()).hexdigest(),
    }
    manifest_path = Path(manifest_path) if manifest_path else dest.with_name(dest.stem + "_manifest.json")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _truth(changes) -> dict:
    """What `make compare` must find for the default window and method, from the changes alone."""
    start, end = (dt.date.fromisoformat(DEFAULTS[k]) for k in ("start", "end"))
    excluded = [c.encode() for c in definition.NEW_PROCEEDING_CODES_DEFAULT]
    pd_codes = [c.encode() for c in definition.PD_CODES_DEFAULT]

    def counted(side) -> bool:
        return side is not None and side[0] is not None and start <= side[0] <= end and side[1] not in excluded

    def pd(side) -> bool:
        return counted(side) and side[1] in pd_codes

    kinds = {
        "removed": "only_in_old",
        "added": "only_in_new",
        "recoded": "pd_status_changed",
        "date_moved": "comp_date_changed",
        "court_changed": "court_changed",
    }
    diff = {change: 0 for change in kinds.values()}
    national = {"pd_closures": 0, "completions": 0}
    for kind, old, new in changes:
        if counted(old) or counted(new):
            diff[kinds[kind]] += 1
        national["completions"] += counted(new) - counted(old)
        national["pd_closures"] += pd(new) - pd(old)
    return {
        "start": DEFAULTS["start"],
        "end": DEFAULTS["end"],
        "proceedings_diff": diff,
        "national_difference": national,
    }


def _readme(source_name: str, seed: int) -> str:
    return (
        "SYNTHETIC DATA made by pdclosures.later_release: not EOIR data. A made-up later release, derived "
        f"from {source_name} with seed {seed} (version {VERSION}): some proceedings removed, some added, some "
        "recoded, some with their completion date moved or their court changed, as happens between EOIR "
        "releases. Use it only to test software, never to say anything about immigration courts.\r\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pdclosures.later_release",
        description="Derive a later SYNTHETIC release from a release (not EOIR data).",
    )
    parser.add_argument("--source", required=True, type=Path, help="the release zip or folder to derive from")
    parser.add_argument("--out", required=True, type=Path, help="the zip to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)

    def derive() -> None:
        manifest = derive_later_release(args.source, args.out, seed=args.seed)
        print(
            f"SYNTHETIC later release (not EOIR data) written to {args.out}: "
            + ", ".join(f"{n:,} {kind.replace('_', ' ')}" for kind, n in manifest["changes"].items())
        )

    return run_command(derive)


if __name__ == "__main__":
    sys.exit(main())
