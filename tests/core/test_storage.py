from __future__ import annotations

import re
from pathlib import Path

import pytest

from bountybox.config import Settings
from bountybox.core.storage import LocalStorage, Storage, new_storage_key, storage_from_settings

TRAVERSAL_KEYS = [
    "",
    "../secret",
    "..",
    "a/../../b",
    "nested/key",
    "/etc/passwd",
    "..\\windows",
    "a\\b",
    "key\x00.png",
    "a..b",
    ".tmp-partial",
]


def test_local_storage_implements_the_protocol(tmp_path: Path) -> None:
    storage: Storage = LocalStorage(tmp_path)
    assert isinstance(storage, LocalStorage)


async def test_saved_bytes_load_back(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "attachments")
    data = bytes(range(256)) * 10
    await storage.save("abc.png", data)
    assert await storage.load("abc.png") == data
    assert (tmp_path / "attachments" / "abc.png").read_bytes() == data


async def test_saving_again_replaces_the_bytes_and_leaves_no_temp_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    await storage.save("key", b"old")
    await storage.save("key", b"new")
    assert await storage.load("key") == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"]


async def test_empty_data_round_trips(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    await storage.save("empty", b"")
    assert await storage.load("empty") == b""


async def test_missing_key_raises_key_error(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(KeyError):
        await storage.load("nothing-here")


async def test_missing_root_loads_as_missing_key(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "never-created")
    with pytest.raises(KeyError):
        await storage.load("key")


async def test_delete_removes_the_file_and_is_idempotent(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    await storage.save("key", b"data")
    await storage.delete("key")
    await storage.delete("key")
    await storage.delete("never-saved")
    with pytest.raises(KeyError):
        await storage.load("key")


@pytest.mark.parametrize("key", TRAVERSAL_KEYS)
async def test_keys_that_could_escape_the_root_are_rejected(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.save(key, b"x")
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.load(key)
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.delete(key)
    assert list(tmp_path.iterdir()) == []


def test_storage_from_settings_uses_the_attachments_directory(tmp_path: Path) -> None:
    storage = storage_from_settings(Settings(data_dir=tmp_path))
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "attachments"


def test_new_keys_are_unique() -> None:
    keys = {new_storage_key("poc.png") for _ in range(1000)}
    assert len(keys) == 1000


@pytest.mark.parametrize(
    ("file_name", "extension"),
    [
        ("poc.png", ".png"),
        ("Screenshot 2024.JPEG", ".jpeg"),
        ("archive.tar.gz", ".gz"),
        ("no-extension", ""),
        ("", ""),
        (".", ""),
        ("trailing.", ""),
        ("../../etc/passwd", ""),
        ("..\\..\\boot.ini", ".ini"),
        ("evil.png/../../x", ""),
        ("x.p\x00ng", ""),
        ("x.png\n", ""),
        ("x.ünï", ""),
        ("x." + "a" * 17, ""),
        ("x.html<script>", ""),
    ],
)
def test_new_keys_are_safe_and_keep_plain_extensions(file_name: str, extension: str) -> None:
    key = new_storage_key(file_name)
    assert re.fullmatch(r"[0-9a-f]{32}(\.[a-z0-9]{1,16})?", key)
    assert key.endswith(extension)
    assert ".." not in key
    assert "/" not in key
    assert "\\" not in key


async def test_new_keys_are_accepted_by_local_storage(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    key = new_storage_key("../../poc.PNG")
    await storage.save(key, b"png")
    assert await storage.load(key) == b"png"
