"""The artifact store's shared copy on an S3-compatible server (team mode without a shared disk).

Selected by ``GOLDENCHAIN_ARTIFACTS_URL=s3://bucket/prefix``; the server by ``AWS_ENDPOINT_URL`` (unset: AWS
itself), the region by ``AWS_REGION`` or ``AWS_DEFAULT_REGION``. Credentials come from the environment (or
the project's ``.env``) only: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and, for temporary ones,
``AWS_SESSION_TOKEN``; no profile file and no instance metadata is read. Objects are named by their content
(``prefix/sha256/ab/cdef...png``), so two workers writing the same result write the same bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from goldenchain.errors import UsageError

__all__ = ["S3Remote", "parse_s3_url", "s3_remote_from_settings"]


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix without slashes at its ends)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(f"GOLDENCHAIN_ARTIFACTS_URL must look like s3://bucket/prefix, not {url!r}")
    return parts.netloc, parts.path.strip("/")


@dataclass
class S3Remote:
    bucket: str
    prefix: str
    client: Any  # a boto3 S3 client

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def url(self, rel: str) -> str:
        return f"s3://{self.bucket}/{self.key(rel)}"

    def has(self, rel: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(rel))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put(self, rel: str, data: bytes, mime: str) -> None:
        """Upload unless the object is there already (same name, same bytes); the server checks the
        upload against its SHA-256."""
        if self.has(rel):
            return
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.key(rel),
            Body=data,
            ContentType=mime,
            ChecksumSHA256=_b64_sha256(data),
        )

    def get(self, rel: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=self.key(rel))["Body"].read())


def _b64_sha256(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def s3_remote_from_settings(get: Callable[[str], str | None]) -> S3Remote | None:
    """The shared copy named by the settings, or None when ``GOLDENCHAIN_ARTIFACTS_URL`` is unset."""
    url = get("GOLDENCHAIN_ARTIFACTS_URL")
    if not url:
        return None
    bucket, prefix = parse_s3_url(url)
    key_id, secret = get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")
    if not key_id or not secret:
        raise UsageError(
            "GOLDENCHAIN_ARTIFACTS_URL is set but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not; "
            "put them in the environment or the project's .env"
        )
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise UsageError("an s3:// artifact store needs boto3: pip install 'goldenchain[s3]'") from None
    session = boto3.session.Session(
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=get("AWS_SESSION_TOKEN"),
        region_name=get("AWS_REGION") or get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    client = session.client(
        "s3",
        endpoint_url=get("AWS_ENDPOINT_URL_S3") or get("AWS_ENDPOINT_URL"),
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, s3={"addressing_style": "path"}),
    )
    return S3Remote(bucket, prefix, client)
