"""Seed packs: whole installations as data files (see schemas.py for the format). The packs
shipped with bountybox live in data/; `named()` finds one by name, and `read()` parses a file."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from bountybox.core.errors import NotFound, Unprocessable
from bountybox.packs.schemas import Pack

PACKS_DIR = Path(__file__).parent / "data"


def available() -> list[str]:
    return sorted(path.stem for path in PACKS_DIR.glob("*.json"))


def named(name: str) -> Pack:
    """A shipped pack by name (demo, empty, ...)."""
    if name not in available():
        raise NotFound(f"No seed pack '{name}'; the packs are {', '.join(available())}.")
    return read(PACKS_DIR / f"{name}.json")


def read(path: Path) -> Pack:
    """A pack file (JSON); malformed or invalid packs raise Unprocessable with the first problem."""
    try:
        return Pack.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise NotFound(f"Cannot read the pack file {path}: {exc.strerror}.") from None
    except ValidationError as exc:
        raise Unprocessable(f"{path.name}: {first_problem(exc)}") from None


def first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])
