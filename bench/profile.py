"""Summarize a py-spy profile (`--format raw`, as `bench/run --profile` writes it): where the
worker's CPU time goes, by layer (the package of the innermost frame that belongs to a known
layer) and by bountybox function (inclusive).

    python -m bench.profile bench/.data/profile-get_report.txt
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^():]+)(?::\d+)?\)$")

# Innermost match wins: a frame in asyncpg under SQLAlchemy counts as the driver.
LAYERS = [
    ("markdown rendering", ("markdown_it/", "nh3", "bountybox/core/markdown.py")),
    ("asyncpg driver", ("asyncpg/",)),
    ("aiosqlite / sqlite3", ("aiosqlite/", "sqlite3/")),
    ("SQLAlchemy", ("sqlalchemy/", "greenlet")),
    ("rate limiter", ("limits/",)),
    ("pydantic", ("pydantic/", "pydantic_core")),
    ("bountybox rendering", ("/resource.py", "bountybox/core/jsonapi/")),
    ("bountybox other", ("bountybox/",)),
    ("Starlette", ("starlette/",)),
    ("asyncio event loop", ("asyncio/",)),
    ("Granian", ("granian/",)),
]


def parse(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        trace, _, count = line.rpartition(" ")
        if not trace or not count.isdigit():
            continue
        frames = []
        for raw in trace.split(";"):
            match = FRAME.match(raw)
            frames.append((match["function"], match["file"]) if match else (raw, ""))
        stacks.append((frames, int(count)))
    return stacks


def layer(frames: list[tuple[str, str]]) -> str:
    for function, file in reversed(frames):
        for name, markers in LAYERS:
            if any(m in file or m in function for m in markers):
                return name
    return "other (C code, interpreter)"


def summarize(path: Path, top: int = 25) -> list[str]:
    stacks = parse(path)
    total = sum(count for _, count in stacks) or 1
    layers: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    for frames, count in stacks:
        layers[layer(frames)] += count
        seen = {f"{function} ({file})" for function, file in frames if "bountybox/" in file}
        for name in seen:
            functions[name] += count
    lines = [f"{total} samples", "", "by layer (innermost known frame):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in layers.most_common()]
    lines += ["", f"bountybox functions, inclusive (top {top}):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in functions.most_common(top)]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench/profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path, help="py-spy raw output")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    sys.stdout.write("\n".join(summarize(args.profile, args.top)) + "\n")


if __name__ == "__main__":
    main()
