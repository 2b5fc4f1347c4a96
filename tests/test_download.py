"""Download of the release zip against a real HTTP server on loopback, in every failure mode."""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import random
import re
import socket
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pdclosures import download as dl
from pdclosures.errors import ReleaseError
from pdclosures.release import open_release, read_download_record

NAME = "EOIR Case Data.zip"
CUT_AFTER = 100_000  # bytes sent before a cut connection; inside the second 64 KiB chunk


def make_zip(seed: int) -> bytes:
    """A valid zip of a few hundred KB that does not compress, so it spans several read chunks."""
    rng = random.Random(seed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in ("Data/B_TblProceeding.csv", "Data/A_TblCase.csv", "Lookup/tblLookupHloc.csv"):
            archive.writestr(name, rng.randbytes(130_000))
    return buffer.getvalue()


@dataclass
class ServedFile:
    """What the test server sends, and the Range headers it was asked for."""

    body: bytes
    url: str = ""
    etag: str = '"v1"'
    last_modified: str = "Wed, 01 Apr 2026 12:00:00 GMT"
    status: int = 200  # anything else: every request fails with it
    head: bool = True  # answer HEAD requests (else 405, as some servers do)
    ranges: bool = True  # answer Range requests with 206
    honour_if_range: bool = True  # send the whole file (200) when If-Range does not match
    cut_requests: int = 0  # this many first requests send only CUT_AFTER bytes of their body
    stall_seconds: float = 0  # how long a cut request then keeps the connection open, silent
    requests: list[dict] = field(default_factory=list)

    def range_start(self, headers) -> int:
        match = re.fullmatch(r"bytes=(\d+)-", headers.get("Range") or "")
        if not self.ranges or match is None:
            return 0
        if_range = headers.get("If-Range")
        if self.honour_if_range and if_range and if_range not in (self.etag, self.last_modified):
            return 0
        return int(match[1])


class Handler(BaseHTTPRequestHandler):
    def do_HEAD(self):
        served: ServedFile = self.server.served
        served.requests.append({"method": "HEAD"})
        if served.status != 200 or not served.head:
            self.send_error(served.status if served.status != 200 else 405)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(served.body)))
        self.send_header("ETag", served.etag)
        self.send_header("Last-Modified", served.last_modified)
        self.end_headers()

    def do_GET(self):
        served: ServedFile = self.server.served
        served.requests.append({key: self.headers.get(key) for key in ("Range", "If-Range")})
        if served.status != 200:
            self.send_error(served.status)
            return
        start = served.range_start(self.headers)
        body = served.body[start:]
        first_byte = self.headers.get("Range") == "bytes=0-0" and served.ranges
        if first_byte:
            body = served.body[:1]
        self.send_response(206 if start or first_byte else 200)
        if start or first_byte:
            end = len(served.body) - 1 if start else 0
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(served.body)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", served.etag)
        self.send_header("Last-Modified", served.last_modified)
        self.end_headers()
        if served.cut_requests > 0:  # Content-Length promises more: the client sees a short read
            served.cut_requests -= 1
            self.wfile.write(body[:CUT_AFTER])
            time.sleep(served.stall_seconds)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def release_zip() -> bytes:
    return make_zip(seed=1)


@pytest.fixture
def server(release_zip):
    served = ServedFile(release_zip)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.served = served
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{httpd.server_port}/EOIR%20Case%20Data.zip"
    yield served
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def fetch(served: ServedFile, dest: Path, **options) -> Path:
    return dl.download(served.url, dest, backoff_seconds=0, **options)


def leftovers(dest: Path) -> list[str]:
    return sorted(path.name for path in dest.iterdir())


def test_downloads_verifies_and_records_provenance(server, tmp_path, capsys):
    zip_path = fetch(server, tmp_path)

    assert zip_path == tmp_path / NAME
    assert zip_path.read_bytes() == server.body
    assert leftovers(tmp_path) == [NAME, NAME + ".download.json"]
    assert server.requests == [{"Range": None, "If-Range": None}]
    record = read_download_record(zip_path)
    assert record["url"] == server.url
    assert record["file"] == NAME
    assert record["size"] == len(server.body)
    assert record["last_modified"] == "Wed, 01 Apr 2026 12:00:00 GMT"
    assert record["last_modified_date"] == "2026-04-01"
    assert record["etag"] == '"v1"'
    assert record["sha256"] == hashlib.sha256(server.body).hexdigest()
    assert record["mtime_ns"] == zip_path.stat().st_mtime_ns
    assert record["downloaded_at"].endswith("+00:00")
    assert "100%" in capsys.readouterr().err  # the progress bar goes to stderr


def test_resumes_within_the_run_after_connection_cuts(server, tmp_path):
    server.cut_requests = 2

    zip_path = fetch(server, tmp_path)

    assert zip_path.read_bytes() == server.body
    assert server.requests[1] == {"Range": f"bytes={CUT_AFTER}-", "If-Range": '"v1"'}
    assert server.requests[2] == {"Range": f"bytes={2 * CUT_AFTER}-", "If-Range": '"v1"'}
    assert read_download_record(zip_path)["sha256"] == hashlib.sha256(server.body).hexdigest()


def test_resumes_after_a_stalled_connection_times_out(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dl, "TIMEOUT_SECONDS", 0.2)
    server.cut_requests, server.stall_seconds = 1, 1.0

    assert fetch(server, tmp_path).read_bytes() == server.body
    # bytes of the chunk being read when the timeout hit are lost; whole chunks before it are kept
    resumed_at = int(re.fullmatch(r"bytes=(\d+)-", server.requests[1]["Range"])[1])
    assert 0 < resumed_at <= CUT_AFTER
    assert f"got {resumed_at:,} of {len(server.body):,} bytes from {server.url} (timed out)" in capsys.readouterr().err


def test_restarts_from_zero_when_server_ignores_range(server, tmp_path, capsys):
    server.ranges = False
    server.cut_requests = 1

    zip_path = fetch(server, tmp_path)

    assert zip_path.read_bytes() == server.body
    assert server.requests[1]["Range"] == f"bytes={CUT_AFTER}-"  # asked, but got a 200
    assert "does not resume downloads: restarting from zero" in capsys.readouterr().err
    assert read_download_record(zip_path)["sha256"] == hashlib.sha256(server.body).hexdigest()


def test_second_run_resumes_from_the_part_file(server, tmp_path):
    server.cut_requests = 1
    with pytest.raises(ReleaseError, match=f"download incomplete: got {CUT_AFTER:,} of {len(server.body):,} bytes"):
        fetch(server, tmp_path, retries=0)
    assert (tmp_path / (NAME + ".part")).stat().st_size == CUT_AFTER
    assert not (tmp_path / NAME).exists()

    zip_path = fetch(server, tmp_path)

    assert server.requests[-1] == {"Range": f"bytes={CUT_AFTER}-", "If-Range": '"v1"'}
    assert zip_path.read_bytes() == server.body
    # hashed after the download, since the first bytes came in the earlier run
    assert read_download_record(zip_path)["sha256"] == hashlib.sha256(server.body).hexdigest()
    assert leftovers(tmp_path) == [NAME, NAME + ".download.json"]


@pytest.mark.parametrize("honour_if_range", [True, False])
def test_changed_server_file_is_not_spliced_onto_old_part(server, tmp_path, capsys, honour_if_range):
    server.cut_requests = 1
    with pytest.raises(ReleaseError):
        fetch(server, tmp_path, retries=0)
    server.body, server.etag = make_zip(seed=2), '"v2"'
    server.last_modified = "Fri, 01 May 2026 12:00:00 GMT"
    server.honour_if_range = honour_if_range  # False: 206 of the new file, caught by its ETag

    zip_path = fetch(server, tmp_path)

    assert zip_path.read_bytes() == server.body
    record = read_download_record(zip_path)
    assert (record["etag"], record["last_modified_date"]) == ('"v2"', "2026-05-01")
    assert record["sha256"] == hashlib.sha256(server.body).hexdigest()
    if honour_if_range:
        assert "file on the server changed" in capsys.readouterr().err


def test_not_found_names_the_foia_library_page(server, tmp_path, capsys):
    server.status = 404

    assert dl.main(["--url", server.url, "--dest", str(tmp_path)]) == 1

    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert errors == [err.splitlines()[-1]]  # one line, last, no traceback
    assert errors[0].startswith(f"error: {server.url} not found (404). EOIR moves the file")
    assert errors[0].endswith(f"FOIA library page {dl.FOIA_LIBRARY_PAGE} and pass it as URL=...")
    assert leftovers(tmp_path) == []


def test_other_http_error(server, tmp_path):
    server.status = 403
    with pytest.raises(ReleaseError, match=r"HTTP error 403 Forbidden"):
        fetch(server, tmp_path)
    assert len(server.requests) == 1  # not worth retrying


def test_server_error_is_retried_then_reported(server, tmp_path):
    server.status = 503
    with pytest.raises(ReleaseError, match=r"server error 503 .*; try again later"):
        fetch(server, tmp_path, retries=2)
    assert len(server.requests) == 3
    assert not (tmp_path / NAME).exists()


def test_body_truncated_every_time_fails_after_retries(server, tmp_path):
    server.ranges = False
    server.cut_requests = 1000

    with pytest.raises(
        ReleaseError,
        match=f"download incomplete: got {CUT_AFTER:,} of "
        f"{len(server.body):,} bytes from .*; run the same "
        "command again to resume",
    ):
        fetch(server, tmp_path, retries=3)

    assert not (tmp_path / NAME).exists()
    assert not (tmp_path / (NAME + ".download.json")).exists()
    assert len(server.requests) == 4  # the first, then 3 retries that add nothing


def test_corrupt_zip_is_removed(server, tmp_path):
    server.body = random.Random(3).randbytes(300_000)

    with pytest.raises(
        ReleaseError,
        match=r"downloaded file is not a readable zip .*"
        r"removed it so the next run starts fresh",
    ):
        fetch(server, tmp_path)

    assert leftovers(tmp_path) == []


def test_test_zip_checks_member_crcs(server, tmp_path):
    data = bytearray(server.body)
    data[1000] ^= 0xFF  # inside the first member's stored data: the central directory is intact
    server.body = bytes(data)

    with pytest.raises(ReleaseError, match=r"not a readable zip .*Data/B_TblProceeding.csv fails"):
        fetch(server, tmp_path, test_members=True)
    assert leftovers(tmp_path) == []


def test_unreachable_server(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/EOIR%20Case%20Data.zip"

    with pytest.raises(
        ReleaseError,
        match=rf"^cannot reach 127\.0\.0\.1:{port}: .*"
        r"check your connection$",
    ):
        dl.download(url, tmp_path, retries=1, backoff_seconds=0)
    assert leftovers(tmp_path) == []


def test_already_downloaded_does_nothing_unless_forced(server, tmp_path, capsys):
    cli = ["--url", server.url, "--dest", str(tmp_path)]
    assert dl.main(cli) == 0
    capsys.readouterr()

    assert dl.main(cli) == 0
    assert len(server.requests) == 1
    assert "already downloaded" in capsys.readouterr().err

    assert dl.main([*cli, "--force"]) == 0
    assert len(server.requests) == 2


class FullDisk:
    """A .part file that takes `room` bytes, then fails like a full disk."""

    def __init__(self, file, room: int):
        self.file, self.room = file, room

    def write(self, data) -> int:
        if not self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        written = self.file.write(data[: self.room])
        self.room -= written
        return written

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()


def test_disk_full_keeps_part_for_a_later_resume(server, tmp_path, monkeypatch):
    def open_on_full_disk(path, mode="r", **options):
        file = builtins.open(path, mode, **options)
        return FullDisk(file, CUT_AFTER) if "a" in mode else file

    monkeypatch.setattr(dl, "open", open_on_full_disk, raising=False)
    with pytest.raises(ReleaseError, match=r"^disk full while writing .*\.part: .*resume"):
        fetch(server, tmp_path)
    assert (tmp_path / (NAME + ".part")).stat().st_size == CUT_AFTER
    assert not (tmp_path / NAME).exists()

    monkeypatch.undo()
    assert fetch(server, tmp_path).read_bytes() == server.body


def test_not_enough_space_fails_before_downloading(server, tmp_path, monkeypatch):
    monkeypatch.setattr(dl.shutil, "disk_usage", lambda path: type("Usage", (), {"free": 1000}))
    with pytest.raises(ReleaseError, match=r"^not enough disk space in .*: the download needs"):
        fetch(server, tmp_path)
    assert not (tmp_path / NAME).exists()


def test_read_download_record_ignores_missing_or_stale_records(server, tmp_path):
    assert read_download_record(tmp_path / NAME) is None
    zip_path = fetch(server, tmp_path)
    zip_path.write_bytes(b"replaced by hand")
    assert read_download_record(zip_path) is None


def test_the_release_takes_its_checksum_and_date_from_the_download_record(server, tmp_path, monkeypatch):
    zip_path = fetch(server, tmp_path)
    monkeypatch.setattr("pdclosures.release.sha256_file", lambda *args, **kwargs: pytest.fail("hashed again"))
    release = open_release(zip_path)
    assert release.checksum() == hashlib.sha256(server.body).hexdigest()
    assert release.release_date() == "2026-04-01"  # Last-Modified: Wed, 01 Apr 2026 12:00:00 GMT


def test_destination_is_the_unquoted_basename():
    assert dl.destination(dl.DEFAULT_URL, "data/raw") == Path("data/raw") / NAME
    with pytest.raises(ReleaseError, match="cannot tell the file name"):
        dl.destination("https://example.org/", "data/raw")


# --------------------------------------------------------------------------------------------
# make check-release


def check(served: ServedFile, dest: Path, capsys) -> tuple[int, str, str]:
    code = dl.main(["--check", "--url", served.url, "--dest", str(dest)])
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_check_release_before_any_download_asks_nothing(server, tmp_path, capsys):
    assert check(server, tmp_path / "raw", capsys) == (
        0,
        f"no release downloaded yet in {tmp_path / 'raw'} (make download fetches it)",
        "",
    )
    assert server.requests == []


def test_check_release_up_to_date_with_a_head_request_only(server, tmp_path, capsys):
    fetch(server, tmp_path)
    capsys.readouterr()
    served_before = len(server.requests)

    code, out, err = check(server, tmp_path, capsys)

    assert (code, err) == (0, "")
    assert out == f"up to date: {NAME}, published 2026-04-01, {len(server.body):,} bytes"
    assert server.requests[served_before:] == [{"method": "HEAD"}]  # nothing downloaded
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME, NAME + ".download.json"]


@pytest.mark.parametrize("change", ["date", "size"])
def test_check_release_sees_a_newer_release(server, tmp_path, capsys, change):
    fetch(server, tmp_path)
    capsys.readouterr()
    if change == "date":
        server.last_modified = "Fri, 01 May 2026 12:00:00 GMT"
    else:
        server.body = server.body + b"more"

    code, out, err = check(server, tmp_path, capsys)

    assert (code, err) == (0, "")
    date = "2026-05-01" if change == "date" else "2026-04-01"
    assert out.startswith(
        f"newer release published {date} ({len(server.body):,} bytes; yours: {NAME}, published 2026-04-01"
    )
    assert out.endswith("make download FORCE=1 fetches it")
    assert (tmp_path / NAME).stat().st_size == len(make_zip(seed=1))  # the zip in DEST is untouched


def test_check_release_on_a_server_that_refuses_head_asks_for_one_byte(server, tmp_path, capsys):
    fetch(server, tmp_path)
    capsys.readouterr()
    server.head = False
    served_before = len(server.requests)

    code, out, _ = check(server, tmp_path, capsys)

    assert code == 0 and out.startswith("up to date: ")
    assert server.requests[served_before:] == [{"method": "HEAD"}, {"Range": "bytes=0-0", "If-Range": None}]


def test_check_release_finds_the_record_of_a_zip_under_another_name(server, tmp_path, capsys):
    fetch(server, tmp_path)
    capsys.readouterr()
    moved = server.url.replace("EOIR%20Case%20Data.zip", "case-data-2026.zip")
    assert dl.check_release(moved, tmp_path).startswith(f"up to date: {NAME}, ")


def test_check_release_unreachable_server_is_one_line(tmp_path, capsys):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    zip_path = tmp_path / NAME
    zip_path.write_bytes(b"zip")
    (tmp_path / (NAME + ".download.json")).write_text('{"size": 3, "last_modified": "x"}')
    url = f"http://127.0.0.1:{port}/EOIR%20Case%20Data.zip"

    assert dl.main(["--check", "--url", url, "--dest", str(tmp_path)]) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert re.fullmatch(rf"error: cannot reach 127\.0\.0\.1:{port}: .*; check your connection\n", err)


def test_check_release_not_found_names_the_foia_library_page(server, tmp_path, capsys):
    fetch(server, tmp_path)
    capsys.readouterr()
    server.status = 404
    code, out, err = check(server, tmp_path, capsys)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {server.url} not found (404)") and len(err.splitlines()) == 1
