"""Where recording audio is kept: a local folder (the default, `var/recordings/`) or an
S3-compatible bucket (`IVR_STORAGE_URL=s3://bucket/prefix`). Keys look like
`2026/11/23/RE0123….wav`; a write is complete or absent, never half-written."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit


class StorageError(RuntimeError):
    """The storage refused or failed an operation, or its URL is unusable."""


class AudioMissing(StorageError):
    """No audio is stored under the key (deleted, or never written)."""


class Storage(Protocol):
    def put(self, key: str, data: bytes, *, media_type: str) -> None:
        """Store `data` under `key`, replacing what was there, all or nothing."""

    def get(self, key: str) -> bytes:
        """The bytes under `key`; AudioMissing when there are none."""

    def local_path(self, key: str) -> Path | None:
        """A file to stream from, when the storage is a local folder."""

    def delete(self, key: str) -> None:
        """Remove `key`; removing what is not there is not an error."""

    def describe(self) -> str:
        """Where the audio goes, for logs and errors."""


def key_for(sid: str, started_at: datetime, extension: str) -> str:
    """`YYYY/MM/DD/<sid>.<ext>`: the day the recording started, in UTC."""
    if not sid.replace("-", "").isalnum():
        raise StorageError(f"refusing to store a recording with sid {sid!r}")
    return f"{started_at:%Y/%m/%d}/{sid}.{extension}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise StorageError(f"key {key!r} leaves the recordings folder")
        return path

    def put(self, key: str, data: bytes, *, media_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed over it: a crash leaves the old file or none.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise AudioMissing(f"no audio at {self._path(key)}") from None

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def describe(self) -> str:
        return str(self.root)


class S3Storage:
    """An S3-compatible bucket through boto3. Credentials come from the usual AWS places
    (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, an instance role)."""

    def __init__(self, bucket: str, prefix: str = "", *, client: object) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, *, media_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # A single PUT is atomic in S3: the object appears whole or not at all.
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=media_type
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"storing s3://{self.bucket}/{self._key(key)}: {exc}") from exc

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return answer["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise AudioMissing(f"no audio at s3://{self.bucket}/{self._key(key)}") from None
            raise StorageError(f"reading s3://{self.bucket}/{self._key(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"reading s3://{self.bucket}/{self._key(key)}: {exc}") from exc

    def local_path(self, key: str) -> Path | None:
        return None

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"deleting s3://{self.bucket}/{self._key(key)}: {exc}") from exc

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class StorageUrl:
    scheme: str  # file or s3
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None


def parse_storage_url(url: str) -> StorageUrl | None:
    """None for the default (a folder under IVR_VAR_DIR); StorageError for a URL that
    cannot work, naming what is wrong."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "file":
        if not parts.path.startswith("/"):
            raise StorageError(
                f"file URLs need an absolute path, e.g. file:///srv/rec, not {url!r}"
            )
        return StorageUrl("file", path=Path(parts.path))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise StorageError(f"s3 URLs name a bucket: s3://bucket/prefix, not {url!r}")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint_url", "region"}
        if unknown:
            raise StorageError(f"unknown s3 URL options {', '.join(sorted(unknown))}")
        endpoint = query.get("endpoint_url")
        if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
            raise StorageError(f"endpoint_url must be an http(s) URL, not {endpoint!r}")
        return StorageUrl(
            "s3",
            bucket=parts.netloc,
            prefix=parts.path.strip("/"),
            endpoint_url=endpoint,
            region=query.get("region"),
        )
    raise StorageError(f"must be empty, file:///path or s3://bucket/prefix, not {url!r}")


def open_storage(url: str, *, var_dir: Path) -> Storage:
    """The storage the settings name (IVR_STORAGE_URL; empty: `<IVR_VAR_DIR>/recordings`)."""
    parsed = parse_storage_url(url)
    if parsed is None:
        return LocalStorage(Path(var_dir) / "recordings")
    if parsed.scheme == "file":
        return LocalStorage(parsed.path)
    import boto3

    client = boto3.client("s3", endpoint_url=parsed.endpoint_url, region_name=parsed.region)
    return S3Storage(parsed.bucket, parsed.prefix, client=client)
