"""Injected faults: rules that make matching API requests fail on purpose (a status with the API's
own error body, added latency, a dropped connection), for a number of requests or with a
probability. The probability draws come from a generator seeded at every reset, so the same
requests fail in the same order on every run."""

from __future__ import annotations

import fnmatch
import itertools
import random
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from bountybox.core.errors import (
    AppError,
    BadRequest,
    Forbidden,
    NotAcceptable,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
    Unprocessable,
)
from bountybox.core.http import ERROR_HEADERS, error_response, json_response
from bountybox.sandbox.schemas import FaultCreate

# The error class whose body a fault of that status answers with.
ERRORS: dict[int, type[AppError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthenticated,
        Forbidden,
        NotFound,
        NotAcceptable,
        Unprocessable,
        RateLimited,
        Unavailable,
    )
}
DETAILS = {
    429: "Rate limit exceeded. Retry after {retry_after} seconds.",
    # What a request answers while the database is unreachable (core/http.py database_error).
    503: "The database is unavailable; retry shortly.",
}


@dataclass
class Fault:
    id: int
    rule: FaultCreate
    remaining: int | None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.rule.method is not None and self.rule.method != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.rule.path)

    def json(self) -> dict[str, Any]:
        return {
            **self.rule.model_dump(mode="json"),
            "id": str(self.id),
            "remaining": self.remaining,
            "hits": self.hits,
        }

    def response(self) -> Response:
        """The answer a faulted request gets instead of the API's."""
        rule = self.rule
        status = rule.status or 500
        headers = {"X-Bountybox-Fault": str(self.id), **rule.headers}
        if status in (429, 503):
            headers.setdefault("Retry-After", str(rule.retry_after))
        if rule.body is not None:
            return json_response(rule.body, status, {**ERROR_HEADERS, **headers})
        if status < 400:
            return json_response({}, status, headers)
        if status == 500:
            # The body of an unhandled error, with its error id (core/http.py internal_error).
            error_id = uuid.uuid4().hex
            body = {
                "errors": [
                    {
                        "status": 500,
                        "title": "Internal Server Error",
                        "detail": f"Error id {error_id}.",
                    }
                ]
            }
            return json_response(body, 500, {**ERROR_HEADERS, "X-Request-Id": error_id, **headers})
        error = self.error(status)
        error.headers.update(headers)
        return error_response(error)

    def error(self, status: int) -> AppError:
        detail = DETAILS.get(status, "").format(retry_after=self.rule.retry_after) or None
        known = ERRORS.get(status)
        if known is not None:
            return known(detail) if known is not Forbidden else Forbidden()
        error = AppError(detail, title=HTTPStatus(status).phrase)
        error.status = status
        return error


@dataclass
class FaultTable:
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.faults.clear()
        self._ids = itertools.count(1)
        self._draws = random.Random(0)

    def add(self, rule: FaultCreate) -> Fault:
        fault = Fault(next(self._ids), rule, rule.count)
        self.faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        kept = [f for f in self.faults if f.id != fault_id]
        removed = len(kept) != len(self.faults)
        self.faults[:] = kept
        return removed

    def take(self, method: str, path: str) -> Fault | None:
        """The first rule that fires for this request (its count goes down; at 0 it is gone)."""
        for fault in self.faults:
            if not fault.matches(method, path):
                continue
            if fault.rule.probability < 1 and self._draws.random() >= fault.rule.probability:
                continue
            fault.hits += 1
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
            return fault
        return None

    def json(self) -> list[dict[str, Any]]:
        return [fault.json() for fault in self.faults]
