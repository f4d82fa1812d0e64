from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bountybox.core.signing import (
    DOWNLOAD_TTL_SECONDS,
    download_query,
    sign_download,
    verify_download,
)

SECRET = "installation-secret"
NOW = 1_700_000_000.25
EXPIRES = 1_700_003_600


def test_signature_is_hex_hmac_sha256_of_id_and_expiry() -> None:
    expected = hmac.new(b"installation-secret", b"42:1700003600", hashlib.sha256).hexdigest()
    assert sign_download(SECRET, 42, EXPIRES) == expected


def test_valid_signature_verifies() -> None:
    signature = sign_download(SECRET, 42, EXPIRES)
    assert verify_download(SECRET, 42, EXPIRES, signature, now=NOW)


def test_signature_verifies_until_the_expiry_second_itself() -> None:
    signature = sign_download(SECRET, 42, EXPIRES)
    assert verify_download(SECRET, 42, EXPIRES, signature, now=EXPIRES)
    assert not verify_download(SECRET, 42, EXPIRES, signature, now=EXPIRES + 0.001)


def test_expired_signature_is_refused() -> None:
    signature = sign_download(SECRET, 42, EXPIRES)
    assert not verify_download(SECRET, 42, EXPIRES, signature, now=EXPIRES + 3600)


def test_signature_for_another_attachment_is_refused() -> None:
    signature = sign_download(SECRET, 42, EXPIRES)
    assert not verify_download(SECRET, 43, EXPIRES, signature, now=NOW)


def test_extended_expiry_is_refused() -> None:
    signature = sign_download(SECRET, 42, EXPIRES)
    assert not verify_download(SECRET, 42, EXPIRES + 86400, signature, now=NOW)


def test_signature_from_another_secret_is_refused() -> None:
    signature = sign_download("other-secret", 42, EXPIRES)
    assert not verify_download(SECRET, 42, EXPIRES, signature, now=NOW)


def test_tampered_signature_is_refused() -> None:
    signature = sign_download(SECRET, 42, EXPIRES)
    flipped = ("1" if signature[0] == "0" else "0") + signature[1:]
    assert not verify_download(SECRET, 42, EXPIRES, flipped, now=NOW)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "abc",
        "z" * 64,
        "é" * 64,
        "0" * 63,
        "0" * 65,
        sign_download(SECRET, 42, EXPIRES).upper(),
        sign_download(SECRET, 42, EXPIRES) + "\n",
        " " + sign_download(SECRET, 42, EXPIRES),
    ],
)
def test_malformed_signature_is_refused(signature: str) -> None:
    assert not verify_download(SECRET, 42, EXPIRES, signature, now=NOW)


@pytest.mark.parametrize("now", [float("nan"), float("inf")])
def test_non_finite_clock_is_refused(now: float) -> None:
    signature = sign_download(SECRET, 42, EXPIRES)
    assert not verify_download(SECRET, 42, EXPIRES, signature, now=now)


def test_download_query_expires_after_the_default_ttl() -> None:
    query = parse_qs(download_query(SECRET, 42, now=NOW), strict_parsing=True)
    assert query["expires"] == [str(int(NOW) + DOWNLOAD_TTL_SECONDS)]
    assert DOWNLOAD_TTL_SECONDS == 3600
    expires = int(query["expires"][0])
    signature = query["signature"][0]
    assert verify_download(SECRET, 42, expires, signature, now=NOW + DOWNLOAD_TTL_SECONDS - 1)
    assert not verify_download(SECRET, 42, expires, signature, now=NOW + DOWNLOAD_TTL_SECONDS)


def test_download_query_has_exactly_expires_and_signature() -> None:
    query = download_query(SECRET, 7, now=100.0, ttl=60)
    assert query == f"expires=160&signature={sign_download(SECRET, 7, 160)}"


@given(
    secret=st.text(min_size=1),
    attachment_id=st.integers(min_value=0, max_value=2**63 - 1),
    now=st.integers(min_value=0, max_value=2**40),
    ttl=st.integers(min_value=1, max_value=7 * 86400),
    elapsed=st.floats(min_value=0, max_value=1, exclude_max=False),
)
def test_a_signed_query_verifies_until_it_expires(
    secret: str, attachment_id: int, now: int, ttl: int, elapsed: float
) -> None:
    query = parse_qs(download_query(secret, attachment_id, now=now, ttl=ttl))
    expires = int(query["expires"][0])
    signature = query["signature"][0]
    assert verify_download(secret, attachment_id, expires, signature, now=now + elapsed * ttl)
    assert not verify_download(secret, attachment_id, expires, signature, now=expires + 1)


@given(
    attachment_id=st.integers(min_value=0, max_value=2**31),
    other_id=st.integers(min_value=0, max_value=2**31),
    expires=st.integers(min_value=0, max_value=2**40),
)
def test_a_signature_only_verifies_for_its_own_attachment(
    attachment_id: int, other_id: int, expires: int
) -> None:
    signature = sign_download(SECRET, attachment_id, expires)
    valid = verify_download(SECRET, other_id, expires, signature, now=0)
    assert valid == (attachment_id == other_id)
