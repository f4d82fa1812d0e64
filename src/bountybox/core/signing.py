"""Pre-signed, time-limited attachment download URLs.

HackerOne hands out attachments as an `expiring_url` that works without credentials for about an
hour, and clients pass those URLs on to browsers and chat tools that cannot send an API token. A
signature over the attachment id and the expiry time, keyed with the installation secret, gives
the same property with no state to store: the download route only has to check it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from typing import Final
from urllib.parse import quote

DOWNLOAD_TTL_SECONDS: Final = 3600

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


def sign_download(secret: str, attachment_id: int, expires: int) -> str:
    """Hex HMAC-SHA256 of f"{attachment_id}:{expires}"."""
    message = f"{attachment_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_download(
    secret: str, attachment_id: int, expires: int, signature: str, now: float
) -> bool:
    """True only for an unexpired URL whose signature this secret made."""
    if not math.isfinite(now) or now > expires:
        return False
    # Only the lowercase hex form is ever issued; refusing anything else up front also keeps
    # non-ASCII input away from compare_digest, which raises TypeError on it.
    if not _HEX_SHA256.fullmatch(signature):
        return False
    return hmac.compare_digest(sign_download(secret, attachment_id, expires), signature)


def scoped_secret(secret: str, scope: str) -> str:
    """A signing key of its own for one kind of downloadable file, so that a link signed for
    one kind never opens a file of another kind that has the same id."""
    return hmac.new(secret.encode(), f"download-scope:{scope}".encode(), hashlib.sha256).hexdigest()


def download_query(
    secret: str, attachment_id: int, now: float, ttl: int = DOWNLOAD_TTL_SECONDS
) -> str:
    """The query string of a download URL valid for ttl seconds from now."""
    expires = int(now) + ttl
    return f"expires={expires}&signature={sign_download(secret, attachment_id, expires)}"


def download_url(root_url: str, secret: str, attachment_id: int, file_name: str, now: float) -> str:
    """The absolute `expiring_url` of an attachment, served by bountybox itself."""
    query = download_query(secret, attachment_id, now)
    return f"{root_url}/attachments/{attachment_id}/{quote(file_name, safe='')}?{query}"
