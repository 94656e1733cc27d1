"""The broker's object store speaks the S3 subset Tansu uses, with real conditional writes.

The conditional writes are the point (ADR 0011): s3rver ignored them, and a restarted
broker then reset every partition it produced to first.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from kontor_local.objectstore import DiskStore, ObjectServer

pytestmark = pytest.mark.unit

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[httpx.Client]:
    store = DiskStore(tmp_path / "root")
    store.create_bucket("b")
    server = ObjectServer(("127.0.0.1", 0), store)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    port = server.server_address[1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def keys(response: httpx.Response) -> list[str]:
    root = ElementTree.fromstring(response.content)
    return [el.text or "" for el in root.iter(f"{NS}Key")]


def test_create_only_and_update_only_that_version(s3: httpx.Client) -> None:
    created = s3.put("/b/p/watermark.json", content=b"1", headers={"If-None-Match": "*"})
    assert created.status_code == 200
    first = created.headers["ETag"]
    # a second "create only" (a restarted broker that has not read it yet) is refused
    again = s3.put("/b/p/watermark.json", content=b"0", headers={"If-None-Match": "*"})
    assert again.status_code == 412
    assert s3.get("/b/p/watermark.json").content == b"1"

    updated = s3.put("/b/p/watermark.json", content=b"2", headers={"If-Match": first})
    assert updated.status_code == 200
    # the same old version again: a lost race, refused
    stale = s3.put("/b/p/watermark.json", content=b"3", headers={"If-Match": first})
    assert stale.status_code == 412
    assert s3.get("/b/p/watermark.json").content == b"2"
    missing = s3.put("/b/p/nothing", content=b"x", headers={"If-Match": first})
    assert missing.status_code == 412


def test_get_head_not_modified_and_delete(s3: httpx.Client) -> None:
    tag = s3.put("/b/a/x.batch", content=b"hello").headers["ETag"]
    got = s3.get("/b/a/x.batch")
    assert (got.status_code, got.content, got.headers["ETag"]) == (200, b"hello", tag)
    assert "GMT" in got.headers["Last-Modified"]
    assert s3.head("/b/a/x.batch").headers["Content-Length"] == "5"
    assert s3.get("/b/a/x.batch", headers={"If-None-Match": tag}).status_code == 304
    assert s3.get("/b/a/nope").status_code == 404
    assert b"NoSuchKey" in s3.get("/b/a/nope").content
    assert s3.delete("/b/a/x.batch").status_code == 204
    assert s3.get("/b/a/x.batch").status_code == 404
    assert s3.get("/nobucket/k").status_code == 404
    assert s3.put("/b/%2E%2E/escape", content=b"x").status_code == 400  # no way out of root


def test_list_v2_prefix_delimiter_and_pages(s3: httpx.Client) -> None:
    for offset in (3, 1, 2, 10):
        s3.put(f"/b/t/records/{offset:020}.batch", content=b"r")
    s3.put("/b/t/watermark.json", content=b"w")
    s3.put("/b/u/other", content=b"o")
    listed = s3.get("/b", params={"list-type": "2", "prefix": "t/records/"})
    assert keys(listed) == [f"t/records/{n:020}.batch" for n in (1, 2, 3, 10)]

    page = s3.get("/b", params={"list-type": "2", "prefix": "t/", "max-keys": "2"})
    root = ElementTree.fromstring(page.content)
    assert root.findtext(f"{NS}IsTruncated") == "true"
    token = root.findtext(f"{NS}NextContinuationToken") or ""
    rest = s3.get("/b", params={"list-type": "2", "prefix": "t/", "continuation-token": token})
    assert keys(page) + keys(rest) == [
        *(f"t/records/{n:020}.batch" for n in (1, 2, 3, 10)),
        "t/watermark.json",
    ]

    folders = s3.get("/b", params={"list-type": "2", "prefix": "", "delimiter": "/"})
    root = ElementTree.fromstring(folders.content)
    assert [el.text for el in root.iter(f"{NS}Prefix") if el.text] == ["t/", "u/"]
    assert keys(folders) == []


def test_bulk_delete(s3: httpx.Client) -> None:
    s3.put("/b/k1", content=b"1")
    s3.put("/b/k2", content=b"2")
    body = b"<Delete><Object><Key>k1</Key></Object><Object><Key>k2</Key></Object></Delete>"
    deleted = s3.post("/b", params={"delete": ""}, content=body)
    assert deleted.status_code == 200
    assert keys(deleted) == ["k1", "k2"]
    assert keys(s3.get("/b", params={"list-type": "2"})) == []


def test_objects_survive_a_new_server_and_half_writes_are_dropped(tmp_path: Path) -> None:
    first = DiskStore(tmp_path)
    first.create_bucket("b")
    tag = first.put("b", "k/v", b"kept", None, "*")
    (tmp_path / ".tmp" / "half-written").write_bytes(b"x")  # a write a SIGKILL cut short

    second = DiskStore(tmp_path, fsync=True)
    assert second.get("b", "k/v")[:2] == (b"kept", tag)
    assert not list((tmp_path / ".tmp").iterdir())
    assert [key for key, _, _ in second.list("b", "")] == ["k/v"]
    assert second.put("b", "k/v", b"new", tag, None) != tag


def test_a_get_is_not_held_back_by_nagle(s3: httpx.Client) -> None:
    """Headers and body are written separately; with Nagle's algorithm the body waited for
    the client's delayed ACK (40 ms or more on Linux) and every GET of a record batch took
    ~44 ms, so a consumer on ``s3://`` read ~25 separately produced batches/s."""
    s3.put("/b/p/records/1.batch", content=b"r" * 4096)
    s3.get("/b/p/records/1.batch")  # connect once; the rest reuse the connection
    took = []
    for _ in range(15):
        started = time.perf_counter()
        assert len(s3.get("/b/p/records/1.batch").content) == 4096
        took.append(time.perf_counter() - started)
    assert statistics.median(took) < 0.030, f"median GET {statistics.median(took) * 1000:.1f} ms"
