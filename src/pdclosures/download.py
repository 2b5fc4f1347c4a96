"""Download the EOIR case-data release zip, resumably, and record where it came from.

`python -m pdclosures.download [--url URL] [--dest DIR] [--force] [--test-zip]` (backend of
`make download`; with `--check`, of `make check-release`). The file is fetched into `<name>.part`
(HTTP Range requests resume it, within a run and across runs), checked (size and zip central
directory), and only then renamed to its final name. `<name>.download.json` beside it records
its provenance; release.py reads it.

`check_release` (`make check-release`) asks the server for the current zip's size and date with a
HEAD request, downloads nothing, and compares them with that record.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import http.client
import json
import os
import re
import shutil
import ssl
import sys
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from tqdm import tqdm

from . import __version__
from .errors import ReleaseError, run_command
from .release import read_download_record, record_path, sha256_file  # release.py also registers Deflate64

# EOIR moves the bulk file from time to time: the current address is the "EOIR Case Data" link
# on the FOIA library page.
FOIA_LIBRARY_PAGE = "https://www.justice.gov/eoir/foia-library-0"
DEFAULT_URL = "https://fileshare.eoir.justice.gov/EOIR%20Case%20Data.zip"
DEFAULT_DEST = Path("data/raw")

RETRIES = 5  # retries after the last attempt that added bytes, before giving up
BACKOFF_SECONDS = 1.0  # delay before the first retry; doubles on each further failure
MAX_BACKOFF_SECONDS = 8.0
TIMEOUT_SECONDS = 60  # for the connection and for each read
CHUNK_SIZE = 64 * 1024
USER_AGENT = f"pdclosures/{__version__} (Python urllib)"

# What a dropped, stalled or half-closed connection raises, before or during the body.
_NETWORK_ERRORS = (http.client.HTTPException, ConnectionError, TimeoutError, ssl.SSLError)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


def destination(url: str = DEFAULT_URL, dest: Path | str = DEFAULT_DEST) -> Path:
    """Where `download` puts the file from `url`: its unquoted basename inside `dest`."""
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    if not name:
        raise ReleaseError(f"cannot tell the file name from URL {url}: it should end in a file name")
    return Path(dest) / name


def download(
    url: str = DEFAULT_URL,
    dest: Path | str = DEFAULT_DEST,
    *,
    force: bool = False,
    test_members: bool = False,
    retries: int = RETRIES,
    backoff_seconds: float = BACKOFF_SECONDS,
) -> Path:
    """Download `url` into `dest` unless already there; return the path of the verified zip.

    `test_members` also decompresses every member to check its CRC (minutes for a 4 GB release).
    `retries` counts attempts after the last one that added bytes; `backoff_seconds` is the delay
    before the first retry, doubling after that.
    Raises ReleaseError, with a one-line message, for every failure a user can act on.
    """
    _check_url(url)
    zip_path = destination(url, dest)
    record = read_download_record(zip_path)
    if record and not force:
        _say(
            f"already downloaded: {zip_path} ({record['size']:,} bytes, Last-Modified "
            f"{record['last_modified']}); pass --force to download it again"
        )
        return zip_path
    _make_folder(zip_path.parent)
    _say(f"downloading {url} to {zip_path}")
    partial = _PartialFile.load(zip_path.with_name(zip_path.name + ".part"))
    _fetch(url, partial, retries, backoff_seconds)
    members = _check_zip(partial, url, test_members)
    _write_record(zip_path, _provenance(url, zip_path, partial))
    os.replace(partial.path, zip_path)
    partial.state_path.unlink(missing_ok=True)
    _say(
        f"saved {zip_path}: {partial.total:,} bytes, {len(members)} zip members, Last-Modified {partial.last_modified}"
    )
    return zip_path


class _AttemptFailed(Exception):
    """One attempt failed in a way a retry may fix.

    `problem` describes what happened; `advice` is added when the command gives up.
    """

    def __init__(self, problem: str, advice: str = ""):
        super().__init__(problem)
        self.problem = problem
        self.advice = advice


@dataclass
class _PartialFile:
    """The `.part` file and what the server said about the file it is the beginning of.

    That server state (size and validators) is kept in `<name>.part.json` so a later run can
    resume; without it a leftover `.part` cannot be trusted and is discarded.
    """

    path: Path
    total: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    hasher: hashlib._Hash | None = None  # covers exactly the bytes in `path`; None after resuming

    @property
    def state_path(self) -> Path:
        return self.path.with_name(self.path.name + ".json")

    @classmethod
    def load(cls, path: Path) -> _PartialFile:
        """Pick up the partial download left by an earlier run, or start an empty one."""
        partial = cls(path)
        state = partial._read_state()
        if state is None:
            if partial.size():
                _say(f"discarding {path}: no record of which server file it is part of")
            partial.discard()
            return partial
        partial.total, partial.etag, partial.last_modified = state
        if partial.size() > partial.total:
            _say(f"discarding {path}: larger than the file it is part of")
            partial.discard()
        elif partial.size():
            _say(f"resuming {path} at {partial.size():,} of {partial.total:,} bytes")
        else:
            partial.hasher = hashlib.sha256()
        return partial

    def _read_state(self) -> tuple[int, str | None, str | None] | None:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            total, etag, last_modified = state["total"], state["etag"], state["last_modified"]
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None
        return (total, etag, last_modified) if isinstance(total, int) else None

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def is_complete(self) -> bool:
        return self.total is not None and self.size() == self.total

    def validator(self) -> str | None:
        """What to send in If-Range: a strong ETag, else Last-Modified (weak ETags are not allowed)."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified

    def discard(self) -> None:
        """Delete the .part and forget the server state, to download from zero."""
        self.remove()
        self.total = self.etag = self.last_modified = None
        self.hasher = hashlib.sha256()

    def start(self, url: str, response: http.client.HTTPResponse) -> None:
        """Adopt the file a full (200) response is sending, and save its state for resuming."""
        self.discard()
        length = response.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise ReleaseError(f"{url}: the server did not send Content-Length, so the download cannot be checked")
        self.total = int(length)
        self.etag = response.headers.get("ETag")
        self.last_modified = response.headers.get("Last-Modified")
        state = {"total": self.total, "etag": self.etag, "last_modified": self.last_modified}
        self.state_path.write_text(json.dumps(state), encoding="utf-8")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.state_path.unlink(missing_ok=True)


def _fetch(url: str, partial: _PartialFile, retries: int, backoff_seconds: float) -> None:
    """Fill the .part until its size is the server's total, retrying attempts that fail.

    A failed attempt that still added bytes restarts the count, so a flaky connection can finish
    a 4 GB file.
    """
    failures = 0
    while not partial.is_complete():
        size_before = partial.size()
        try:
            _fetch_once(url, partial)
        except _AttemptFailed as failure:
            failures = 1 if partial.size() > size_before else failures + 1
            if failures > retries:
                raise ReleaseError(failure.problem + failure.advice) from None
            delay = min(backoff_seconds * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
            _say(f"{failure.problem}; retrying in {delay:g} s")
            time.sleep(delay)


def _fetch_once(url: str, partial: _PartialFile) -> None:
    """One request: append the rest of the file to the .part, or restart it from zero."""
    offset = partial.size()
    response = _request(url, partial, _resume_headers(partial, offset))
    with response:
        if response.status == 206:
            _check_continuation(url, response, partial, offset)
        else:
            if offset:
                _say(_restart_reason(response, partial))
            partial.start(url, response)
        _check_free_space(partial)
        try:
            _stream_body(response, partial)
            cause = ""
        except _NETWORK_ERRORS as error:  # reported below as a short read, with the byte counts
            cause = f" ({error or type(error).__name__})"
    if not partial.is_complete():
        raise _AttemptFailed(
            f"download incomplete: got {partial.size():,} of {partial.total:,} bytes from {url}{cause}",
            f"; run the same command again to resume from {partial.path}",
        )


def _resume_headers(partial: _PartialFile, offset: int) -> dict[str, str]:
    """Range from the end of the .part, guarded by If-Range so a changed file is sent whole."""
    if not offset:
        return {}
    headers = {"Range": f"bytes={offset}-"}
    if partial.validator():
        headers["If-Range"] = partial.validator()
    return headers


def _request(url: str, partial: _PartialFile, headers: dict[str, str]) -> http.client.HTTPResponse:
    """Open `url`; HTTP errors a retry cannot fix raise ReleaseError, others _AttemptFailed."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        error.close()
        raise _http_error(url, error, partial) from None
    except urllib.error.URLError as error:
        raise _unreachable(url, error.reason, partial) from None
    except _NETWORK_ERRORS as error:
        raise _unreachable(url, error, partial) from None


def _http_error(url: str, error: urllib.error.HTTPError, partial: _PartialFile) -> Exception:
    if error.code == 416:  # the .part does not fit the server's file: start over
        partial.discard()
        return _AttemptFailed(f"{url}: the server cannot resume the partial download (416)")
    if error.code >= 500:
        return _AttemptFailed(f"{url}: server error {error.code} {error.reason}", "; try again later")
    return _check_error(url, error)  # 404 and the rest: the same words as make check-release


def _unreachable(url: str, reason: object, partial: _PartialFile) -> _AttemptFailed:
    kept = f" ({partial.size():,} bytes kept in {partial.path})" if partial.size() else ""
    return _AttemptFailed(_cannot_reach_text(url, reason), f"; check your connection{kept}")


def _check_continuation(url: str, response: http.client.HTTPResponse, partial: _PartialFile, offset: int) -> None:
    """Accept a 206 only if it continues the .part exactly, from the same server file."""
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    continues = (
        match is not None
        and int(match[1]) == offset
        and int(match[3]) == partial.total
        and not _validator_changed(response, partial)
    )
    if not continues:
        partial.discard()  # the server ignored If-Range or sent another range: start over
        raise _AttemptFailed(
            f"{url}: the server's partial response does not continue {partial.path}, so it was discarded"
        )


def _validator_changed(response: http.client.HTTPResponse, partial: _PartialFile) -> bool:
    etag, last_modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    if etag and partial.etag:
        return etag != partial.etag
    return bool(last_modified and partial.last_modified and last_modified != partial.last_modified)


def _restart_reason(response: http.client.HTTPResponse, partial: _PartialFile) -> str:
    if _validator_changed(response, partial):
        return "the file on the server changed since the partial download: restarting from zero"
    return "the server does not resume downloads: restarting from zero"


def _check_free_space(partial: _PartialFile) -> None:
    """Fail before a 4 GB transfer rather than at the end of the disk."""
    needed = partial.total - partial.size()
    free = shutil.disk_usage(partial.path.parent).free
    if free < needed:
        raise ReleaseError(
            f"not enough disk space in {partial.path.parent}: the download needs "
            f"{tqdm.format_sizeof(needed, 'B')} more, {tqdm.format_sizeof(free, 'B')} free"
        )


def _stream_body(response: http.client.HTTPResponse, partial: _PartialFile) -> None:
    with (
        open(partial.path, "ab", buffering=0) as part_file,
        _progress_bar(partial.path.name.removesuffix(".part"), partial.total, partial.size()) as bar,
    ):
        while chunk := response.read(CHUNK_SIZE):
            _write_all(part_file, chunk, partial.path)
            if partial.hasher:
                partial.hasher.update(chunk)
            bar.update(len(chunk))


def _write_all(part_file, chunk: bytes, path: Path) -> None:
    """Write the whole chunk (unbuffered, so the .part size is what has reached the disk)."""
    view = memoryview(chunk)
    try:
        while view:
            view = view[part_file.write(view) :]
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise ReleaseError(
                f"disk full while writing {path}: free some space and run the same "
                "command again to resume (the partial download is kept)"
            ) from None
        raise ReleaseError(f"cannot write {path}: {error.strerror}") from None


def _progress_bar(label: str, total: int | None, initial: int = 0) -> tqdm:
    return tqdm(total=total, initial=initial, desc=label, unit="B", unit_scale=True, file=sys.stderr)


def _check_zip(partial: _PartialFile, url: str, test_members: bool) -> list[str]:
    """Read the central directory (and with `test_members`, every member's CRC); return the names.

    A corrupt file is removed so the next run starts from zero instead of resuming it.
    """
    try:
        with zipfile.ZipFile(partial.path) as archive:
            members = archive.namelist()
            bad_member = archive.testzip() if test_members else None
    except NotImplementedError as error:  # a compression method zipfile lacks: the file may be fine
        raise ReleaseError(
            f"cannot test the members of {partial.path}: {error} (pip install zipfile-inflate64)"
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as error:
        problem = str(error)
    else:
        if bad_member is None:
            return members
        problem = f"member {bad_member} fails its CRC check"
    partial.remove()
    raise ReleaseError(
        f"downloaded file is not a readable zip ({url}): {problem}; removed it so the next run starts fresh"
    )


def _provenance(url: str, zip_path: Path, partial: _PartialFile) -> dict:
    sha256 = partial.hasher.hexdigest() if partial.hasher else _sha256_of(partial.path)
    return {
        "url": url,
        "file": zip_path.name,
        "size": partial.total,
        "last_modified": partial.last_modified,
        "last_modified_date": _iso_date(partial.last_modified),
        "etag": partial.etag,
        "sha256": sha256,
        "mtime_ns": partial.path.stat().st_mtime_ns,  # kept by the rename to the final name
        "downloaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _sha256_of(path: Path) -> str:
    """Hash a file resumed from an earlier run (its first bytes were not seen while streaming)."""
    with _progress_bar("sha256", path.stat().st_size) as bar:
        return sha256_file(path, on_block=bar.update)


def _iso_date(http_date: str | None) -> str | None:
    try:
        return parsedate_to_datetime(http_date).date().isoformat()
    except (TypeError, ValueError):
        return None


def _write_record(zip_path: Path, record: dict) -> None:
    """Write the sidecar atomically; it goes first so a final file always has its record."""
    sidecar = record_path(zip_path)
    temporary = sidecar.with_name(sidecar.name + ".tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, sidecar)


def _check_url(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ReleaseError(f"not an http(s) URL: {url}")


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ReleaseError(f"cannot create the download folder {folder}: {error.strerror}") from None


# --------------------------------------------------------------------------------------------
# make check-release: is the release on the server the one downloaded?

CHECK_TIMEOUT_SECONDS = 30


def check_release(url: str = DEFAULT_URL, dest: Path | str = DEFAULT_DEST) -> str:
    """One line saying whether the release at `url` is the one recorded in `dest`.

    "up to date" when the server's size and Last-Modified both match the download record,
    "newer release published <date>" when either differs, "no release downloaded yet" when `dest`
    holds no recorded download (the server is not asked). Raises ReleaseError, one line, when the
    server cannot be reached or refuses. Nothing is downloaded: a HEAD request, or for a server
    that refuses HEAD, a GET of the first byte."""
    _check_url(url)
    zip_path, record = _latest_record(url, Path(dest))
    if record is None:
        return f"no release downloaded yet in {dest} (make download fetches it)"
    size, last_modified = _server_facts(url)
    date = _iso_date(last_modified) or last_modified or "on an unknown date"
    published = record.get("last_modified_date") or "on an unknown date"
    ours = f"{zip_path.name}, published {published}, {record['size']:,} bytes"
    if size == record.get("size") and _same_date(last_modified, record.get("last_modified")):
        return f"up to date: {ours}"
    server = f"{size:,} bytes" if size is not None else "size not given"
    return f"newer release published {date} ({server}; yours: {ours}): make download FORCE=1 fetches it"


def _latest_record(url: str, dest: Path) -> tuple[Path | None, dict | None]:
    """The record of the zip `url` downloads to, else the newest record of any zip in `dest`
    (EOIR may have moved the file since, under another name)."""
    zip_path = destination(url, dest)
    record = read_download_record(zip_path)
    if record is not None:
        return zip_path, record
    found = []
    for sidecar in sorted(dest.glob("*.download.json")) if dest.is_dir() else []:
        candidate = sidecar.with_name(sidecar.name.removesuffix(".download.json"))
        other = read_download_record(candidate)
        if other is not None:
            found.append((str(other.get("downloaded_at") or ""), candidate, other))
    if not found:
        return None, None
    _, zip_path, record = max(found, key=lambda item: (item[0], item[1].name))
    return zip_path, record


def _server_facts(url: str) -> tuple[int | None, str | None]:
    """(size in bytes, Last-Modified header) of the file at `url`, without downloading it."""
    try:
        response = _open_for_check(url, "HEAD", {})
    except urllib.error.HTTPError as error:
        error.close()
        if error.code not in (405, 501):
            raise _check_error(url, error) from None
        try:  # a server that refuses HEAD: ask for the first byte and read the total from Content-Range
            response = _open_for_check(url, "GET", {"Range": "bytes=0-0"})
        except urllib.error.HTTPError as retry_error:
            retry_error.close()
            raise _check_error(url, retry_error) from None
    with response:
        headers = response.headers
        match = _CONTENT_RANGE.fullmatch(headers.get("Content-Range", "").strip())
        length = match[3] if response.status == 206 and match else headers.get("Content-Length")
        return (int(length) if length and length.isdigit() else None), headers.get("Last-Modified")


def _open_for_check(url: str, method: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT, **headers})
    try:
        return urllib.request.urlopen(request, timeout=CHECK_TIMEOUT_SECONDS)
    except urllib.error.HTTPError:
        raise
    except urllib.error.URLError as error:
        raise _cannot_reach(url, error.reason) from None
    except _NETWORK_ERRORS as error:
        raise _cannot_reach(url, error) from None


def _cannot_reach(url: str, reason: object) -> ReleaseError:
    return ReleaseError(_cannot_reach_text(url, reason) + "; check your connection")


def _cannot_reach_text(url: str, reason: object) -> str:
    detail = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return f"cannot reach {urlsplit(url).netloc}: {detail}"


def _check_error(url: str, error: urllib.error.HTTPError) -> ReleaseError:
    if error.code == 404:
        return ReleaseError(
            f"{url} not found (404). EOIR moves the file from time to time: find the current "
            f"'EOIR Case Data' link on the FOIA library page {FOIA_LIBRARY_PAGE} and pass it as URL=..."
        )
    return ReleaseError(f"{url}: HTTP error {error.code} {error.reason}")


def _same_date(header: str | None, recorded: str | None) -> bool:
    """Whether two Last-Modified headers name the same instant (the text may differ in form)."""
    if header == recorded:
        return True
    try:
        return parsedate_to_datetime(header) == parsedate_to_datetime(recorded)
    except (TypeError, ValueError):
        return False


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pdclosures.download",
        description="Download the EOIR case-data release zip (resumable) and record its provenance.",
    )
    parser.add_argument(
        "--url",
        default=DEFAULT_URL,
        help=f"file to download (default: %(default)s; the current link is on {FOIA_LIBRARY_PAGE})",
    )
    parser.add_argument("--dest", default=str(DEFAULT_DEST), help="folder to save it in (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="download again even if the file is already there")
    parser.add_argument(
        "--test-zip", action="store_true", help="also decompress every member to check its CRC (slow: minutes)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="download nothing: say whether the server's release is the one downloaded in DEST (make check-release)",
    )
    args = parser.parse_args(argv)
    if args.check:
        return run_command(lambda: print(check_release(args.url, args.dest)), interrupted="interrupted")
    return run_command(
        lambda: download(args.url, args.dest, force=args.force, test_members=args.test_zip),
        interrupted="interrupted: run the same command again to resume the download",
    )


if __name__ == "__main__":
    sys.exit(main())
