"""bench/run: measure bountybox against the ceiling and the bare app, in one run.

    python -m bench.run --quick
    python -m bench.run --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bountybox_bench

Three servers are started one after the other, each alone on the machine, each as one Granian
worker: the ceiling (bench/apps/ceiling.py: pre-encoded bytes the size of a report document), the
bare app (bench/apps/bare.py: the same SQL as bountybox for GET /v1/reports/{id} and for a
comment, by hand) and
`bountybox serve`, started as a user would with the benchmark token exempt from rate limits
(BOUNTYBOX_RATE_LIMIT_EXEMPT_TOKENS). wrk drives every scenario from its own process over loopback
with a fixed number of connections for a fixed time after a warm-up; a Lua script rotates the
request paths and reports the latency percentiles. The three servers' report reads request each
of their 2,000 documents once before the warm-up, so `get_report` measures documents read again
on any machine (`get_report_uncached` measures first reads). The table (requests/s, p50, p99,
errors, server RSS) and the ratios are printed and appended with the machine's details to
docs/benchmarks.md. `--quick` uses a 10,000-report SQLite dataset (generated on first use) and
short runs, and ends with the lines `create_comment: NN% of bare` and `get_report: NN% of
ceiling, NN% of bare`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.generate import DATA_DIR, Manifest, Spec, generate, manifest_path, slug
from bench.profile import summarize
from bountybox.db.engine import make_engine

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
BIN = Path(sys.executable).parent
QUICK_REPORTS = 10_000
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bountybox_bench"
RUNS_HEADING = "## Runs"

LUA = r"""
local paths = {%(paths)s}
local method = "%(method)s"
local body = %(body)s
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local i = 0
init = function(args)
  -- Threads start at different places, so writers do not queue on the same report.
  i = (tid or 0) * math.floor(#paths / 2)
  wrk.headers["Authorization"] = "%(authorization)s"
  if body then wrk.headers["Content-Type"] = "application/json" end
end
request = function()
  i = i + 1
  return wrk.format(method, paths[(i %% #paths) + 1], nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH_JSON {\"requests\":%%d,\"duration_us\":%%d,\"connect\":%%d,\"read\":%%d," ..
    "\"write\":%%d,\"status\":%%d,\"timeout\":%%d,\"p50\":%%d,\"p99\":%%d,\"max\":%%d}\n",
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass
class Scenario:
    name: str
    server: str
    paths: list[str]
    method: str = "GET"
    body: bytes | None = None
    token: str = ""
    # Items per request, for scenarios measured in items (activities) per second.
    items: int = 0
    note: str = ""
    # Every path is requested once before the warm-up: the scenario measures documents read
    # again, whatever the warm-up's length and the machine's speed.
    read_first: bool = False


@dataclass
class Result:
    scenario: Scenario
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    rss_mb: float
    note: str = ""


@dataclass
class Options:
    quick: bool
    database_url: str
    duration: int
    warmup: int
    # Seconds of one connection for the latency alone.
    alone: int
    connections: int
    threads: int
    only: set[str] = field(default_factory=set)
    append: bool = True
    profile: str | None = None
    redis_url: str | None = None


def say(line: str) -> None:
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


# ---- servers ----


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One server process (a Granian supervisor and its worker), started and stopped by us."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.port = port
        # Kept open for the server's lifetime; closed in stop().
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix=f"bench-{name}-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"bench/run: {self.name} exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base_url + path, timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(
            f"bench/run: {self.name} did not start in {timeout} s; see {self.log.name}"
        )

    def pids(self) -> list[int]:
        """The supervisor and every descendant."""
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    queue += [int(c) for c in (task / "children").read_text().split()]
        return found

    def worker_pid(self) -> int:
        pids = self.pids()
        return pids[-1]

    def rss_mb(self) -> tuple[float, float]:
        """(worker, whole tree) resident set sizes in MB."""
        sizes = {pid: rss_kb(pid) for pid in self.pids()}
        return sizes.get(self.worker_pid(), 0) / 1024, sum(sizes.values()) / 1024

    def settle(self, timeout: float = 15) -> None:
        """Until the worker is idle: requests a scenario left queued when wrk stopped are still
        being served, and would share the CPU with the next scenario's requests alone."""
        pid = self.worker_pid()
        deadline = time.monotonic() + timeout
        used = cpu_ticks(pid)
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = cpu_ticks(pid)
            if now - used <= 2:  # 20 ms of CPU in 200 ms: idle
                return
            used = now

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def cpu_ticks(pid: int) -> int:
    """User and system time of a process, in clock ticks (10 ms)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    return 0


def rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def granian(app: str, port: int) -> list[str]:
    return [
        str(BIN / "granian"),
        "--interface",
        "asgi",
        "--workers",
        "1",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        app,
    ]


@contextlib.contextmanager
def running(server: Server, ready_path: str) -> Iterator[Server]:
    try:
        server.wait_ready(ready_path)
        yield server
    finally:
        server.stop()


# ---- load ----


def basic(token: str) -> str:
    return "Basic " + base64.b64encode(token.encode()).decode()


def lua_string(value: str) -> str:
    return json.dumps(value)


def wrk(
    scenario: Scenario, base_url: str, options: Options, seconds: int, *, alone: bool = False
) -> dict[str, int]:
    """`alone`: one connection (and one thread), for the latency without queueing."""
    script = LUA % {
        "paths": ",".join(lua_string(p) for p in scenario.paths),
        "method": scenario.method,
        "body": lua_string(scenario.body.decode()) if scenario.body else "nil",
        "authorization": basic(scenario.token),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        completed = subprocess.run(
            [
                "wrk",
                f"-t{1 if alone else options.threads}",
                f"-c{1 if alone else options.connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                handle.name,
                base_url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(handle.name)
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            parsed: dict[str, int] = json.loads(line.removeprefix("BENCH_JSON "))
            return parsed
    raise SystemExit(f"bench/run: no figures from wrk:\n{completed.stdout}\n{completed.stderr}")


def request(scenario: Scenario, url: str) -> bytes:
    """One request of a scenario, its body answered (HTTPError on a status over 399)."""
    prepared = urllib.request.Request(
        url,
        data=scenario.body,
        method=scenario.method,
        headers={"Authorization": basic(scenario.token), "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(prepared, timeout=60) as response:
        body: bytes = response.read()
    return body


def preflight(scenario: Scenario, base_url: str) -> str:
    """Three requests alone before the load: a scenario that fails is reported instead of being
    timed."""
    for n in range(3):
        try:
            request(scenario, base_url + scenario.paths[n % len(scenario.paths)])
        except urllib.error.HTTPError as error:
            return f"FAILED {error.code}: {error.read()[:300]!r}"
    return "ok"


def read_each_once(scenario: Scenario, base_url: str) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda path: request(scenario, base_url + path), scenario.paths))


def measure(scenario: Scenario, server: Server, options: Options) -> Result:
    server.settle()
    checked = preflight(scenario, server.base_url)
    if scenario.read_first and not checked.startswith("FAILED"):
        read_each_once(scenario, server.base_url)
    # The latency alone: the p50 of one connection for a few seconds, before the warm-up leaves
    # requests queued, over the paths from the other end (a scenario of first reads keeps its
    # first reads for the run under load).
    backwards = replace(scenario, paths=scenario.paths[::-1])
    alone_ms = wrk(backwards, server.base_url, options, options.alone, alone=True)["p50"] / 1000
    if options.warmup:
        wrk(scenario, server.base_url, options, options.warmup)
    figures = wrk(scenario, server.base_url, options, options.duration)
    seconds = figures["duration_us"] / 1e6
    rps = figures["requests"] / seconds if seconds else 0.0
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    worker_rss, _ = server.rss_mb()
    notes = [f"alone {alone_ms:.1f} ms"] if alone_ms else []
    notes += [n for n in (scenario.note, checked if checked.startswith("FAILED") else "") if n]
    if not figures["requests"]:
        notes.append("no request finished in the window")
    if scenario.items:
        notes.insert(0, f"{rps * scenario.items:,.0f} activities/s")
    result = Result(
        scenario=scenario,
        rps=rps,
        p50_ms=figures["p50"] / 1000,
        p99_ms=figures["p99"] / 1000,
        errors=errors,
        requests=figures["requests"],
        rss_mb=worker_rss,
        note="; ".join(notes),
    )
    say(format_row(result))
    return result


# ---- the scenarios ----


@dataclass
class Targets:
    """Rows the scenarios aim at, read from the database at the start of the run."""

    report_ids: list[int]
    # Other reports of the read half, each read once in turn: documents not in the cache.
    uncached_ids: list[int]
    written_ids: list[int]
    triaged_ids: list[int]
    feed_cursors: list[str]
    program_reports: int
    created_after: str


# More documents than a `get_report_uncached` run reads (about 400 a second here), so each read
# renders its document: the figure of a report read for the first time or after a change.
UNCACHED_REPORTS = 12_000


def spread(values: list[Any], count: int) -> list[Any]:
    if len(values) <= count:
        return values
    step = len(values) / count
    return [values[int(i * step)] for i in range(count)]


def iso(value: Any) -> str:
    if isinstance(value, str):  # SQLite
        value = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    moment: dt.datetime = value.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def find_targets(manifest: Manifest) -> Targets:
    engine = make_engine(manifest.database_url)
    try:
        async with engine.connect() as conn:
            program_id = await conn.scalar(
                text("SELECT id FROM programs WHERE handle = :h"), {"h": manifest.program}
            )
            organization_programs = text(
                "SELECT p.id FROM programs p JOIN organizations o ON o.id = p.organization_id"
                " WHERE o.handle = :o"
            )
            visible = [
                r[0]
                for r in await conn.execute(organization_programs, {"o": manifest.organization})
            ]
            ids = [
                r[0]
                for r in await conn.execute(
                    text(
                        "SELECT id FROM reports WHERE program_id IN"
                        f" ({', '.join(str(v) for v in visible)}) AND id <= :generated ORDER BY id"
                    ),
                    {"generated": manifest.reports},
                )
            ]
            triaged = [
                r[0]
                for r in await conn.execute(
                    text(
                        "SELECT id FROM reports WHERE program_id = :p AND state = 'triaged'"
                        " AND id <= :generated ORDER BY id"
                    ),
                    {"p": program_id, "generated": manifest.reports},
                )
            ]
            stamps = [
                r[0]
                for r in await conn.execute(
                    text(
                        "SELECT updated_at FROM activities WHERE program_id = :p"
                        " ORDER BY updated_at, id"
                    ),
                    {"p": program_id},
                )
            ]
            count = await conn.scalar(
                text("SELECT count(*) FROM reports WHERE program_id = :p"), {"p": program_id}
            )
    finally:
        await engine.dispose()
    # One cursor per page of 100: walking the list is a full sync of the program.
    cursors = [iso(stamps[i]) for i in range(99, len(stamps), 100)]
    # Reads and writes aim at different reports, so the documents read stay the same size
    # from run to run however many comments earlier runs added.
    reads = spread(ids[::2], 2000)
    read_set = set(ids[::2])
    cached = set(reads)
    return Targets(
        report_ids=reads,
        uncached_ids=spread([i for i in ids[::2] if i not in cached], UNCACHED_REPORTS),
        written_ids=spread(ids[1::2], 2000),
        triaged_ids=spread([i for i in triaged if i not in read_set], 2000),
        feed_cursors=cursors,
        program_reports=int(count or 0),
        created_after=iso(dt.datetime(2023, 12, 1, tzinfo=dt.UTC)),
    )


def quoted(path: str) -> str:
    return path.replace("[", "%5B").replace("]", "%5D")


def hacker_submission_exists() -> bool:
    from bountybox.api import all_endpoints

    return any(e.method == "POST" and e.path == "/v1/hackers/reports" for e in all_endpoints())


def scenarios(manifest: Manifest, targets: Targets) -> list[Scenario]:
    token = manifest.token
    program = manifest.program
    report_paths = [f"/v1/reports/{i}" for i in targets.report_ids]
    listing = f"/v1/reports?filter[program][]={program}&page[size]=100"
    last_page = max(1, min(100, -(-targets.program_reports // 100)))
    filtered = (
        f"{listing}&filter[state][]=triaged&filter[state][]=resolved"
        "&filter[severity][]=high&filter[severity][]=critical"
        f"&filter[created_at__gt]={targets.created_after}&sort=-reports.last_activity_at"
    )
    feed = f"/v1/incremental/activities?handle={program}&page[size]=100"
    comment = {
        "data": {
            "type": "activity-comment",
            "attributes": {"message": "Benchmark comment: still reproducing.", "internal": True},
        }
    }
    state_change = {
        "data": {
            "type": "state-change",
            "attributes": {"state": "triaged", "message": "Benchmark: still triaged."},
        }
    }
    out = [
        Scenario("ceiling", "ceiling", report_paths, token=token, read_first=True),
        Scenario("bare_get_report", "bare", report_paths, token=token, read_first=True),
        Scenario("get_report", "bountybox", report_paths, token=token, read_first=True),
        Scenario(
            "list_reports",
            "bountybox",
            [quoted(listing)],
            token=token,
            note=f"{program}, {targets.program_reports:,} reports",
        ),
        Scenario(
            f"list_reports_page_{last_page}",
            "bountybox",
            [quoted(f"{listing}&page[number]={last_page}")],
            token=token,
        ),
        Scenario(
            "list_reports_filtered",
            "bountybox",
            [quoted(filtered)],
            token=token,
            note="state, severity, created_at__gt; sort -last_activity_at",
        ),
        Scenario(
            "incremental_activities",
            "bountybox",
            [quoted(feed)] + [quoted(f"{feed}&updated_at_after={c}") for c in targets.feed_cursors],
            token=token,
            items=100,
            note=f"{len(targets.feed_cursors) + 1} pages of 100",
        ),
        # The same comments, by hand and by bountybox.
        *(
            Scenario(
                name,
                server,
                [f"/v1/reports/{i}/activities" for i in targets.written_ids],
                method="POST",
                body=json.dumps(comment).encode(),
                token=token,
            )
            for name, server in (("bare_create_comment", "bare"), ("create_comment", "bountybox"))
        ),
        Scenario(
            "state_change",
            "bountybox",
            [f"/v1/reports/{i}/state_changes" for i in targets.triaged_ids],
            method="POST",
            body=json.dumps(state_change).encode(),
            token=token,
            note="triaged -> triaged",
        ),
    ]
    # Datasets too small to read a document only once per run (the quick one) leave it out.
    if len(targets.uncached_ids) >= UNCACHED_REPORTS // 2:
        out.insert(
            3,
            Scenario(
                "get_report_uncached",
                "bountybox",
                [f"/v1/reports/{i}" for i in targets.uncached_ids],
                token=token,
                note=f"{len(targets.uncached_ids):,} reports read in turn, none cached",
            ),
        )
    if hacker_submission_exists():
        submission = {
            "data": {
                "type": "report",
                "attributes": {
                    "team_handle": manifest.submission_program,
                    "title": "Benchmark: reflected XSS in search",
                    "vulnerability_information": "## Steps\n\n1. Open `/search?q=<svg onload=1>`",
                    "impact": "Script runs in the victim's session.",
                    "severity_rating": "medium",
                },
            }
        }
        out.append(
            Scenario(
                "hacker_submit_report",
                "bountybox",
                ["/v1/hackers/reports"],
                method="POST",
                body=json.dumps(submission).encode(),
                token=manifest.hacker_token,
            )
        )
    return out


# ---- reporting ----

HEADER = (
    "| scenario | server | req/s | p50 ms | p99 ms | errors | RSS MB | notes |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
)


def format_row(result: Result) -> str:
    s = result.scenario
    return (
        f"| {s.name} | {s.server} | {result.rps:,.0f} | {result.p50_ms:.2f} | "
        f"{result.p99_ms:.2f} | {result.errors} | {result.rss_mb:.0f} | {result.note} |"
    )


def ratio_lines(results: dict[str, Result]) -> list[str]:
    lines = []
    get = results.get("get_report")
    ceiling = results.get("ceiling")
    bare = results.get("bare_get_report")
    comment = results.get("create_comment")
    bare_comment = results.get("bare_create_comment")
    if comment and bare_comment and bare_comment.rps:
        lines.append(f"create_comment: {100 * comment.rps / bare_comment.rps:.0f}% of bare")
    # The last line, so it can be watched from run to run.
    if get and ceiling and bare and ceiling.rps and bare.rps:
        lines.append(
            f"get_report: {100 * get.rps / ceiling.rps:.0f}% of ceiling, "
            f"{100 * get.rps / bare.rps:.0f}% of bare"
        )
    return lines


def command_output(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def memory_gb() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


async def database_version(url: str) -> str:
    if make_url(url).get_backend_name() == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            version = await conn.scalar(text("SHOW server_version"))
            return f"PostgreSQL {version}"
    finally:
        await engine.dispose()


def machine(database: str, load_at_start: str) -> str:
    packages = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("granian", "starlette", "sqlalchemy", "asyncpg", "orjson")
    )
    wrk_version = command_output("wrk", "-v").splitlines()
    commit = command_output("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD")
    dirty = command_output("git", "-C", str(ROOT), "status", "--porcelain", "--", "src")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {memory_gb():.0f} GB RAM, "
        f"load average {load_at_start} at the start and {load} at the end, "
        f"Linux {platform.release()}; Python {platform.python_version()}, {packages}; "
        f"{database}; {wrk_version[0].split(' [')[0] if wrk_version else 'wrk'}; "
        f"commit {commit}{' with uncommitted changes in src/' if dirty else ''}"
    )


def append_run(
    options: Options, manifest: Manifest, results: list[Result], details: str, extra: list[str]
) -> None:
    backend = (
        "SQLite" if make_url(manifest.database_url).get_backend_name() == "sqlite" else "PostgreSQL"
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    kind = "quick" if options.quick else "full"
    lines = [
        "",
        f"### {stamp} · {kind} · {backend} · {manifest.reports:,} reports",
        "",
        f"`{' '.join(['bench/run', *sys.argv[1:]])}`: wrk, {options.threads} threads, "
        f"{options.connections} connections, {options.duration} s per scenario after a "
        f"{options.warmup} s warm-up; one Granian worker per server. {details}",
        "",
        HEADER,
        *[format_row(r) for r in results],
        "",
        *[f"{line}  " for line in extra],
    ]
    text_now = DOCS.read_text() if DOCS.exists() else f"# Benchmarks\n\n{RUNS_HEADING}\n"
    if RUNS_HEADING not in text_now:
        text_now += f"\n{RUNS_HEADING}\n"
    DOCS.write_text(text_now.rstrip("\n") + "\n" + "\n".join(lines).rstrip() + "\n")


# ---- the run ----


async def prepare(options: Options) -> Manifest:
    path = manifest_path(options.database_url)
    if options.quick:
        # Regenerated every time (a few seconds): earlier runs' writes do not accumulate.
        say(f"generating the quick dataset ({QUICK_REPORTS:,} reports, SQLite) ...")
        manifest = await generate(
            options.database_url, Spec(reports=QUICK_REPORTS), reset=True, quiet=True
        )
        manifest.save(path)
    if not path.exists():
        raise SystemExit(
            f"bench/run: no dataset for {options.database_url}; run first\n"
            f"  python -m bench.generate --database-url {options.database_url}"
        )
    if make_url(options.database_url).get_backend_name() == "postgresql":
        await vacuum(options.database_url)
    return Manifest.load(path)


async def vacuum(database_url: str) -> None:
    """Every run starts from the dataset as `bench/generate` leaves it, vacuumed: the writes of
    earlier runs leave dead rows and pages that are no longer all-visible, which took the list's
    page 100 from 2-3 ms of database time to 12 ms after a few runs (index-only scans fetching the
    heap). A few seconds."""
    engine = make_engine(database_url, pool=False)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM (ANALYZE)")
    finally:
        await engine.dispose()


def body_file(server: Server, scenario: Scenario) -> Path:
    """A real report document from bountybox, of median size among the first reports read, for
    the ceiling to answer with."""
    bodies = sorted((request(scenario, server.base_url + p) for p in scenario.paths[:21]), key=len)
    document = DATA_DIR / "report-document.json"
    document.write_bytes(bodies[len(bodies) // 2])
    return document


def bountybox_server(options: Options, manifest: Manifest) -> Server:
    env = {
        "BOUNTYBOX_DATABASE_URL": manifest.database_url,
        "BOUNTYBOX_DATA_DIR": str(DATA_DIR / f"{slug(manifest.database_url)}-server"),
        "BOUNTYBOX_RATE_LIMIT_EXEMPT_TOKENS": ",".join(
            t.split(":", 1)[0] for t in (manifest.token, manifest.hacker_token)
        ),
        # The writes queue their webhook deliveries in the outbox; none are sent during the run.
        "BOUNTYBOX_WEBHOOKS_WORKER": "false",
    }
    if options.redis_url:
        env["BOUNTYBOX_REDIS_URL"] = options.redis_url
    port = free_port()
    return Server(
        "bountybox",
        [str(BIN / "bountybox"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env,
        port,
    )


def profile(server: Server, scenario: Scenario, options: Options) -> Path | None:
    """py-spy samples the bountybox worker while wrk drives the scenario."""
    py_spy = shutil.which("py-spy") or str(BIN / "py-spy")
    if not Path(py_spy).exists():
        say("bench/run: --profile needs py-spy (pip install '.[bench]')")
        return None
    out = DATA_DIR / f"profile-{scenario.name}.txt"
    recorder = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(server.worker_pid()),
            "--duration",
            str(options.duration),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    wrk(scenario, server.base_url, options, options.duration)
    recorder.wait(timeout=60)
    return out if out.exists() else None


async def run(options: Options) -> list[str]:
    load_at_start = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        say(f"warning: load average {load_at_start}: other work will skew the figures")
    manifest = await prepare(options)
    targets = await find_targets(manifest)
    every = scenarios(manifest, targets)
    plan = [s for s in every if not options.only or s.name in options.only]
    backend = await database_version(manifest.database_url)
    say(
        f"dataset: {manifest.reports:,} reports ({backend}), program {manifest.program}; "
        f"{options.duration} s per scenario after {options.warmup} s warm-up, "
        f"{options.connections} connections"
    )
    say(HEADER)
    results: dict[str, Result] = {}
    extra: list[str] = []
    if not hacker_submission_exists():
        extra.append(
            "hacker_submit_report: not measured, this build has no POST /v1/hackers/reports"
        )

    bountybox = bountybox_server(options, manifest)
    with running(bountybox, "/v1/reports"):
        document = body_file(bountybox, next(s for s in every if s.name == "get_report"))
    by_server: dict[str, list[Scenario]] = {}
    for scenario in plan:
        by_server.setdefault(scenario.server, []).append(scenario)

    if "ceiling" in by_server:
        port = free_port()
        env = {"BENCH_BODY_FILE": str(document)}
        with running(
            Server("ceiling", granian("bench.apps.ceiling:app", port), env, port), "/"
        ) as s:
            for scenario in by_server["ceiling"]:
                results[scenario.name] = measure(scenario, s, options)
    if "bare" in by_server:
        port = free_port()
        env = {"BENCH_DATABASE_URL": manifest.database_url}
        with running(Server("bare", granian("bench.apps.bare:app", port), env, port), "/") as s:
            for scenario in by_server["bare"]:
                results[scenario.name] = measure(scenario, s, options)
    if "bountybox" in by_server:
        with running(bountybox_server(options, manifest), "/v1/reports") as s:
            for scenario in by_server["bountybox"]:
                results[scenario.name] = measure(scenario, s, options)
            worker, total = s.rss_mb()
            extra.append(
                f"bountybox RSS after the run: {worker:.0f} MB (worker), "
                f"{total:.0f} MB with the Granian supervisor"
            )
            if options.profile in results:
                path = profile(s, results[options.profile].scenario, options)
                if path:
                    extra.append(f"profile of {options.profile}: {path.relative_to(ROOT)}")
                    extra += summarize(path, top=12)
    extra.append(f"report document: {document.stat().st_size:,} bytes")
    ratios = ratio_lines(results)
    details = machine(backend, load_at_start)
    if options.append:
        append_run(options, manifest, list(results.values()), details, extra + ratios)
    for line in extra:
        say(line)
    return ratios


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 reports on SQLite, short runs")
    parser.add_argument("--database-url", help=f"dataset to use (default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--duration", type=int, help="seconds per scenario (15; quick 4)")
    parser.add_argument("--warmup", type=int, help="warm-up seconds per scenario (3; quick 1)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--no-append", action="store_true", help="leave docs/benchmarks.md alone")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="get_report",
        default=None,
        metavar="SCENARIO",
        help="sample the bountybox worker with py-spy during SCENARIO (get_report) afterwards",
    )
    parser.add_argument("--redis-url", help="rate limits in Redis, as several processes would")
    args = parser.parse_args(argv)
    if args.quick:
        url = args.database_url or f"sqlite+aiosqlite:///{DATA_DIR / 'quick.db'}"
    else:
        url = args.database_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    return Options(
        quick=args.quick,
        database_url=url,
        duration=args.duration or (4 if args.quick else 15),
        warmup=args.warmup if args.warmup is not None else (1 if args.quick else 3),
        alone=2 if args.quick else 3,
        connections=args.connections,
        threads=args.threads,
        only={n.strip() for n in args.only.split(",") if n.strip()},
        append=not args.no_append,
        profile=args.profile,
        redis_url=args.redis_url,
    )


def main(argv: list[str] | None = None) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench/run needs wrk (Debian: apt-get install wrk)")
    started = time.monotonic()
    ratios = asyncio.run(run(parse(argv)))
    say(f"finished in {time.monotonic() - started:.0f} s")
    for line in ratios:
        say(line)


if __name__ == "__main__":
    main()
