"""Storage: a local folder by default, an S3-compatible bucket (moto's server, over real HTTP)
when IVR_STORAGE_URL says so; keys by day; writes all or nothing; clear errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from ivr.settings import SettingsError, from_env
from recordings.storage import (
    AudioMissing,
    LocalStorage,
    S3Storage,
    StorageError,
    key_for,
    open_storage,
    parse_storage_url,
)

SID = "RE" + "c" * 32
WHEN = datetime(2026, 11, 23, 23, 59, tzinfo=UTC)


def test_keys_are_the_day_and_the_sid():
    assert key_for(SID, WHEN, "wav") == f"2026/11/23/{SID}.wav"
    with pytest.raises(StorageError, match="refusing"):
        key_for("../../etc/passwd", WHEN, "wav")


def test_the_default_is_a_folder_under_the_var_dir(tmp_path):
    storage = open_storage("", var_dir=tmp_path)
    assert isinstance(storage, LocalStorage) and storage.root == tmp_path / "recordings"
    key = key_for(SID, WHEN, "wav")
    storage.put(key, b"RIFF audio", media_type="audio/wav")
    path = tmp_path / "recordings" / "2026" / "11" / "23" / f"{SID}.wav"
    assert path.read_bytes() == b"RIFF audio"
    assert storage.local_path(key) == path
    assert storage.get(key) == b"RIFF audio"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial files left
    storage.delete(key)
    storage.delete(key)  # already gone: not an error
    with pytest.raises(AudioMissing):
        storage.get(key)


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    storage = LocalStorage(tmp_path)
    key = key_for(SID, WHEN, "wav")
    storage.put(key, b"first", media_type="audio/wav")

    def broken_fsync(_fd):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        storage.put(key, b"second", media_type="audio/wav")
    assert storage.get(key) == b"first"
    assert [p.name for p in (tmp_path / "2026/11/23").iterdir()] == [f"{SID}.wav"]


def test_a_key_cannot_leave_the_folder(tmp_path):
    with pytest.raises(StorageError, match="leaves the recordings folder"):
        LocalStorage(tmp_path).put("../outside.wav", b"x", media_type="audio/wav")


def test_a_file_url_names_another_folder(tmp_path):
    storage = open_storage(f"file://{tmp_path}/elsewhere", var_dir=tmp_path)
    assert isinstance(storage, LocalStorage) and storage.root == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://host/x", "must be empty, file:///path or s3://bucket/prefix"),
        ("file://relative", "absolute path"),
        ("s3:///prefix", "name a bucket"),
        ("s3://bucket/p?color=red", "unknown s3 URL options color"),
        ("s3://bucket/p?endpoint_url=localhost:9000", "endpoint_url must be an http\\(s\\) URL"),
    ],
)
def test_unusable_storage_urls_are_refused_at_start_up(url, message, tmp_path):
    with pytest.raises(StorageError, match=message):
        parse_storage_url(url)
    with pytest.raises(SettingsError, match=f"IVR_STORAGE_URL: .*{message.split()[0]}"):
        from_env({"IVR_STORAGE_URL": url, "IVR_VAR_DIR": str(tmp_path)})


def test_recordings_go_to_an_s3_compatible_bucket(s3_endpoint, aws_credentials, tmp_path):
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="calls")
    url = f"s3://calls/center-1?endpoint_url={s3_endpoint}&region=us-east-1"
    settings = from_env({"IVR_STORAGE_URL": url, "IVR_VAR_DIR": str(tmp_path)})
    storage = open_storage(settings.storage_url, var_dir=Path(settings.var_dir))
    assert isinstance(storage, S3Storage) and storage.describe() == "s3://calls/center-1"
    key = key_for(SID, WHEN, "wav")
    storage.put(key, b"RIFF stereo", media_type="audio/wav")

    listed = boto3.client("s3", endpoint_url=s3_endpoint).get_object(
        Bucket="calls", Key=f"center-1/{key}"
    )
    assert listed["Body"].read() == b"RIFF stereo" and listed["ContentType"] == "audio/wav"
    assert storage.get(key) == b"RIFF stereo"
    assert storage.local_path(key) is None
    storage.delete(key)
    with pytest.raises(AudioMissing):
        storage.get(key)


def test_a_missing_bucket_is_a_storage_error(s3_endpoint, aws_credentials, tmp_path):
    storage = open_storage(f"s3://no-such-bucket?endpoint_url={s3_endpoint}", var_dir=tmp_path)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        storage.put(key_for(SID, WHEN, "wav"), b"x", media_type="audio/wav")
