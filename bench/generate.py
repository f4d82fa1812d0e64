"""bench/generate: fill a database with a realistic bountybox dataset, deterministic per seed.

    python -m bench.generate --reports 1000000 --seed 1 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bountybox_bench

The schema comes from the project's migrations; the rows are then streamed in batches (COPY through
asyncpg on PostgreSQL, executemany in large transactions on SQLite) with the secondary indexes and
foreign keys of the bulk tables dropped during the load and recreated afterwards, so PostgreSQL
validates every reference the generator wrote. Rows mirror what the services write: UTC
timestamps, money in cents, activities with the `extra`/`refs` JSON of `events.emit`, severities
scored by the project's CVSS code. Finally an organization admin API token is created through
`create_api_token` (with a hacker token of the busiest hacker), printed, and saved with the
dataset's facts in a manifest (bench/.data/<database>.json) that bench/run reads.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bountybox.core.auth import TokenKind, hash_secret, new_secret
from bountybox.core.clock import Clock
from bountybox.core.jsonapi.render import whole_money
from bountybox.core.markdown import render_markdown
from bountybox.db.base import Base, UTCDateTime
from bountybox.db.engine import make_engine, session_factory
from bountybox.db.migrate import upgrade
from bountybox.db.models import ApiToken, Organization
from bountybox.domains.organizations.service import create_api_token
from bountybox.domains.reports.scoring import score_vector

DATA_DIR = Path(__file__).parent / ".data"
TOKEN_NAME = "bench"
HACKER_TOKEN_NAME = "bench-hacker"
BATCH_REPORTS = 5000
# Reports are spread over these six years; every timestamp stays in the past.
START = dt.datetime(2019, 12, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
PROGRAM_SKEW = 0.7  # program k gets a share proportional to k ** -PROGRAM_SKEW
PROTECTED_DATABASES = {"postgres", "template0", "template1", "test"}

# Tables filled report by report: their secondary indexes and every foreign key are dropped
# during the load and rebuilt afterwards.
BULK_TABLES = (
    "reports",
    "severities",
    "activities",
    "report_inboxes",
    "bounties",
    "ledger_transactions",
    "report_collaborators",
    "custom_field_values",
    "report_summaries",
)


# ---- the dataset's fixed vocabulary ----

WEAKNESSES = [
    ("cwe-79", "Cross-site Scripting (XSS) - Generic"),
    ("cwe-89", "SQL Injection"),
    ("cwe-352", "Cross-Site Request Forgery (CSRF)"),
    ("cwe-918", "Server-Side Request Forgery (SSRF)"),
    ("cwe-639", "Insecure Direct Object Reference (IDOR)"),
    ("cwe-200", "Information Disclosure"),
    ("cwe-601", "Open Redirect"),
    ("cwe-287", "Improper Authentication"),
    ("cwe-22", "Path Traversal"),
    ("cwe-502", "Deserialization of Untrusted Data"),
    ("cwe-611", "XML External Entities (XXE)"),
    ("cwe-94", "Code Injection"),
    ("cwe-78", "OS Command Injection"),
    ("cwe-284", "Improper Access Control - Generic"),
    ("cwe-269", "Privilege Escalation"),
    ("cwe-400", "Uncontrolled Resource Consumption"),
    ("cwe-434", "Unrestricted Upload of File with Dangerous Type"),
    ("cwe-522", "Insufficiently Protected Credentials"),
    ("cwe-307", "Improper Restriction of Authentication Attempts"),
    ("cwe-1021", "Improper Restriction of Rendered UI Layers (Clickjacking)"),
    ("cwe-113", "HTTP Response Splitting"),
    ("cwe-384", "Session Fixation"),
    ("cwe-312", "Cleartext Storage of Sensitive Information"),
    ("cwe-319", "Cleartext Transmission of Sensitive Information"),
    ("cwe-327", "Use of a Broken or Risky Cryptographic Algorithm"),
    ("cwe-338", "Use of Cryptographically Weak PRNG"),
    ("cwe-362", "Race Condition"),
    ("cwe-444", "HTTP Request Smuggling"),
    ("cwe-640", "Weak Password Recovery Mechanism for Forgotten Password"),
    ("cwe-697", "Incorrect Comparison"),
    ("cwe-770", "Allocation of Resources Without Limits or Throttling"),
    ("cwe-798", "Use of Hard-coded Credentials"),
    ("cwe-840", "Business Logic Errors"),
    ("cwe-862", "Missing Authorization"),
    ("cwe-863", "Incorrect Authorization"),
    ("cwe-915", "Mass Assignment"),
    ("cwe-943", "NoSQL Injection"),
    ("cwe-1236", "CSV Injection"),
    ("cwe-1333", "Inefficient Regular Expression Complexity (ReDoS)"),
    ("cwe-16", "Misconfiguration"),
]

VECTORS = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:N",
    "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:A/AC:L/PR:L/UI:R/S:C/C:L/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
    "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N",
]

TITLES = [
    "Stored XSS in {asset} profile page",
    "SQL injection in {asset} search endpoint",
    "CSRF on {asset} email change",
    "SSRF through the {asset} image proxy",
    "IDOR exposes invoices on {asset}",
    "Debug endpoint leaks configuration on {asset}",
    "Open redirect in {asset} login flow",
    "Authentication bypass on {asset} password reset",
    "Path traversal in {asset} file download",
    "Unsafe deserialization in {asset} session cookie",
    "XXE in the {asset} SAML endpoint",
    "Account takeover through OAuth state on {asset}",
    "Rate limit bypass on {asset} one-time codes",
    "Cache poisoning on {asset} static assets",
    "Privilege escalation via role parameter on {asset}",
]

SUMMARIES = [
    "While testing `{asset}` I found that the `{param}` parameter is reflected without encoding.",
    "The `{param}` parameter of `{asset}` reaches a database query without parameterisation.",
    "Requests to `{asset}` accept a `{param}` value that points at another tenant's objects.",
    "The `{asset}` endpoint follows a user-supplied `{param}` URL from inside the network.",
    "`{asset}` returns a stack trace and internal hostnames when `{param}` is malformed.",
]

IMPACTS = [
    "An attacker can read or change other users' data without any interaction.",
    "An attacker can run script in a victim's session and act on their behalf, including changing "
    "the account email and exporting stored payment details.",
    "An attacker can reach internal services (the metadata endpoint among them) and read "
    "credentials that grant access to production storage.",
    "The issue leaks personal data (names, addresses, order history) of every customer.",
]

PARAMS = ["q", "id", "redirect_uri", "next", "file", "url", "callback", "invoice_id", "role"]

TEAM_COMMENTS = [
    "Thanks for the report! We are looking into it.",
    "Could you share the exact request you used and the account you were signed in with?",
    "We reproduced this on staging and passed it to the owning team.",
    "The fix is scheduled for the next release; we will update you here.",
    "A fix is deployed. Could you confirm it on your side?",
    "We are still discussing the impact internally; thanks for your patience.",
    "Adjusting the severity after our assessment: the affected endpoint requires an "
    "authenticated session, which lowers the likelihood.",
]

INTERNAL_COMMENTS = [
    "Looks legit, checking with the team.",
    "Owner is the payments squad; pinged them in the channel.",
    "Duplicate candidate, see the older report on the same endpoint.",
    "**Root cause**: the serializer skips the ownership check for archived objects.\n\n"
    "Fix: add the check in `InvoiceSerializer.to_representation` and backfill a test.",
    "Reproduced. Severity feels right; proposing the standard bounty for this tier.",
]

HACKER_COMMENTS = [
    "Happy to help; let me know if you need anything else.",
    "Here is the full request:\n\n```\nPOST /api/v2/account HTTP/1.1\nHost: {asset}\n"
    'Content-Type: application/json\n\n{{"role": "admin"}}\n```',
    "Any update on this one?",
    "Confirmed, the fix works for me. Thanks!",
    "I found a second parameter with the same issue: `{param}`. Should I file a new report?",
]

STATE_MESSAGES = {
    "triaged": "Thanks! We reproduced this and passed it to the owning team.",
    "resolved": "A fix is deployed. Thank you for the report.",
    "needs-more-info": "Could you share the exact request and the account you used?",
    "pending-program-review": "",
    "informative": "This is expected behaviour; closing as informative.",
    "duplicate": "This was reported before; closing as a duplicate.",
    "not-applicable": "We could not reproduce an impact here.",
    "spam": "",
}

# Final state of a report and the states it went through, with their weights.
STATE_PATHS: list[tuple[str, list[str], int]] = [
    ("new", [], 8),
    ("pending-program-review", ["pending-program-review"], 2),
    ("needs-more-info", ["needs-more-info"], 3),
    ("triaged", ["triaged"], 17),
    ("resolved", ["triaged", "resolved"], 40),
    ("informative", ["informative"], 10),
    ("duplicate", ["duplicate"], 10),
    ("not-applicable", ["not-applicable"], 8),
    ("spam", ["spam"], 2),
]

BOUNTY_AMOUNTS = [100, 150, 250, 500, 750, 1000, 1500, 2500, 5000, 10000]


@dataclass(frozen=True)
class Spec:
    reports: int = 1_000_000
    seed: int = 1
    organizations: int = 20
    programs: int = 200
    hackers: int = 5000
    members_per_organization: int = 5
    scopes_per_program: int = 5
    weaknesses_per_program: int = 15


@dataclass
class Manifest:
    """What bench/run needs to know about a generated database."""

    database_url: str
    reports: int
    seed: int
    token: str
    hacker_token: str
    organization: str
    program: str
    # Where the hacker submits reports: another organization, so the lists read stay the same.
    submission_program: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text()))


def slug(database_url: str) -> str:
    """A file-system name for a database: `postgresql-bountybox_bench`, `sqlite-quick`."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite-{Path(url.database or 'memory').stem}"
    return f"{url.get_backend_name()}-{url.database}"


def manifest_path(database_url: str) -> Path:
    return DATA_DIR / f"{slug(database_url)}.json"


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# ---- rows ----


class Rows:
    """Row templates built from the ORM metadata, so a row has every column of its table: nullable
    columns default to NULL, columns with a Python default get it, and a column the generator must
    fill but did not is reported before anything is written."""

    REQUIRED = object()

    def __init__(self) -> None:
        self.templates: dict[str, dict[str, Any]] = {}
        self.datetime_positions: dict[str, list[int]] = {}
        for table in Base.metadata.sorted_tables:
            template: dict[str, Any] = {}
            for column in table.columns:
                if column.server_default is not None:
                    continue
                if column.nullable:
                    template[column.name] = None
                elif column.default is not None and getattr(column.default, "is_scalar", False):
                    template[column.name] = column.default.arg  # type: ignore[attr-defined]
                elif column.default is not None and getattr(column.default, "is_callable", False):
                    value = column.default.arg(None)  # type: ignore[attr-defined]
                    template[column.name] = (
                        dumps(value) if isinstance(value, dict | list) else value
                    )
                else:
                    template[column.name] = self.REQUIRED
            self.templates[table.name] = template
            self.datetime_positions[table.name] = [
                i
                for i, name in enumerate(template)
                if isinstance(table.columns[name].type, UTCDateTime)
            ]

    def columns(self, table: str) -> list[str]:
        return list(self.templates[table])

    def row(self, table: str, **values: Any) -> tuple[Any, ...]:
        row = self.templates[table].copy()
        row.update(values)
        return tuple(row.values())

    def check(self, table: str, row: tuple[Any, ...]) -> None:
        missing = [
            name
            for name, value in zip(self.templates[table], row, strict=True)
            if value is self.REQUIRED
        ]
        unknown = len(row) != len(self.templates[table])
        if missing or unknown:
            raise SystemExit(f"bench/generate: {table} rows lack required columns {missing}")


Batch = dict[str, list[tuple[Any, ...]]]


@dataclass
class Program:
    id: int
    organization_id: int
    handle: str
    offers_bounties: bool
    fee_basis_points: int
    created_at: dt.datetime
    weakness_ids: list[int]
    scope_ids: list[int]
    assets: list[str]
    inbox_id: int
    custom_inbox_id: int
    custom_field_id: int
    group_ids: list[int]
    member_ids: list[int]
    last_report_id: int | None = None


class Generator:
    """Builds the fixed rows (organizations, programs, people, ...) and then the reports in batches,
    each report with its severities, activities, bounty and ledger rows. Ids are assigned here,
    in order, so the dataset is the same for the same seed and size."""

    def __init__(self, spec: Spec, rows: Rows) -> None:
        self.spec = spec
        self.rows = rows
        self.rng = random.Random(spec.seed)
        self.next_id: dict[str, int] = {}
        self.programs: list[Program] = []
        self.scored = [score_vector(v) for v in VECTORS]
        self.counts: dict[str, int] = {}

    def new_id(self, table: str) -> int:
        value = self.next_id.get(table, 0) + 1
        self.next_id[table] = value
        return value

    def count(self, batch: Batch) -> None:
        for table, table_rows in batch.items():
            self.counts[table] = self.counts.get(table, 0) + len(table_rows)

    # -- fixed rows --

    def fixed(self) -> Batch:
        spec, rng, row = self.spec, self.rng, self.rows.row
        out: Batch = {}
        at = START - dt.timedelta(days=30)

        def add(table: str, values: tuple[Any, ...]) -> None:
            out.setdefault(table, []).append(values)

        weakness_ids = []
        for external_id, name in WEAKNESSES:
            wid = self.new_id("weaknesses")
            weakness_ids.append(wid)
            add(
                "weaknesses",
                row(
                    "weaknesses",
                    id=wid,
                    name=name,
                    description=f"{name}: see the CWE entry {external_id.upper()}.",
                    external_id=external_id,
                    created_at=at,
                ),
            )
        for n in range(1, spec.hackers + 1):
            username = f"hacker{n:05d}"
            add(
                "users",
                row(
                    "users",
                    id=self.new_id("users"),
                    username=username,
                    name=f"Hacker {n}" if n % 3 else None,
                    email=f"{username}@hackers.test",
                    disabled=False,
                    created_at=at - dt.timedelta(days=rng.randint(0, 2000)),
                    reputation=int(rng.paretovariate(1.2) * 50),
                    signal=round(rng.uniform(-2, 7), 2),
                    impact=round(rng.uniform(0, 30), 2),
                    hackerone_triager=False,
                    user_type="hacker",
                ),
            )
        organization_members: dict[int, list[int]] = {}
        organization_groups: dict[int, list[int]] = {}
        for o in range(1, spec.organizations + 1):
            oid = self.new_id("organizations")
            add(
                "organizations",
                row(
                    "organizations",
                    id=oid,
                    handle=f"org-{o:02d}",
                    name=f"Organization {o:02d}",
                    ip_allowlist="[]",
                    created_at=at,
                    updated_at=at,
                ),
            )
            members = []
            for m in range(1, spec.members_per_organization + 1):
                uid = self.new_id("users")
                members.append(uid)
                add(
                    "users",
                    row(
                        "users",
                        id=uid,
                        username=f"org{o:02d}-member{m}",
                        name=f"Member {m} of Organization {o:02d}",
                        email=f"member{m}@org-{o:02d}.test",
                        disabled=False,
                        created_at=at,
                        hackerone_triager=False,
                        user_type="member",
                    ),
                )
                add(
                    "organization_members",
                    row(
                        "organization_members",
                        id=self.new_id("organization_members"),
                        organization_id=oid,
                        user_id=uid,
                        organization_admin=m == 1,
                        created_at=at,
                        updated_at=at,
                    ),
                )
            organization_members[oid] = members
            groups = []
            for name, permissions in (
                ("Standard", ["report_management", "reward_management"]),
                (
                    "Program Admins",
                    [
                        "program_management",
                        "report_management",
                        "reward_management",
                        "user_management",
                    ],
                ),
            ):
                gid = self.new_id("groups")
                groups.append(gid)
                add(
                    "groups",
                    row(
                        "groups",
                        id=gid,
                        organization_id=oid,
                        name=name,
                        permissions=dumps(permissions),
                        created_at=at,
                        updated_at=at,
                    ),
                )
            organization_groups[oid] = groups
            for uid in members[1:]:
                add("group_members", row("group_members", group_id=groups[0], user_id=uid))
            add("group_members", row("group_members", group_id=groups[1], user_id=members[0]))
            add(
                "inboxes",
                row(
                    "inboxes",
                    id=spec.programs + oid,
                    organization_id=oid,
                    program_id=None,
                    name="Escalations",
                    type="custom",
                    created_at=at,
                    updated_at=at,
                ),
            )
        for k in range(1, spec.programs + 1):
            pid = self.new_id("programs")
            oid = (k - 1) % spec.organizations + 1
            handle = f"prog-{k:03d}"
            offers_bounties = k % 5 != 0
            program = Program(
                id=pid,
                organization_id=oid,
                handle=handle,
                offers_bounties=offers_bounties,
                fee_basis_points=2000 if k % 2 else 0,
                created_at=at,
                weakness_ids=sorted(rng.sample(weakness_ids, spec.weaknesses_per_program)),
                scope_ids=[],
                assets=[],
                inbox_id=pid,
                custom_inbox_id=spec.programs + oid,
                custom_field_id=pid,
                group_ids=organization_groups[oid],
                member_ids=organization_members[oid],
            )
            self.programs.append(program)
            add(
                "programs",
                row(
                    "programs",
                    id=pid,
                    organization_id=oid,
                    handle=handle,
                    name=f"Program {k:03d}",
                    policy=f"# Program {k:03d}\n\nReport vulnerabilities in `*.{handle}.test`.",
                    state="public" if k % 4 else "private",
                    offers_bounties=offers_bounties,
                    currency="USD",
                    minimum_bounty_cents=10000 if offers_bounties else 0,
                    severity_calculation_methods=dumps(["cvss_3_1", "manual"]),
                    bounty_fee_basis_points=program.fee_basis_points,
                    created_at=at,
                    updated_at=at,
                ),
            )
            for wid in program.weakness_ids:
                add(
                    "program_weaknesses",
                    row("program_weaknesses", program_id=pid, weakness_id=wid),
                )
            for group_id in program.group_ids:
                add("group_programs", row("group_programs", group_id=group_id, program_id=pid))
            assets = [
                (f"www.{handle}.test", "URL", "critical"),
                (f"api.{handle}.test", "URL", "critical"),
                (f"*.{handle}.test", "WILDCARD", "high"),
                (f"com.{handle.replace('-', '')}.app", "GOOGLE_PLAY_APP_ID", "medium"),
                (f"10.{k % 250}.0.0/24", "CIDR", "high"),
            ][: spec.scopes_per_program]
            for n, (identifier, kind, max_severity) in enumerate(assets):
                sid = self.new_id("structured_scopes")
                program.scope_ids.append(sid)
                program.assets.append(identifier)
                add(
                    "structured_scopes",
                    row(
                        "structured_scopes",
                        id=sid,
                        program_id=pid,
                        asset_identifier=identifier,
                        asset_type=kind,
                        eligible_for_bounty=offers_bounties,
                        eligible_for_submission=True,
                        confidentiality_requirement="high",
                        integrity_requirement="high",
                        availability_requirement="medium",
                        max_severity=max_severity,
                        reference=f"H{n + 1:03d}",
                        created_at=at,
                        updated_at=at,
                    ),
                )
            add(
                "inboxes",
                row(
                    "inboxes",
                    id=pid,
                    organization_id=oid,
                    program_id=pid,
                    name=f"Program {k:03d} inbox",
                    type="default",
                    created_at=at,
                    updated_at=at,
                ),
            )
            if oid == self.programs[0].organization_id:
                # The benchmark's organization (that of the first, biggest program) has a webhook
                # on each program, subscribed to every event: every write of a benchmark also
                # writes its outbox row. Nothing delivers them during a run (bench/run serves
                # without the webhook worker; bench/webhooks.py measures delivery).
                add(
                    "webhooks",
                    row(
                        "webhooks",
                        id=self.new_id("webhooks"),
                        program_id=pid,
                        url="http://127.0.0.1:9/bench",
                        secret="bench",
                        events=dumps([]),
                        active=True,
                        consecutive_failures=0,
                        created_at=at,
                        updated_at=at,
                    ),
                )
            add(
                "custom_field_attributes",
                row(
                    "custom_field_attributes",
                    id=pid,
                    program_id=pid,
                    label="Component",
                    field_type="List",
                    internal=True,
                    required=False,
                    configuration="Infrastructure, Frontend, Backend, Mobile",
                    created_at=at,
                    updated_at=at,
                ),
            )
            if offers_bounties:
                add(
                    "ledger_transactions",
                    row(
                        "ledger_transactions",
                        id=self.new_id("ledger_transactions"),
                        program_id=pid,
                        kind="top_up",
                        amount_cents=10_000_000_000,
                        currency="USD",
                        description="Prepaid balance top-up",
                        created_at=at,
                    ),
                )
        for table, table_rows in out.items():
            self.rows.check(table, table_rows[0])
        self.count(out)
        return out

    # -- reports --

    def program_weights(self) -> list[float]:
        return [k**-PROGRAM_SKEW for k in range(1, self.spec.programs + 1)]

    def batches(self, size: int = BATCH_REPORTS) -> Iterator[Batch]:
        """Report ids follow submission time, as they would in a live system."""
        programs = self.rng.choices(
            self.programs, weights=self.program_weights(), k=self.spec.reports
        )
        span = (END - START).total_seconds()
        step = span / max(1, self.spec.reports)
        for first in range(0, self.spec.reports, size):
            batch: Batch = {}
            for i in range(first, min(first + size, self.spec.reports)):
                created = START + dt.timedelta(seconds=i * step + self.rng.random() * step * 0.9)
                self.report(batch, programs[i], created)
            if first == 0:
                for table, table_rows in batch.items():
                    self.rows.check(table, table_rows[0])
            self.count(batch)
            yield batch

    def report(self, batch: Batch, program: Program, created: dt.datetime) -> None:
        rng, row = self.rng, self.rows.row
        activities = batch.setdefault("activities", [])
        rid = self.new_id("reports")
        pid = program.id
        reporter = 1 + int(self.spec.hackers * rng.random() ** 2)
        scope_index = rng.randrange(len(program.scope_ids))
        asset = program.assets[scope_index]
        param = rng.choice(PARAMS)
        weakness_id = rng.choice(program.weakness_ids)
        final, path, _ = rng.choices(STATE_PATHS, weights=[w for _, _, w in STATE_PATHS])[0]
        if final == "duplicate" and program.last_report_id is None:
            final, path = "informative", ["informative"]
        member_ids = program.member_ids
        state: dict[str, Any] = {
            "activities": 0,
            "last_reporter_activity_at": created,
            "last_public_activity_at": created,
            "last_activity_at": created,
        }
        clock = created

        def tick(hours: float) -> dt.datetime:
            nonlocal clock
            clock += dt.timedelta(seconds=int(rng.expovariate(1 / hours) * 3600) + 60)
            return clock

        def activity(
            type_: str,
            *,
            actor: int | None,
            message: str | None = "",
            internal: bool = False,
            extra: str = "{}",
            refs: str = "{}",
            team: bool = True,
            hours: float = 20,
        ) -> dt.datetime:
            at = tick(hours)
            activities.append(
                row(
                    "activities",
                    id=self.new_id("activities"),
                    type=type_,
                    program_id=pid,
                    report_id=rid,
                    actor_user_id=actor,
                    actor_is_program=False,
                    message=message,
                    # As the ORM writes it (db/models/activities.py): rendered once, stored.
                    message_html=render_markdown(message),
                    internal=internal,
                    extra=extra,
                    refs=refs,
                    created_at=at,
                    updated_at=at,
                )
            )
            state["activities"] += 1
            state["last_activity_at"] = at
            state["updated_at"] = at
            if not internal:
                state["last_public_activity_at"] = at
            if team:
                state.setdefault("first_program_activity_at", at)
                state["last_program_activity_at"] = at
            else:
                state["last_reporter_activity_at"] = at
            return at

        def fill(text: str) -> str:
            return text.format(asset=asset, param=param)

        target = rng.randint(4, 16)
        severity_id: int | None = None
        severity_rating: str | None = None
        if rng.random() < 0.92:
            severity_id, severity_rating = self.severity(batch, rid, reporter, "User", created)
        member = rng.choice(member_ids)
        if rng.random() < 0.4:
            activity(
                "activity-comment",
                actor=member,
                message=rng.choice(INTERNAL_COMMENTS),
                internal=True,
            )
        if rng.random() < 0.3:
            activity(
                "activity-comment",
                actor=member,
                message=rng.choice(TEAM_COMMENTS[:2]),
            )
            activity(
                "activity-comment",
                actor=reporter,
                message=fill(rng.choice(HACKER_COMMENTS)),
                team=False,
            )
        assignee_user_id = assignee_group_id = None
        for step in path:
            extra = "{}"
            if step == "duplicate":
                assert program.last_report_id is not None
                state["original_report_id"] = program.last_report_id
                extra = dumps({"original_report_id": program.last_report_id})
            activity(
                f"activity-bug-{step}", actor=member, message=STATE_MESSAGES[step], extra=extra
            )
            if step == "triaged":
                state["triaged_at"] = clock
                if rng.random() < 0.75:
                    assignee_user_id = rng.choice(member_ids)
                    activity(
                        "activity-user-assigned-to-bug",
                        actor=member,
                        message=None,
                        internal=True,
                        refs=dumps({"assigned_user": assignee_user_id}),
                    )
                else:
                    assignee_group_id = program.group_ids[0]
                    activity(
                        "activity-group-assigned-to-bug",
                        actor=member,
                        message=None,
                        internal=True,
                        refs=dumps({"group": assignee_group_id}),
                    )
                if rng.random() < 0.2:
                    old_severity = severity_id
                    severity_id, severity_rating = self.severity(batch, rid, member, "Team", clock)
                    refs = {"new_severity": severity_id}
                    if old_severity is not None:
                        refs["old_severity"] = old_severity
                    activity(
                        "activity-report-severity-updated",
                        actor=member,
                        message=TEAM_COMMENTS[6],
                        refs=dumps(refs),
                    )
            if step in ("resolved", "informative", "duplicate", "not-applicable", "spam"):
                state["closed_at"] = clock
        bounty = (final == "resolved" and program.offers_bounties and rng.random() < 0.6) or (
            final == "triaged" and program.offers_bounties and rng.random() < 0.1
        )
        if bounty:
            amount = rng.choice(BOUNTY_AMOUNTS) * 100
            bonus = rng.choice([5000, 10000, 25000]) if rng.random() < 0.1 else 0
            at = activity(
                "activity-bounty-awarded",
                actor=member,
                message="Thanks for helping keep us safe!",
                extra=dumps(
                    {"bounty_amount": whole_money(amount), "bonus_amount": whole_money(bonus)}
                ),
                hours=48,
            )
            self.bounty(batch, program, rid, reporter, amount, bonus, at)
            state["bounty_awarded_at"] = at
        while state["activities"] < target:
            if rng.random() < 0.55:
                activity(
                    "activity-comment",
                    actor=reporter,
                    message=fill(rng.choice(HACKER_COMMENTS)),
                    team=False,
                )
            else:
                internal = rng.random() < 0.4
                pool = INTERNAL_COMMENTS if internal else TEAM_COMMENTS
                activity(
                    "activity-comment", actor=member, message=rng.choice(pool), internal=internal
                )
        if final == "resolved" and rng.random() < 0.05:
            state["disclosed_at"] = activity(
                "activity-report-became-public", actor=None, message=None, hours=24 * 30
            )
        inbox_rows = batch.setdefault("report_inboxes", [])
        inbox_rows.append(row("report_inboxes", report_id=rid, inbox_id=program.inbox_id))
        if rng.random() < 0.1:
            inbox_rows.append(
                row("report_inboxes", report_id=rid, inbox_id=program.custom_inbox_id)
            )
        if rng.random() < 0.03:
            collaborator = 1 + (reporter + rng.randrange(1, self.spec.hackers)) % self.spec.hackers
            batch.setdefault("report_collaborators", []).append(
                row("report_collaborators", report_id=rid, user_id=collaborator, weight=0.5)
            )
        if rng.random() < 0.2:
            batch.setdefault("custom_field_values", []).append(
                row(
                    "custom_field_values",
                    id=self.new_id("custom_field_values"),
                    report_id=rid,
                    custom_field_attribute_id=program.custom_field_id,
                    value=rng.choice(["Infrastructure", "Frontend", "Backend", "Mobile"]),
                    created_at=created,
                    updated_at=created,
                )
            )
        if final == "resolved" and rng.random() < 0.05:
            batch.setdefault("report_summaries", []).append(
                row(
                    "report_summaries",
                    id=self.new_id("report_summaries"),
                    report_id=rid,
                    user_id=member,
                    content=f"Fixed by validating `{param}` on `{asset}`.",
                    category="team",
                    created_at=clock,
                    updated_at=clock,
                )
            )
        tracked = final in ("triaged", "resolved") and rng.random() < 0.3
        reference = f"SEC-{rid}" if tracked else None
        text = self.vulnerability_information(asset, param, rid)
        batch.setdefault("reports", []).append(
            row(
                "reports",
                id=rid,
                program_id=pid,
                reporter_id=reporter,
                title=TITLES[weakness_id % len(TITLES)].format(asset=asset),
                vulnerability_information=text,
                vulnerability_information_html=render_markdown(text),
                state=final,
                created_at=created,
                updated_at=state.get("updated_at", created),
                submitted_at=created,
                triaged_at=state.get("triaged_at"),
                closed_at=state.get("closed_at"),
                last_reporter_activity_at=state["last_reporter_activity_at"],
                first_program_activity_at=state.get("first_program_activity_at"),
                last_program_activity_at=state.get("last_program_activity_at"),
                last_activity_at=state["last_activity_at"],
                last_public_activity_at=state["last_public_activity_at"],
                bounty_awarded_at=state.get("bounty_awarded_at"),
                disclosed_at=state.get("disclosed_at"),
                issue_tracker_reference_id=reference,
                issue_tracker_reference_url=f"https://jira.{program.handle}.test/browse/{reference}"
                if reference
                else None,
                cve_ids=dumps([f"CVE-2025-{10000 + rid % 90000}"])
                if final == "resolved" and rid % 97 == 0
                else "[]",
                report_tags=dumps(["regression"]) if rid % 31 == 0 else "[]",
                original_report_id=state.get("original_report_id"),
                hai_is_priority=False,
                hacker_published=False,
                comments_closed=False,
                ineligible_for_bounty=False,
                weakness_id=weakness_id,
                structured_scope_id=program.scope_ids[scope_index],
                severity_id=severity_id,
                severity_rating=severity_rating,
                assignee_user_id=assignee_user_id,
                assignee_group_id=assignee_group_id,
            )
        )
        program.last_report_id = rid

    def vulnerability_information(self, asset: str, param: str, rid: int) -> str:
        rng = self.rng
        summary = rng.choice(SUMMARIES).format(asset=asset, param=param)
        steps = "\n".join(
            f"{n}. {text}"
            for n, text in enumerate(
                [
                    f"Sign in to `{asset}` as a regular user.",
                    f"Send the request below with `{param}` set to the payload.",
                    "Observe the response.",
                ][: rng.randint(2, 3)],
                start=1,
            )
        )
        return (
            f"## Summary\n\n{summary}\n\n## Steps to reproduce\n\n{steps}\n\n"
            f"```\nGET /api/v1/items/{rid}?{param}=%22%3E%3Csvg%2Fonload%3Dalert(1)%3E HTTP/1.1\n"
            f"Host: {asset}\nCookie: session=...\n```\n\n## Impact\n\n{rng.choice(IMPACTS)}"
        )

    def severity(
        self, batch: Batch, rid: int, user_id: int, author: str, at: dt.datetime
    ) -> tuple[int, str]:
        scored = self.rng.choice(self.scored)
        sid = self.new_id("severities")
        batch.setdefault("severities", []).append(
            self.rows.row(
                "severities",
                id=sid,
                report_id=rid,
                rating=scored.rating,
                author_type=author,
                user_id=user_id,
                score=scored.score,
                calculation_method="cvss_3_1",
                cvss_vector_string=scored.vector,
                metrics=dumps(scored.metrics),
                created_at=at,
            )
        )
        return sid, scored.rating

    def bounty(
        self,
        batch: Batch,
        program: Program,
        rid: int,
        reporter: int,
        amount: int,
        bonus: int,
        at: dt.datetime,
    ) -> None:
        row = self.rows.row
        bid = self.new_id("bounties")
        batch.setdefault("bounties", []).append(
            row(
                "bounties",
                id=bid,
                report_id=rid,
                amount_cents=amount,
                bonus_amount_cents=bonus,
                currency="USD",
                created_at=at,
            )
        )
        ledger = batch.setdefault("ledger_transactions", [])
        moves: list[tuple[str, int, str, int | None]] = [
            ("bounty", amount, f"Bounty for report #{rid}", reporter)
        ]
        if bonus:
            moves.append(("bonus", bonus, f"Bonus for report #{rid}", reporter))
        fee = (amount + bonus) * program.fee_basis_points // 10_000
        if fee:
            moves.append(("fee", fee, f"Platform fee for report #{rid}", None))
        for kind, cents, description, user_id in moves:
            ledger.append(
                row(
                    "ledger_transactions",
                    id=self.new_id("ledger_transactions"),
                    program_id=program.id,
                    report_id=rid,
                    bounty_id=bid,
                    user_id=user_id,
                    kind=kind,
                    amount_cents=-cents,
                    currency="USD",
                    description=description,
                    created_at=at,
                )
            )


# ---- writers ----


class Writer:
    """Where rows go. `prepare` drops what slows a bulk load, `finish` rebuilds it."""

    async def prepare(self) -> None: ...
    async def write(self, batch: Batch) -> None: ...
    async def finish(self, progress: Callable[[str], None]) -> None: ...
    async def close(self) -> None: ...


class PostgresWriter(Writer):
    def __init__(self, url: str, rows: Rows) -> None:
        self.url = url
        self.rows = rows
        self.indexes: list[str] = []
        self.foreign_keys: list[tuple[str, str, str]] = []

    async def connect(self) -> None:
        import asyncpg

        url = make_url(self.url)
        self.conn = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
            server_settings={"synchronous_commit": "off", "maintenance_work_mem": "512MB"},
        )

    async def is_empty(self) -> bool:
        return not await self.conn.fetchval("SELECT EXISTS (SELECT 1 FROM reports)")

    async def prepare(self) -> None:
        bulk = list(BULK_TABLES)
        self.foreign_keys = [
            (r["tbl"], r["conname"], r["def"])
            for r in await self.conn.fetch(
                "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def"
                " FROM pg_constraint"
                " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
            )
        ]
        self.indexes = [
            r["indexdef"]
            for r in await self.conn.fetch(
                "SELECT indexdef FROM pg_indexes i WHERE schemaname = current_schema()"
                " AND tablename = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                " WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))",
                bulk,
            )
        ]
        for table, name, _ in self.foreign_keys:
            await self.conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for definition in self.indexes:
            name = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
            await self.conn.execute(f"DROP INDEX {name}")

    async def write(self, batch: Batch) -> None:
        async with self.conn.transaction():
            for table, table_rows in batch.items():
                await self.conn.copy_records_to_table(
                    table, records=table_rows, columns=self.rows.columns(table)
                )

    async def finish(self, progress: Callable[[str], None]) -> None:
        for definition in self.indexes:
            progress(definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0])
            await self.conn.execute(definition)
        for table, name, definition in self.foreign_keys:
            progress(name)
            await self.conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        progress("sequences")
        for sequenced in Base.metadata.sorted_tables:
            if "id" in sequenced.columns and sequenced.columns["id"].primary_key:
                sequence = await self.conn.fetchval(
                    "SELECT pg_get_serial_sequence($1, 'id')", sequenced.name
                )
                if sequence:
                    await self.conn.execute(
                        f"SELECT setval($1, COALESCE((SELECT max(id) FROM"
                        f' "{sequenced.name}"), 0) + 1, false)',
                        sequence,
                    )
        progress("vacuum analyze")
        await self.conn.execute("VACUUM ANALYZE")

    async def close(self) -> None:
        await self.conn.close()


class SqliteWriter(Writer):
    def __init__(self, path: Path, rows: Rows) -> None:
        self.path = path
        self.rows = rows
        self.indexes: list[str] = []

    async def connect(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-262144")

    async def is_empty(self) -> bool:
        return self.conn.execute("SELECT 1 FROM reports LIMIT 1").fetchone() is None

    async def prepare(self) -> None:
        placeholders = ",".join("?" * len(BULK_TABLES))
        found = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({placeholders})",
            BULK_TABLES,
        ).fetchall()
        self.indexes = [sql for _, sql in found]
        for name, _ in found:
            self.conn.execute(f'DROP INDEX "{name}"')

    async def write(self, batch: Batch) -> None:
        self.conn.execute("BEGIN")
        for table, table_rows in batch.items():
            columns = self.rows.columns(table)
            positions = self.rows.datetime_positions[table]
            sql = (
                f'INSERT INTO "{table}" ({", ".join(columns)})'
                f" VALUES ({', '.join('?' * len(columns))})"
            )
            self.conn.executemany(sql, (sqlite_row(r, positions) for r in table_rows))
        self.conn.execute("COMMIT")

    async def finish(self, progress: Callable[[str], None]) -> None:
        for sql in self.indexes:
            progress(sql.split(" INDEX ", 1)[1].split(" ON ", 1)[0])
            self.conn.execute(sql)
        progress("analyze")
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        self.conn.close()


def sqlite_row(row: tuple[Any, ...], positions: list[int]) -> tuple[Any, ...]:
    """Timestamps as SQLAlchemy's SQLite dialect stores them: naive UTC with microseconds."""
    if not positions:
        return row
    values = list(row)
    for i in positions:
        value = values[i]
        if value is not None:
            values[i] = value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return tuple(values)


# ---- the command ----


async def reset_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    import asyncpg

    name = parsed.database
    if not name or name in PROTECTED_DATABASES:
        raise SystemExit(f"bench/generate: refusing to drop the database '{name}'")
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def ensure_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        return
    import asyncpg

    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database):
            await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()


async def create_tokens(url: str, organization_handle: str) -> tuple[str, str]:
    """An admin token of the organization, and a hacker token of the busiest hacker."""
    engine = make_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            organization = await session.scalar(
                select(Organization).where(Organization.handle == organization_handle)
            )
            assert organization is not None
            clock = Clock()
            issued = await create_api_token(
                session=session,
                clock=clock,
                organization=organization,
                name=TOKEN_NAME,
                group_names=[],
            )
            hacker_value = new_secret()
            session.add(
                ApiToken(
                    identifier=HACKER_TOKEN_NAME,
                    secret_hash=hash_secret(hacker_value),
                    organization_id=None,
                    user_id=1,
                    kind=TokenKind.HACKER.value,
                    created_at=clock.now(),
                )
            )
            return str(issued), f"{HACKER_TOKEN_NAME}:{hacker_value}"
    finally:
        await engine.dispose()


async def generate(
    database_url: str, spec: Spec, *, reset: bool = False, quiet: bool = False
) -> Manifest:
    """Builds the whole dataset; refuses a database that already holds reports unless `reset`."""
    started = time.perf_counter()
    if reset:
        await reset_database(database_url)
    await ensure_database(database_url)
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()

    rows = Rows()
    parsed = make_url(database_url)
    writer: PostgresWriter | SqliteWriter
    if parsed.get_backend_name() == "sqlite":
        writer = SqliteWriter(Path(parsed.database or ""), rows)
    else:
        writer = PostgresWriter(database_url, rows)
    await writer.connect()
    generator = Generator(spec, rows)
    try:
        if not await writer.is_empty():
            raise SystemExit(
                "bench/generate: the database already holds reports; pass --reset to start over"
            )
        await writer.prepare()
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            disable=quiet,
        ) as progress:
            task = progress.add_task("reports", total=spec.reports, note="")
            await writer.write(generator.fixed())
            loop = asyncio.get_running_loop()
            batches = generator.batches()
            # Generate the next batch in a thread while the database ingests this one.
            pending = loop.run_in_executor(None, next, batches, None)
            while (batch := await pending) is not None:
                pending = loop.run_in_executor(None, next, batches, None)
                await writer.write(batch)
                progress.update(task, advance=len(batch.get("reports", [])))
            finishing = progress.add_task("indexes", total=None, note="")
            await writer.finish(lambda note: progress.update(finishing, note=note))
            progress.update(finishing, total=1, completed=1, note="done")
    finally:
        await writer.close()

    # The benchmarks read the biggest program, as its organization's admin.
    program = generator.programs[0]
    organization = f"org-{program.organization_id:02d}"
    token, hacker_token = await create_tokens(database_url, organization)
    manifest = Manifest(
        database_url=database_url,
        reports=spec.reports,
        seed=spec.seed,
        token=token,
        hacker_token=hacker_token,
        organization=organization,
        program=program.handle,
        submission_program=generator.programs[1].handle,
        rows=dict(sorted(generator.counts.items())),
        seconds=round(time.perf_counter() - started, 1),
    )
    return manifest


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{(DATA_DIR / 'bench.db').resolve()}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="bench/generate", description="Fill a database with a benchmark dataset."
    )
    parser.add_argument("--reports", type=int, default=Spec.reports, help="number of reports")
    parser.add_argument("--seed", type=int, default=Spec.seed, help="random seed")
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (default: bench/.data/bench.db, SQLite)",
    )
    parser.add_argument("--reset", action="store_true", help="drop the database's data first")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    url = args.database_url or default_database_url()
    spec = Spec(reports=args.reports, seed=args.seed)
    manifest = asyncio.run(generate(url, spec, reset=args.reset, quiet=args.quiet))
    manifest.save(manifest_path(url))
    out = sys.stdout
    out.write(
        f"{manifest.reports} reports, {manifest.rows.get('activities', 0)} activities in "
        f"{manifest.seconds} s; manifest {manifest_path(url)}\n"
        f"admin token of {manifest.organization} (biggest program {manifest.program}):\n"
        f"{manifest.token}\n"
    )


if __name__ == "__main__":
    main()
