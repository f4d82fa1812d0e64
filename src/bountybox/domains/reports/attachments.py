"""Attachment files: reading a multipart upload with its size and content-type checks, and serving
the signed, expiring download links that `expiring_url` hands out."""

from __future__ import annotations

import mimetypes
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from bountybox.core.errors import AppError, Forbidden, InvalidParameter, NotFound
from bountybox.core.http import AppState, PayloadTooLarge, error_response
from bountybox.core.jsonapi.query import parse_id
from bountybox.core.signing import scoped_secret, verify_download
from bountybox.core.storage import Storage
from bountybox.db.models import Attachment

FIELD_NAMES = ("file", "file[]", "files[]", "files")
MAX_FILE_NAME = 255
MAX_GIF_SIZE = (1920, 1080)
# Types a browser would run if it were ever served inline; refused outright.
REFUSED_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/xml",
        "application/xml",
    }
)
# Declared types whose content must start with their signature.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "application/gzip": (b"\x1f\x8b",),
    "video/webm": (b"\x1a\x45\xdf\xa3",),
}


@dataclass(frozen=True)
class Upload:
    file_name: str
    content_type: str
    data: bytes


async def read_upload(request: Request, limit: int) -> Upload:
    return (await read_uploads(request, limit, max_files=1))[0]


async def read_uploads(
    request: Request, limit: int, *, max_files: int, field: str = "file"
) -> list[Upload]:
    """Every file of a multipart body (`file`, `files[]`, ...), each checked; `field` is the
    parameter errors name."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit * max_files + 64 * 1024:
        raise PayloadTooLarge(f"Attachments are limited to {limit} bytes.")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidParameter(
            field, f"Upload the file as multipart/form-data in the field '{field}'."
        )
    try:
        form = await request.form(max_files=max_files, max_fields=16)
    except Exception:
        raise InvalidParameter(field, "The multipart body could not be read.") from None
    try:
        files = [v for k in FIELD_NAMES for v in form.getlist(k) if isinstance(v, UploadFile)]
        if not files:
            raise InvalidParameter(field, f"No file was sent in the field '{field}'.")
        return [await checked_upload(upload, limit, field) for upload in files]
    finally:
        await form.close()


async def checked_upload(upload: UploadFile, limit: int, field: str) -> Upload:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"Attachments are limited to {limit} bytes.")
    if not data:
        raise InvalidParameter(field, "The file is empty.")
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or len(name) > MAX_FILE_NAME or "\x00" in name:
        raise InvalidParameter(field, f"File names must be 1 to {MAX_FILE_NAME} characters.")
    try:
        content_type = checked_content_type(name, upload.content_type, data)
    except InvalidParameter as error:
        raise InvalidParameter(field, error.detail) from None
    return Upload(file_name=name, content_type=content_type, data=data)


def checked_content_type(name: str, declared: str | None, data: bytes) -> str:
    content_type = (declared or "").split(";")[0].strip().lower()
    if not content_type or content_type == "application/octet-stream":
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type in REFUSED_TYPES or content_type.endswith("+xml"):
        raise InvalidParameter("file", f"Files of type {content_type} are not accepted.")
    signatures = SIGNATURES.get(content_type)
    if content_type in ("video/mp4", "video/quicktime"):
        if data[4:8] != b"ftyp":
            raise InvalidParameter("file", f"The file is not a {content_type} file.")
    elif content_type == "image/webp":
        if not (data.startswith(b"RIFF") and data[8:12] == b"WEBP"):
            raise InvalidParameter("file", "The file is not a WebP image.")
    elif signatures is not None and not data.startswith(signatures):
        raise InvalidParameter("file", f"The file is not a {content_type} file.")
    if content_type == "image/gif" and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        if width > MAX_GIF_SIZE[0] or height > MAX_GIF_SIZE[1]:
            raise InvalidParameter("file", "GIFs may be at most 1920x1080 pixels.")
    return content_type


def delete_files(storage: Storage, keys: list[str]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        for key in keys:
            await storage.delete(key)

    return run


async def download(
    request: Request, *, model: type[Any] = Attachment, scope: str | None = None
) -> Response:
    """`model` is the table the file's row lives in; `scope` names the signing key of that kind
    of file (see core.signing.scoped_secret), None for report attachments."""
    state: AppState = request.app.state.bountybox
    try:
        attachment_id = parse_id(request.path_params["id"])
        try:
            expires = int(request.query_params.get("expires", ""))
        except ValueError:
            raise Forbidden("The link is invalid or has expired.") from None
        signature = request.query_params.get("signature", "")
        now = state.clock.now().timestamp()
        secret = state.secret if scope is None else scoped_secret(state.secret, scope)
        if attachment_id is None or not verify_download(
            secret, attachment_id, expires, signature, now
        ):
            raise Forbidden("The link is invalid or has expired.")
        async with state.sessionmaker() as session:
            attachment = await session.get(model, attachment_id)
        if attachment is None:
            raise NotFound("The attachment no longer exists.")
        try:
            data = await state.storage.load(attachment.storage_key)
        except KeyError:
            raise NotFound("The attachment no longer exists.") from None
    except AppError as error:
        return error_response(error)
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.file_name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, max-age=300",
        },
    )
