"""The S3 artifact store against a real S3-compatible server on loopback (moto's server, in its own process,
started here): two machines that share no folder share results; what comes back must hash to its name;
credentials come from the settings alone."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldenchain.errors import UsageError
from goldenchain.store.artifacts import ArtifactMissing, ArtifactStore
from goldenchain.store.s3 import S3Remote, parse_s3_url, s3_remote_from_settings

PNG = b"\x89PNG\r\n\x1a\n" + b"not really an image, but named like one" * 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, "the S3 server did not start"
                assert time.time() < deadline, "the S3 server did not listen within 60 s"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def settings(endpoint: str, bucket: str, **extra: str) -> dict[str, str]:
    return {
        "GOLDENCHAIN_ARTIFACTS_URL": f"s3://{bucket}/studio/acme",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **extra,
    }


def remote(endpoint: str, bucket: str) -> S3Remote:
    env = settings(endpoint, bucket)
    r = s3_remote_from_settings(env.get)
    assert r is not None
    r.client.create_bucket(Bucket=bucket)
    return r


def test_two_machines_without_a_shared_folder_share_results(tmp_path: Path, s3_endpoint: str) -> None:
    r = remote(s3_endpoint, "shared-a")
    a = ArtifactStore(tmp_path / "render-01" / "artifacts", r)
    b = ArtifactStore(tmp_path / "render-02" / "artifacts", r)
    sha, path_a, mime = a.put(PNG)
    assert mime == "image/png" and sha == hashlib.sha256(PNG).hexdigest()
    key = f"studio/acme/sha256/{sha[:2]}/{sha[2:]}.png"
    obj = r.client.get_object(Bucket="shared-a", Key=key)
    assert obj["Body"].read() == PNG and obj["ContentType"] == "image/png"
    path_b = b.root / path_a.relative_to(a.root)
    assert not path_b.exists()
    assert b.local(path_b).read_bytes() == PNG  # fetched from the shared copy, then kept here
    assert path_b.is_file()
    a.put(PNG)  # the same result again: one object, the same bytes
    listed = r.client.list_objects_v2(Bucket="shared-a", Prefix="studio/acme/")
    assert [o["Key"] for o in listed["Contents"]] == [key]


def test_an_altered_or_missing_object_is_refused(tmp_path: Path, s3_endpoint: str) -> None:
    r = remote(s3_endpoint, "shared-b")
    a = ArtifactStore(tmp_path / "a" / "artifacts", r)
    b = ArtifactStore(tmp_path / "b" / "artifacts", r)
    _, path_a, _ = a.put(PNG)
    rel = path_a.relative_to(a.root).as_posix()
    r.client.put_object(Bucket="shared-b", Key=r.key(rel), Body=PNG + b"tampered")
    with pytest.raises(ArtifactMissing, match="does not hash to its name"):
        b.local(b.root / rel)
    assert not (b.root / rel).exists()
    with pytest.raises(ArtifactMissing, match="is not in s3://shared-b/studio/acme/"):
        b.local(b.root / "sha256" / "00" / ("0" * 62 + ".png"))


def test_credentials_and_url_come_from_the_settings_only(s3_endpoint: str) -> None:
    empty: dict[str, str] = {}
    assert s3_remote_from_settings(empty.get) is None  # no shared copy: the local folder alone
    env = settings(s3_endpoint, "x")
    del env["AWS_SECRET_ACCESS_KEY"]
    with pytest.raises(UsageError, match="AWS_SECRET_ACCESS_KEY"):
        s3_remote_from_settings(env.get)
    for bad in ("s3://", "http://bucket/x", "s3://bucket/x?y=1"):
        with pytest.raises(UsageError, match="s3://bucket/prefix"):
            parse_s3_url(bad)
    assert parse_s3_url("s3://bucket/a/b/") == ("bucket", "a/b")
    assert parse_s3_url("s3://bucket") == ("bucket", "")
