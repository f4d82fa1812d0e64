"""One clock for the whole process, so time can be frozen or advanced (sandbox mode, tests)."""

from __future__ import annotations

import datetime as dt


def truncate_ms(value: dt.datetime) -> dt.datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class Clock:
    """Wall-clock UTC time with millisecond resolution (what the wire format carries)."""

    def __init__(self) -> None:
        self._frozen: dt.datetime | None = None
        self._offset = dt.timedelta()

    def now(self) -> dt.datetime:
        base = self._frozen if self._frozen is not None else dt.datetime.now(dt.UTC)
        return truncate_ms(base + self._offset)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def freeze(self, at: dt.datetime) -> None:
        self._frozen = at.astimezone(dt.UTC)
        self._offset = dt.timedelta()

    def advance(self, delta: dt.timedelta) -> None:
        self._offset += delta

    def release(self) -> None:
        self._frozen = None
        self._offset = dt.timedelta()
