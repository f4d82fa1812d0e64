"""The error tree. Each class carries its HTTP status; one handler renders them all as HackerOne
error bodies: {"errors":[{"status":..., "title":..., "detail":..., "source":{"parameter":...}}]}.

    AppError
    ├── InvalidParameter      400 "Invalid Parameter" (source.parameter names the culprit)
    │   └── ValidationFailed  400 "Validation Failed"
    ├── BadRequest            400 (malformed JSON, body too large, ...)
    ├── Unauthenticated       401
    ├── Forbidden             403 (bare {"status":403} unless a detail is given)
    ├── NotFound              404
    ├── NotAcceptable         406
    ├── Unprocessable         422
    ├── RateLimited           429 (+ Retry-After)
    ├── ServerError           500
    └── Unavailable           503
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status: int = 500
    title: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        parameter: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title or self.__class__.__name__)
        self.detail = detail
        self.parameter = parameter
        if title is not None:
            self.title = title
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status}
        if self.title is not None:
            error["title"] = self.title
        if self.detail is not None:
            error["detail"] = self.detail
        if self.parameter is not None:
            error["source"] = {"parameter": self.parameter}
        return {"errors": [error]}


class InvalidParameter(AppError):
    status = 400
    title = "Invalid Parameter"

    def __init__(self, parameter: str, detail: str | None = None) -> None:
        super().__init__(detail or f"The parameter '{parameter}' is invalid.", parameter=parameter)


class ValidationFailed(AppError):
    status = 400
    title = "Validation Failed"


class BadRequest(AppError):
    status = 400
    title = "Bad Request"


class Unauthenticated(AppError):
    status = 401
    title = "Unauthorized"


class Forbidden(AppError):
    """HackerOne answers a missing or invisible report with a bare {"status":403}."""

    status = 403


class NotFound(AppError):
    status = 404
    title = "Not Found"


class NotAcceptable(AppError):
    status = 406
    title = "Not Acceptable"


class Unprocessable(AppError):
    status = 422
    title = "Unprocessable Entity"


class RateLimited(AppError):
    status = 429
    title = "Too Many Requests"


class ServerError(AppError):
    status = 500


class Unavailable(AppError):
    status = 503
    title = "Service Unavailable"
