"""A small S3-compatible object server on disk: the embedded broker's durable storage.

``python -m kontor_local.objectstore --root DIR --port P [--fsync]``

Tansu keeps its log, its partition watermarks and the consumer offsets as objects
when started with ``--storage-engine s3://BUCKET/``. This server gives it exactly
the part of the S3 API that Tansu's ``object_store`` client uses, on loopback:

- ``PUT /bucket`` (create bucket), ``PUT /bucket/key`` with the conditional headers
  ``If-None-Match: *`` (create only) and ``If-Match: <etag>`` (update only that
  version), answered 412 when the condition fails;
- ``GET``/``HEAD /bucket/key`` (with ``If-None-Match`` -> 304), ``DELETE``,
  ``POST /bucket?delete`` (bulk delete);
- ``GET /bucket?list-type=2`` with ``prefix``, ``delimiter``, ``start-after``,
  ``continuation-token`` and ``max-keys``.

Why not s3rver (npm): it ignores ``If-Match``/``If-None-Match`` on PUT. Tansu counts
on them for its watermarks: a restarted broker's first produce to a partition
writes its watermark "create only", gets 412 and reloads; on s3rver that write
succeeds instead, resets the partition to offset 0 and the earlier log is lost
(measured, ADR 0011). Requests are not authenticated (loopback only, like the rest
of the embedded runtime).

Each object is one file under ``root/<bucket>/<key>``; a write goes to a temporary
file that replaces the object atomically (``os.replace``), so a SIGKILL of this
server or of the broker leaves every object whole, old or new. ``--fsync`` also
flushes every write to the disk before answering (survives a power loss; costs
latency, like a Kafka broker with ``flush.messages=1``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import signal
import sys
import threading
import uuid
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
TMP_DIR = ".tmp"


class S3Failure(Exception):
    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class DiskStore:
    """Buckets as directories, objects as files; conditional writes under one lock."""

    def __init__(self, root: Path, *, fsync: bool = False) -> None:
        self.root = root
        self.fsync = fsync
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / TMP_DIR).mkdir(exist_ok=True)
        for leftover in (self.root / TMP_DIR).iterdir():  # half-written by a killed server
            leftover.unlink(missing_ok=True)
        self._lock = threading.Lock()
        self._etags: dict[Path, str] = {}

    # ----------------------------------------------------------------- paths

    def bucket_dir(self, bucket: str) -> Path:
        if not bucket or bucket.startswith(".") or "/" in bucket:
            raise S3Failure(HTTPStatus.BAD_REQUEST, "InvalidBucketName", bucket)
        return self.root / bucket

    def _existing_bucket(self, bucket: str) -> Path:
        directory = self.bucket_dir(bucket)
        if not directory.is_dir():
            raise S3Failure(HTTPStatus.NOT_FOUND, "NoSuchBucket", bucket)
        return directory

    def object_path(self, bucket: str, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") for p in parts):
            raise S3Failure(HTTPStatus.BAD_REQUEST, "InvalidArgument", f"key {key!r}")
        return self._existing_bucket(bucket).joinpath(*parts)

    # ----------------------------------------------------------------- operations

    def create_bucket(self, bucket: str) -> None:
        self.bucket_dir(bucket).mkdir(parents=True, exist_ok=True)

    def etag_of(self, path: Path) -> str | None:
        cached = self._etags.get(path)
        if cached is not None:
            return cached
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        tag = _etag(data)
        self._etags[path] = tag
        return tag

    def put(
        self, bucket: str, key: str, data: bytes, if_match: str | None, if_none_match: str | None
    ) -> str:
        path = self.object_path(bucket, key)
        tag = _etag(data)
        with self._lock:
            current = self.etag_of(path)
            if if_none_match == "*" and current is not None:
                raise S3Failure(HTTPStatus.PRECONDITION_FAILED, "PreconditionFailed", key)
            if if_match is not None and if_match != "*" and if_match != current:
                raise S3Failure(HTTPStatus.PRECONDITION_FAILED, "PreconditionFailed", key)
            if if_match == "*" and current is None:
                raise S3Failure(HTTPStatus.PRECONDITION_FAILED, "PreconditionFailed", key)
            self._write(path, data)
            self._etags[path] = tag
        return tag

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.root / TMP_DIR / uuid.uuid4().hex
        with tmp.open("wb") as out:
            out.write(data)
            if self.fsync:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, path)
        if self.fsync:
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def get(self, bucket: str, key: str) -> tuple[bytes, str, float]:
        path = self.object_path(bucket, key)
        try:
            data = path.read_bytes()
            mtime = path.stat().st_mtime
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise S3Failure(HTTPStatus.NOT_FOUND, "NoSuchKey", key) from None
        return data, _etag(data), mtime

    def delete(self, bucket: str, key: str) -> None:
        path = self.object_path(bucket, key)
        with self._lock:
            self._etags.pop(path, None)
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                path.unlink()

    def list(self, bucket: str, prefix: str) -> list[tuple[str, int, float]]:
        """(key, size, mtime) of every object whose key starts with ``prefix``, sorted."""
        directory = self._existing_bucket(bucket)
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = directory.joinpath(*base.split("/")) if base else directory
        found: list[tuple[str, int, float]] = []
        for folder, _dirs, files in os.walk(start):
            rel = Path(folder).relative_to(directory).as_posix()
            for name in files:
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    with contextlib.suppress(FileNotFoundError):
                        st = os.stat(os.path.join(folder, name))
                        found.append((key, st.st_size, st.st_mtime))
        found.sort(key=lambda item: item[0].encode())
        return found


def list_result_xml(
    bucket: str, prefix: str, delimiter: str, entries: list[tuple[str, int, float]], query: Any
) -> bytes:
    """ListObjectsV2: entries after ``start-after``/``continuation-token``, ``max-keys`` each."""
    after = query.get("continuation-token") or query.get("start-after") or ""
    max_keys = int(query.get("max-keys") or 1000)
    contents: list[tuple[str, int, float]] = []
    prefixes: list[str] = []
    last = ""
    truncated = False
    for key, size, mtime in entries:
        if after and key.encode() <= after.encode():
            continue
        if delimiter:
            rest = key[len(prefix) :]
            if delimiter in rest:
                common = prefix + rest.split(delimiter, 1)[0] + delimiter
                if prefixes and prefixes[-1] == common:
                    last = key
                    continue
                if len(contents) + len(prefixes) >= max_keys:
                    truncated = True
                    break
                prefixes.append(common)
                last = key
                continue
        if len(contents) + len(prefixes) >= max_keys:
            truncated = True
            break
        contents.append((key, size, mtime))
        last = key
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{S3_NS}">',
        f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>",
        f"<KeyCount>{len(contents) + len(prefixes)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>",
    ]
    if delimiter:
        parts.append(f"<Delimiter>{escape(delimiter)}</Delimiter>")
    parts.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
    if truncated:
        parts.append(f"<NextContinuationToken>{escape(last)}</NextContinuationToken>")
    for key, size, mtime in contents:
        parts.append(
            f"<Contents><Key>{escape(key)}</Key><LastModified>{_iso(mtime)}</LastModified>"
            f"<Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
        )
    for common in prefixes:
        parts.append(f"<CommonPrefixes><Prefix>{escape(common)}</Prefix></CommonPrefixes>")
    parts.append("</ListBucketResult>")
    return "".join(parts).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: a response goes out as headers, then body. With Nagle's algorithm the
    # body waited for the client's delayed (~40 ms) ACK of the headers: every GET of a
    # record batch took ~44 ms, and a consumer read ~25 separately produced batches/s.
    disable_nagle_algorithm = True
    server: ObjectServer

    def log_message(self, format: str, *args: Any) -> None:
        return  # one line per request would be most of the broker's traffic

    # ----------------------------------------------------------------- plumbing

    def _target(self) -> tuple[str, str, dict[str, str]]:
        url = urlsplit(self.path)
        path = url.path.lstrip("/")
        bucket, _, key = path.partition("/")
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        return unquote(bucket), unquote(key), query

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: HTTPStatus,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        head: bool = False,
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def _fail(self, failure: S3Failure) -> None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{failure.code}</Code>'
            f"<Message>{escape(str(failure))}</Message></Error>"
        ).encode()
        head = self.command == "HEAD"
        self._send(failure.status, body, {"Content-Type": "application/xml"}, head=head)

    def _run(self, action: Any) -> None:
        try:
            action()
        except S3Failure as failure:
            self._fail(failure)
        except OSError as exc:
            self._fail(S3Failure(HTTPStatus.INTERNAL_SERVER_ERROR, "InternalError", str(exc)))

    # ----------------------------------------------------------------- verbs

    def do_PUT(self) -> None:
        def put() -> None:
            bucket, key, _ = self._target()
            data = self._body()
            if not key:
                self.server.store.create_bucket(bucket)
                self._send(HTTPStatus.OK)
                return
            tag = self.server.store.put(
                bucket,
                key,
                data,
                self.headers.get("If-Match"),
                self.headers.get("If-None-Match"),
            )
            self._send(HTTPStatus.OK, headers={"ETag": tag})

        self._run(put)

    def do_GET(self) -> None:
        self._run(self._get)

    def do_HEAD(self) -> None:
        self._run(self._get)

    def _get(self) -> None:
        bucket, key, query = self._target()
        store = self.server.store
        head = self.command == "HEAD"
        if not key:
            if head:
                store._existing_bucket(bucket)
                self._send(HTTPStatus.OK, head=True)
                return
            prefix = query.get("prefix", "")
            entries = store.list(bucket, prefix)
            body = list_result_xml(bucket, prefix, query.get("delimiter", ""), entries, query)
            self._send(HTTPStatus.OK, body, {"Content-Type": "application/xml"})
            return
        data, tag, mtime = store.get(bucket, key)
        headers = {
            "ETag": tag,
            "Last-Modified": formatdate(mtime, usegmt=True),
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
        }
        none_match = self.headers.get("If-None-Match")
        if none_match is not None and none_match in (tag, "*"):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        match = self.headers.get("If-Match")
        if match is not None and match not in (tag, "*"):
            raise S3Failure(HTTPStatus.PRECONDITION_FAILED, "PreconditionFailed", key)
        self._send(HTTPStatus.OK, data, headers, head=head)

    def do_DELETE(self) -> None:
        def delete() -> None:
            bucket, key, _ = self._target()
            self.server.store.delete(bucket, key)
            self._send(HTTPStatus.NO_CONTENT)

        self._run(delete)

    def do_POST(self) -> None:
        def bulk_delete() -> None:
            bucket, _, query = self._target()
            if "delete" not in query:
                raise S3Failure(HTTPStatus.NOT_IMPLEMENTED, "NotImplemented", self.path)
            root = ElementTree.fromstring(self._body())
            keys = [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Key"]
            for key in keys:
                self.server.store.delete(bucket, key)
            deleted = "".join(f"<Deleted><Key>{escape(k)}</Key></Deleted>" for k in keys)
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>'
                f'<DeleteResult xmlns="{S3_NS}">{deleted}</DeleteResult>'
            ).encode()
            self._send(HTTPStatus.OK, body, {"Content-Type": "application/xml"})

        self._run(bulk_delete)


class ObjectServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: DiskStore) -> None:
        self.store = store
        super().__init__(address, Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kontor_local.objectstore")
    parser.add_argument("--root", type=Path, required=True, help="directory of the buckets")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bucket", action="append", default=[], help="create this bucket")
    parser.add_argument("--fsync", action="store_true", help="flush every write to the disk")
    args = parser.parse_args(argv)
    store = DiskStore(args.root, fsync=args.fsync)
    for bucket in args.bucket:
        store.create_bucket(bucket)
    server = ObjectServer((args.host, args.port), store)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"objectstore: {args.root} on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
