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
import json
import os
import re
import shutil
import sys
import zipfile
from array import array
from pathlib import Path

import numpy as np

from . import cleaning, definition, release_format
from .errors import ReleaseError, run_command
from .params import DEFAULTS
from .release import SYNTHETIC_MARKER, open_release, sha256_file

DEFAULT_SEED = 20260401
VERSION = 1
# Shares of the well-formed proceedings changed, each in one way only.
SHARES = {"removed": 0.015, "recoded": 0.005, "date_moved": 0.01, "court_changed": 0.005, "added": 0.02}
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
DATE = re.compile(rb"^(\d{4})-(\d{2})-(\d{2}) 00:00:00\.000$")
CODE = re.compile(rb"^[A-Z0-9]*$")
ID = re.compile(rb"^[0-9]{1,%d}$" % cleaning.MAX_ID_DIGITS)


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
    return day if day.year > cleaning.LAST_JUNK_YEAR else False


def _stamp(day: dt.date) -> bytes:
    return f"{day.isoformat()} 00:00:00.000".encode()


def derive_later_release(source, dest, *, seed: int = DEFAULT_SEED, manifest_path=None) -> dict:
    """Write a later synthetic release derived from `source` (zip or folder) as `dest`: a zip when its
    name ends in .zip, else an unpacked folder. Returns its manifest, also written to manifest_path
    (default: <dest stem>_manifest.json beside a zip, manifest.json inside a folder).

    B_TblProceeding is streamed twice (once to choose, once to write), so a full-scale release needs
    well under 2 GB of memory: per well-formed line, a few numbers are kept, not the line."""
    source, dest = Path(source), Path(dest)
    zipped = dest.suffix.lower() == ".zip"
    release = open_release(source)
    try:
        members = {table: release.member(table) for table in release.tables_to_read()}  # optional lookups too
        proceedings = members[release_format.PROCEEDING_TABLE]
        count_name = release.count_file
        count_text = None
        if count_name:
            count_text = release._zip.read(count_name) if release.is_zip else (release.path / count_name).read_bytes()
        plan = _choose(release, seed)
        outputs = {members[t]: release.read_table_bytes(t) for t in members if t != release_format.PROCEEDING_TABLE}
        if count_text is not None:
            delta = len(plan["added"]) - len(plan["removed"])
            outputs[count_name] = re.sub(
                rb"(?im)^(\s*" + release_format.PROCEEDING_TABLE.encode() + rb"(?:\.\w+)?\s*[\t,:=\s]\s*)([\d,]+)",
                lambda m: m.group(1) + str(int(m.group(2).replace(b",", b"")) + delta).encode(),
                count_text,
            )
        outputs[SYNTHETIC_MARKER] = _readme(source.name, seed).encode(release_format.ENCODING)
        source_sha256 = release.checksum()

        staging = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True) if staging.is_dir() else staging.unlink(missing_ok=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            if zipped:
                with zipfile.ZipFile(staging, "w") as archive:
                    for name in [SYNTHETIC_MARKER] + sorted(
                        n for n in [*outputs, proceedings] if n != SYNTHETIC_MARKER
                    ):
                        info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
                        info.compress_type = zipfile.ZIP_DEFLATED
                        info.external_attr = 0o644 << 16
                        if name == proceedings:
                            with archive.open(info, "w", force_zip64=True) as out:
                                lines = _write_proceedings(release, plan, out)
                        else:
                            archive.writestr(info, outputs[name], compresslevel=9)
            else:
                for name, data in {**outputs, proceedings: None}.items():
                    (staging / name).parent.mkdir(parents=True, exist_ok=True)
                    if data is None:
                        with open(staging / name, "wb") as out:
                            lines = _write_proceedings(release, plan, out)
                    else:
                        (staging / name).write_bytes(data)
            if dest.is_dir():
                shutil.rmtree(dest)
            os.replace(staging, dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True) if staging.is_dir() else staging.unlink(missing_ok=True)
    finally:
        release.close()

    changes = plan["changes"]
    counts = {kind: sum(1 for k, _, _ in changes if k == kind) for kind in SHARES}
    manifest = {
        "synthetic": True,
        "warning": "SYNTHETIC: a made-up later release, derived by pdclosures.later_release; not EOIR data.",
        "derived_from": {"name": source.name, "checksum_sha256": source_sha256},
        "seed": seed,
        "version": VERSION,
        "proceedings_lines": lines,
        "changes": counts,
        "truth": _truth(changes),
    }
    if zipped:
        manifest["sha256"] = sha256_file(dest)
    if manifest_path is None:
        manifest_path = dest.with_name(dest.stem + "_manifest.json") if zipped else dest / "manifest.json"
    Path(manifest_path).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


NEEDED = ["IDNPROCEEDING", "IDNCASE", "COMP_DATE", "OTHER_COMP", "BASE_CITY_CODE", "HEARING_LOC_CODE"]
OTHER, PD, EXCLUDED = 0, 1, 2  # the OTHER_COMP classes the truth needs


def _header(release, line: bytes) -> dict[str, int]:
    header = [name.strip(b"\r\n\x00 ").decode(release_format.ENCODING) for name in line.split(b"\t")]
    missing = [c for c in NEEDED if c not in header]
    if missing:
        raise ReleaseError(f"{release.describe(release_format.PROCEEDING_TABLE)}: lacks column {', '.join(missing)}")
    return {"width": len(header), **{name: header.index(name) for name in NEEDED}}


def _parts(line: bytes, col: dict) -> list[bytes] | None:
    """A well-formed line's fields, or None: CRLF, the header's width, ASCII, whole-number ids,
    clean codes, a valid or empty COMP_DATE."""
    if not line.endswith(b"\r\n") or not line.isascii():
        return None
    parts = line[:-2].split(b"\t")
    if len(parts) != col["width"]:
        return None
    if not (ID.match(parts[col["IDNPROCEEDING"]]) and ID.match(parts[col["IDNCASE"]])):
        return None
    if not all(CODE.match(parts[col[c]]) for c in ("OTHER_COMP", "BASE_CITY_CODE", "HEARING_LOC_CODE")):
        return None
    if _date(parts[col["COMP_DATE"]]) is False:
        return None
    return parts


def _choose(release, seed: int) -> dict:
    """First pass: which lines to remove, recode, move, send to another court, and copy as additions."""
    pd_codes = [c.encode() for c in definition.PD_CODES_DEFAULT]
    excluded = [c.encode() for c in definition.NEW_PROCEEDING_CODES_DEFAULT]
    numbers, ids, cases, days, classes = (array("q"), array("q"), array("q"), array("i"), array("b"))
    courts: dict[bytes, bytes] = {}  # court -> its first hearing location
    with release.open_table(release_format.PROCEEDING_TABLE) as stream:
        col = _header(release, stream.readline())
        for number, line in enumerate(stream):
            parts = _parts(line, col)
            if parts is None:
                continue
            day = _date(parts[col["COMP_DATE"]])
            other = parts[col["OTHER_COMP"]]
            numbers.append(number)
            ids.append(int(parts[col["IDNPROCEEDING"]]))
            cases.append(int(parts[col["IDNCASE"]]))
            days.append(day.toordinal() if day else 0)
            classes.append(PD if other in pd_codes else EXCLUDED if other in excluded else OTHER)
            courts.setdefault(parts[col["BASE_CITY_CODE"]], parts[col["HEARING_LOC_CODE"]])
    numbers, ids, days, classes = (np.frombuffer(a, dtype=a.typecode) for a in (numbers, ids, days, classes))
    if not len(numbers):
        raise ReleaseError(f"{release.describe(release_format.PROCEEDING_TABLE)}: no well-formed line to derive from")
    unique, counts = np.unique(ids, return_counts=True)
    single = ~np.isin(ids, unique[counts > 1])  # an id on several lines: left alone (the truth would be ambiguous)
    next_id, next_case, last = int(ids.max()) + 1, int(max(cases)) + 1, int(days.max())
    numbers, days, classes = numbers[single], days[single], classes[single]

    rng = np.random.default_rng(seed)
    sizes = {kind: int(round(share * len(numbers))) for kind, share in SHARES.items()}
    order = rng.permutation(np.flatnonzero(days > 0))  # completed lines, shuffled (indexes into numbers)
    half = sizes["recoded"] // 2
    recoded = np.concatenate(
        [order[classes[order] == PD][:half], order[classes[order] == OTHER][: sizes["recoded"] - half]]
    )
    rest = order[~np.isin(order, recoded)]
    moved = rest[: sizes["date_moved"]]
    other_court = rest[sizes["date_moved"] : sizes["date_moved"] + sizes["court_changed"]]
    untouched = np.setdiff1d(np.arange(len(numbers)), np.concatenate([recoded, moved, other_court]))
    removed = rng.choice(untouched, size=min(sizes["removed"], len(untouched)), replace=False)
    templates = rng.choice(order, size=sizes["added"], replace=True)

    def old(i):
        return (dt.date.fromordinal(int(days[i])) if days[i] else None, int(classes[i]))

    court_codes = sorted(c for c in courts if c)
    actions, changes = {}, []
    for i in sorted(removed):
        actions[int(numbers[i])] = ("remove",)
        changes.append(("removed", old(i), None))
    for i in sorted(recoded):
        code = b"" if classes[i] == PD else pd_codes[int(rng.integers(len(pd_codes)))]
        actions[int(numbers[i])] = ("recode", code)
        changes.append(("recoded", old(i), (old(i)[0], PD if code else OTHER)))
    for i in sorted(moved):
        shift = int(rng.integers(1, 121)) * (1 if rng.random() < 0.5 else -1)
        day = old(i)[0] + dt.timedelta(days=shift)
        actions[int(numbers[i])] = ("move", day)
        changes.append(("date_moved", old(i), (day, old(i)[1])))
    for i in sorted(other_court):
        actions[int(numbers[i])] = ("court", int(rng.integers(len(court_codes) - 1)) if len(court_codes) > 1 else None)
        changes.append(("court_changed", old(i), old(i)))
    added = []
    for k, i in enumerate(templates):
        day = old(i)[0] if k % 2 == 0 else dt.date.fromordinal(last) + dt.timedelta(days=int(rng.integers(1, 183)))
        added.append((int(numbers[i]), next_id + k, next_case + k, day))
        changes.append(("added", None, (day, old(i)[1])))
    return {
        "col": col,
        "actions": actions,
        "added": added,
        "removed": removed,
        "courts": courts,
        "court_codes": court_codes,
        "changes": changes,
    }


def _write_proceedings(release, plan: dict, out) -> int:
    """Second pass: the table with the plan's changes, then its additions; returns its data lines."""
    col, actions, courts, court_codes = plan["col"], plan["actions"], plan["courts"], plan["court_codes"]
    wanted = {number for number, *_ in plan["added"]}
    templates, written = {}, 0
    with release.open_table(release_format.PROCEEDING_TABLE) as stream:
        out.write(stream.readline())
        for number, line in enumerate(stream):
            if number in wanted:
                templates[number] = line[:-2].split(b"\t")
            action = actions.get(number)
            if action is None:
                out.write(line if line.endswith(b"\n") else line + b"\n")
                written += 1
                continue
            if action[0] == "remove":
                continue
            parts = line[:-2].split(b"\t")
            if action[0] == "recode":
                parts[col["OTHER_COMP"]] = action[1]
            elif action[0] == "move":
                parts[col["COMP_DATE"]] = _stamp(action[1])
            elif action[0] == "court" and action[1] is not None:
                choices = [c for c in court_codes if c != parts[col["BASE_CITY_CODE"]]]
                court = choices[min(action[1], len(choices) - 1)]
                parts[col["BASE_CITY_CODE"]], parts[col["HEARING_LOC_CODE"]] = court, courts[court] or court
            out.write(b"\t".join(parts) + b"\r\n")
            written += 1
    for number, new_id, new_case, day in plan["added"]:
        parts = list(templates[number])
        parts[col["IDNPROCEEDING"]], parts[col["IDNCASE"]] = str(new_id).encode(), str(new_case).encode()
        parts[col["COMP_DATE"]] = _stamp(day)
        out.write(b"\t".join(parts) + b"\r\n")
        written += 1
    return written


def _truth(changes) -> dict:
    """What `make compare` must find for the default window and method, from the changes alone:
    each change is (kind, old, new), a side being (COMP_DATE, OTHER_COMP class) or None."""
    start, end = (dt.date.fromisoformat(DEFAULTS[k]) for k in ("start", "end"))

    def counted(side) -> bool:
        return side is not None and side[0] is not None and start <= side[0] <= end and side[1] != EXCLUDED

    def pd(side) -> bool:
        return counted(side) and side[1] == PD

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
