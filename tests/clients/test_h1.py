"""The Python client `h1` (PyPI, 1.4.2) against a real bountybox server, unchanged but for its base
URL (shared/api/clients.md §1): report searches with every filter bountybox knows, in the exact
encoding h1 sends, paging through `links.next`, report documents with every relationship hydrated
into h1's models, and the generic `request_*` calls on users, programs, swag and activities.

The module seeds one organization with 60 reports (three pages at h1's default page size) and walks
four of them through the API, so they carry real activities, bounties, swag, attachments and
summaries; every assertion compares what h1 parsed with what was seeded.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import h1
import httpx
import pytest
import requests
from h1.client import HackerOneClient
from h1.models import (
    ActivityBountyAwarded,
    ActivityBountySuggested,
    ActivityBugDuplicate,
    ActivityBugNeedsMoreInfo,
    ActivityBugNew,
    ActivityBugResolved,
    ActivityBugTriaged,
    ActivityComment,
    ActivityCommentsClosed,
    ActivityGroupAssignedToBug,
    ActivityPublicAgreement,
    ActivityReferenceIDAdded,
    ActivityReportSeverityUpdated,
    ActivityReportTitleUpdated,
    ActivitySwagAwarded,
    ActivityUserAssignedToBug,
    Address,
    Attachment,
    Bounty,
    Group,
    Program,
    Report,
    ReportSummary,
    Swag,
    User,
    list_model_types,
)
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bountybox.core.clock import Clock
from bountybox.db.engine import session_factory
from bountybox.db.models import Address as AddressRow
from bountybox.db.models import Attachment as AttachmentRow
from bountybox.db.models import CustomFieldAttribute, CustomFieldValue, Inbox, report_inboxes
from bountybox.domains.billing.service import top_up
from tests.builders import (
    T0,
    make_group,
    make_member,
    make_org,
    make_program,
    make_report,
    make_scope,
    make_token,
    make_user,
    make_weakness,
)
from tests.clients.conftest import NOW
from tests.live_server import LiveServer

H1_VERSION = "1.4.2"
HOUR = dt.timedelta(hours=1)
# h1's Report.STATES, in the order the seed cycles through them.
STATES = [
    "new",
    "triaged",
    "needs-more-info",
    "resolved",
    "not-applicable",
    "informative",
    "duplicate",
    "spam",
]
CLOSED = {"resolved", "not-applicable", "informative", "duplicate", "spam"}
RATINGS = ["none", "low", "medium", "high", "critical"]
HACKERS = ["hydra", "kraken", "sphinx"]
REPORT_COUNT = 60


@dataclass
class Seeded:
    """One seeded report as the test expects to read it back."""

    id: str
    title: str
    program: str
    state: str
    reporter: str
    rating: str
    created_at: dt.datetime
    vulnerability_information: str
    triaged_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    weakness_id: int | None = None
    scope_id: int | None = None
    inbox: bool = False
    component: str | None = None
    assignee: str | None = None
    reference: str | None = None
    bounty_awarded_at: dt.datetime | None = None
    swag_awarded_at: dt.datetime | None = None
    touched_at: dt.datetime | None = None  # the last write made through the API


@dataclass
class World:
    server: LiveServer
    auth: tuple[str, str]
    reports: dict[str, Seeded]
    program_ids: dict[str, int]
    foreign_report_id: str
    weakness_id: int
    scope_id: int
    inbox_id: int
    field_id: int
    group_id: int
    alice_id: int
    # The reports walked through the API, by role.
    full: str = ""
    grouped: str = ""
    duplicate: str = ""
    unassigned: str = ""
    big_suggestion: str = ""
    times: dict[str, dt.datetime] = field(default_factory=dict)

    def bounty_reports(self) -> list[Seeded]:
        return [r for r in self.reports.values() if r.program == "h1-bounty"]

    def ids(self, keep: Callable[[Seeded], bool], program: str = "h1-bounty") -> set[str]:
        return {r.id for r in self.reports.values() if r.program == program and keep(r)}


# ---- the seed -----------------------------------------------------------------------------------


async def seed(engine: AsyncEngine, clock: Clock, server: LiveServer) -> World:
    async with session_factory(engine)() as session:
        org = await make_org(session, handle="h1corp")
        bounty = await make_program(session, org, handle="h1-bounty")
        vdp = await make_program(session, org, handle="h1-vdp")
        elsewhere = await make_program(session, await make_org(session), handle="h1-elsewhere")
        alice = await make_member(session, org, username="alice", admin=True)
        group = await make_group(
            session,
            org,
            name="Triagers",
            permissions=["report_management", "reward_management"],
            programs=[bounty],
            users=[alice],
        )
        hackers = {name: await make_user(session, username=name) for name in HACKERS}
        weakness = await make_weakness(session, bounty)
        scope = await make_scope(session, bounty)
        inbox = Inbox(
            organization_id=org.id, name="Escalations", type="custom", created_at=T0, updated_at=T0
        )
        component = CustomFieldAttribute(
            program_id=bounty.id, label="Component", created_at=T0, updated_at=T0
        )
        session.add_all([inbox, component])
        session.add(
            AddressRow(
                user_id=hackers["hydra"].id,
                name="Hydra",
                street="1 Lake Road",
                city="Lerna",
                postal_code="21100",
                state="AR",
                country="GR",
                tshirt_size="M_Large",
                created_at=T0,
            )
        )
        await top_up(session, clock, program=bounty, amount_cents=1_000_000)
        await session.commit()
        token = await make_token(session, org)

        reports: dict[str, Seeded] = {}
        for i in range(REPORT_COUNT):
            state = STATES[i % len(STATES)]
            created = T0 + i * HOUR
            expected = Seeded(
                id="",
                title=f"h1 report {i:02d}",
                program="h1-bounty",
                state=state,
                reporter=HACKERS[i % len(HACKERS)],
                rating=RATINGS[i % len(RATINGS)],
                created_at=created,
                vulnerability_information="sqli in the search box" if i % 7 == 0 else "details",
                triaged_at=created + HOUR if state != "new" else None,
                closed_at=created + 2 * HOUR if state in CLOSED else None,
                weakness_id=weakness.id if i % 4 == 0 else None,
                scope_id=scope.id if i % 6 == 0 else None,
                inbox=i % 5 == 0,
                component="Frontend" if i % 9 == 0 else None,
            )
            row = await make_report(
                session,
                bounty,
                reporter=hackers[expected.reporter],
                state=state,
                title=expected.title,
                created_at=created,
                rating=expected.rating,
                vulnerability_information=expected.vulnerability_information,
                triaged_at=expected.triaged_at,
                closed_at=expected.closed_at,
                first_program_activity_at=expected.triaged_at,
                last_reporter_activity_at=created,
                weakness_id=expected.weakness_id,
                structured_scope_id=expected.scope_id,
            )
            if expected.inbox:
                await session.execute(
                    insert(report_inboxes), [{"report_id": row.id, "inbox_id": inbox.id}]
                )
            if expected.component:
                session.add(
                    CustomFieldValue(
                        report_id=row.id,
                        custom_field_attribute_id=component.id,
                        value=expected.component,
                        created_at=created,
                        updated_at=created,
                    )
                )
            await session.commit()
            expected.id = str(row.id)
            reports[expected.id] = expected
        for i in range(3):
            row = await make_report(
                session,
                vdp,
                reporter=hackers["kraken"],
                title=f"vdp report {i}",
                created_at=T0 + i * HOUR,
                rating="low",
            )
            reports[str(row.id)] = Seeded(
                id=str(row.id),
                title=row.title,
                program="h1-vdp",
                state="new",
                reporter="kraken",
                rating="low",
                created_at=row.created_at,
                vulnerability_information="details",
            )
        foreign = await make_report(session, elsewhere, reporter=hackers["hydra"], title="secret")
        # A file filed with the report itself (comment files belong to their activity).
        first = min(reports.values(), key=lambda r: r.created_at)
        session.add(
            AttachmentRow(
                organization_id=org.id,
                report_id=int(first.id),
                file_name="request.har",
                content_type="application/json",
                file_size=2048,
                storage_key="h1/request.har",
                created_at=first.created_at,
            )
        )
        await session.commit()

    world = World(
        server=server,
        auth=token.auth,
        reports=reports,
        program_ids={"h1-bounty": bounty.id, "h1-vdp": vdp.id},
        foreign_report_id=str(foreign.id),
        weakness_id=weakness.id,
        scope_id=scope.id,
        inbox_id=inbox.id,
        field_id=component.id,
        group_id=group.id,
        alice_id=alice.id,
    )
    walk_through_the_api(world, clock)
    return world


def walk_through_the_api(world: World, clock: Clock) -> None:
    """Real writes through the served API on four `new` reports, one minute apart, recording in the
    seed what each should leave behind."""
    new_ones = [r.id for r in world.bounty_reports() if r.state == "new"]
    world.full, world.grouped, world.duplicate, world.unassigned, world.big_suggestion = new_ones[
        :5
    ]
    api = httpx.Client(base_url=world.server.api, auth=world.auth, timeout=30)

    def write(name: str, method: str, path: str, data: dict[str, Any], status: int) -> Any:
        clock.advance(dt.timedelta(minutes=1))
        world.times[name] = clock.now()
        response = api.request(method, path, json={"data": data})
        assert response.status_code == status, (name, response.text)
        return response.json()

    def state(report: str, name: str, state: str, **extra: Any) -> None:
        attributes = {"state": state, "message": f"{name}: now {state}", **extra}
        write(name, "POST", f"/reports/{report}/state_changes", {"attributes": attributes}, 201)

    full = world.reports[world.full]
    state(full.id, "triage", "triaged")
    write("assign", "PUT", f"/reports/{full.id}/assignee", {"type": "user", "id": "0"}, 400)
    write(
        "assign",
        "PUT",
        f"/reports/{full.id}/assignee",
        {"type": "user", "id": str(world.alice_id)},
        200,
    )
    write(
        "severity",
        "POST",
        f"/reports/{full.id}/severities",
        {"type": "severity", "attributes": {"rating": "critical"}},
        200,
    )
    write(
        "title",
        "PUT",
        f"/reports/{full.id}/title",
        {"type": "report-title", "attributes": {"title": "SQL injection in search"}},
        200,
    )
    write(
        "reference",
        "POST",
        f"/reports/{full.id}/issue_tracker_reference_id",
        {"type": "issue-tracker-reference-id", "attributes": {"reference": "JIRA-7"}},
        200,
    )
    write("suggest", "POST", f"/reports/{full.id}/bounty_suggestions", _money(250, 25), 201)
    write("bounty", "POST", f"/reports/{full.id}/bounties", _money(500, 50), 201)
    write("swag", "POST", f"/reports/{full.id}/swags", {"message": "a t-shirt"}, 201)
    clock.advance(dt.timedelta(minutes=1))
    upload = api.post(
        "/reports/attachments", files={"file": ("poc.txt", b"proof of concept\n", "text/plain")}
    )
    assert upload.status_code == 201, upload.text
    world.times["upload"] = clock.now()
    write(
        "comment",
        "POST",
        f"/reports/{full.id}/activities",
        {
            "type": "activity-comment",
            "attributes": {
                "message": "Reproduced, see the file.",
                "internal": False,
                "attachment_ids": [int(upload.json()["data"]["id"])],
            },
        },
        201,
    )
    write(
        "summary",
        "POST",
        f"/reports/{full.id}/summaries",
        {"type": "report-summary", "attributes": {"content": "Blind SQL injection."}},
        201,
    )
    state(full.id, "resolve", "resolved")
    write(
        "disclose",
        "POST",
        f"/reports/{full.id}/disclosure_requests",
        {"attributes": {"substate": "full", "message": "Let us publish."}},
        200,
    )
    write(
        "lock",
        "PUT",
        f"/reports/{full.id}/close_comments",
        {"type": "activity-comments-closed"},
        200,
    )
    world.reports[full.id] = replace(
        full,
        title="SQL injection in search",
        state="resolved",
        rating="critical",
        triaged_at=world.times["triage"],
        closed_at=world.times["resolve"],
        assignee="alice",
        reference="JIRA-7",
        bounty_awarded_at=world.times["bounty"],
        swag_awarded_at=world.times["swag"],
        touched_at=world.times["lock"],
    )

    grouped = world.reports[world.grouped]
    write(
        "group",
        "PUT",
        f"/reports/{grouped.id}/assignee",
        {"type": "group", "id": str(world.group_id)},
        200,
    )
    state(grouped.id, "ask", "needs-more-info")
    state(grouped.id, "answered", "new")
    world.reports[grouped.id] = replace(
        grouped, assignee="Triagers", touched_at=world.times["answered"]
    )

    duplicate = world.reports[world.duplicate]
    state(duplicate.id, "dup", "duplicate", original_report_id=full.id)
    world.reports[duplicate.id] = replace(
        duplicate, state="duplicate", closed_at=world.times["dup"], touched_at=world.times["dup"]
    )

    unassigned = world.reports[world.unassigned]
    write(
        "assign-again",
        "PUT",
        f"/reports/{unassigned.id}/assignee",
        {"type": "user", "id": str(world.alice_id)},
        200,
    )
    write("nobody", "PUT", f"/reports/{unassigned.id}/assignee", {"type": "nobody"}, 200)
    world.reports[unassigned.id] = replace(unassigned, touched_at=world.times["nobody"])

    big = world.reports[world.big_suggestion]
    write("big", "POST", f"/reports/{big.id}/bounty_suggestions", _money(5000, 2500), 201)
    world.reports[big.id] = replace(big, touched_at=world.times["big"])
    api.close()


def _money(amount: int, bonus: int) -> dict[str, Any]:
    """The flat body the Ruby gem sends (clients.md §3), which h1 users send the same way."""
    return {"message": "thanks", "amount": amount, "bonus_amount": bonus}


@pytest.fixture(scope="module")
async def world(live: LiveServer, engine: AsyncEngine, module_clock: Clock) -> World:
    return await seed(engine, module_clock, live)


@pytest.fixture
def client(world: World) -> HackerOneClient:
    """h1 exactly as a user would set it up; only the base URL points at bountybox."""
    client = HackerOneClient(*world.auth)
    client.BASE_URL = world.server.api
    return client


# ---- the client itself --------------------------------------------------------------------------


def test_the_pinned_h1_release_is_the_one_clients_md_describes() -> None:
    assert h1.__version__ == H1_VERSION
    assert HackerOneClient.BASE_URL == "https://api.hackerone.com/v1"


# ---- listing and paging -------------------------------------------------------------------------


def test_listing_follows_links_next_across_every_page(
    world: World, client: HackerOneClient
) -> None:
    pages = list(client.find_resources(Report, yield_pages=True, program=["h1-bounty"]))

    assert [len(page) for page in pages] == [25, 25, 10]
    listed = [report for page in pages for report in page]
    assert {r.id for r in listed} == {r.id for r in world.bounty_reports()}
    assert len({r.id for r in listed}) == REPORT_COUNT
    # Newest first, as HackerOne lists them.
    assert [r.created_at for r in listed] == sorted((r.created_at for r in listed), reverse=True)


def test_listed_reports_carry_what_was_seeded(world: World, client: HackerOneClient) -> None:
    listed = client.find_resources(Report, program=["h1-bounty", "h1-vdp"])

    assert len(listed) == REPORT_COUNT + 3
    for report in listed:
        seeded = world.reports[report.id]
        assert report.title == seeded.title
        assert report.state == seeded.state
        assert report.created_at == seeded.created_at
        assert report.created_at.tzinfo is not None
        assert report.triaged_at == seeded.triaged_at
        assert report.closed_at == seeded.closed_at
        assert report.bounty_awarded_at == seeded.bounty_awarded_at
        assert report.swag_awarded_at == seeded.swag_awarded_at
        assert report.disclosed_at is None
        assert report.vulnerability_information.startswith(seeded.vulnerability_information)
        assert report.issue_tracker_reference_id == seeded.reference
        assert isinstance(report.reporter, User)
        assert report.reporter.username == seeded.reporter
        assert isinstance(report.program, Program)
        assert report.program.handle == seeded.program
        if seeded.assignee is None:
            assert report.assignee is None
        else:
            assignee = report.assignee
            assert isinstance(assignee, User | Group)
            name = assignee.username if isinstance(assignee, User) else assignee.name
            assert name == seeded.assignee
        # List items embed no activities, attachments, swag or summaries (clients.md §5 rule 7):
        # h1 then defaults them to empty lists.
        assert report.activities == report.attachments == report.swag == report.summaries == []
        assert report.raw_data["relationships"]["severity"]["data"]["attributes"]["rating"] == (
            seeded.rating
        )


def _filtered(world: World) -> list[tuple[str, dict[str, Any], set[str]]]:
    """(name, the keyword arguments given to h1's find_resources, the ids it must return)."""
    full = world.reports[world.full]
    cutoff = T0 + 30 * HOUR
    touched = {r.id for r in world.reports.values() if r.touched_at is not None}
    bounty = ["h1-bounty"]
    return [
        ("two programs", {"program": ["h1-bounty", "h1-vdp"]}, {*world.reports}),
        ("vdp", {"program": ["h1-vdp"]}, world.ids(_all, "h1-vdp")),
        (
            "states",
            {"program": bounty, "state": ["triaged", "spam"]},
            world.ids(lambda r: r.state in ("triaged", "spam")),
        ),
        ("ids", {"program": bounty, "id": [full.id, world.duplicate]}, {full.id, world.duplicate}),
        ("reporter", {"program": bounty, "reporter": ["kraken"]}, world.ids(_by("kraken"))),
        ("assignee user", {"program": bounty, "assignee": ["alice"]}, {full.id}),
        ("assignee group", {"program": bounty, "assignee": ["Triagers"]}, {world.grouped}),
        (
            "weakness",
            {"program": bounty, "weakness_id": [str(world.weakness_id)]},
            world.ids(lambda r: r.weakness_id is not None),
        ),
        (
            "severity",
            {"program": bounty, "severity": ["critical", "none"]},
            world.ids(lambda r: r.rating in ("critical", "none")),
        ),
        (
            "asset",
            {"program": bounty, "asset_ids": [str(world.scope_id)]},
            world.ids(lambda r: r.scope_id is not None),
        ),
        (
            "inbox without program",
            {"inbox_ids": [str(world.inbox_id)]},
            world.ids(lambda r: r.inbox),
        ),
        (
            "keyword",
            {"program": bounty, "keyword": "SQLI"},
            world.ids(lambda r: "sqli" in r.vulnerability_information.lower()),
        ),
        (
            "custom field",
            {
                "program": bounty,
                "custom_fields": [{"id__eq": str(world.field_id), "value__eq": "Front%"}],
            },
            world.ids(lambda r: r.component == "Frontend"),
        ),
        ("reference", {"program": bounty, "issue_tracker_reference_id": "JIRA-7"}, {full.id}),
        (
            "reference set",
            {"program": bounty, "issue_tracker_reference_id__null": "false"},
            {full.id},
        ),
        (
            "created after",
            {"program": bounty, "created_at__gt": cutoff},
            world.ids(lambda r: r.created_at > cutoff),
        ),
        (
            "created before",
            {"program": bounty, "created_at__lt": cutoff},
            world.ids(lambda r: r.created_at < cutoff),
        ),
        (
            "submitted window",
            {"program": bounty, "submitted_at__gt": T0, "submitted_at__lt": T0 + 5 * HOUR},
            world.ids(lambda r: T0 < r.created_at < T0 + 5 * HOUR),
        ),
        (
            "never triaged",
            {"program": bounty, "triaged_at__null": "true"},
            world.ids(lambda r: r.triaged_at is None),
        ),
        (
            "triaged late",
            {"program": bounty, "triaged_at__gt": cutoff},
            world.ids(lambda r: r.triaged_at is not None and r.triaged_at > cutoff),
        ),
        (
            "closed",
            {"program": bounty, "closed_at__null": "false"},
            world.ids(lambda r: r.closed_at is not None),
        ),
        (
            "closed early",
            {"program": bounty, "closed_at__lt": cutoff},
            world.ids(lambda r: r.closed_at is not None and r.closed_at < cutoff),
        ),
        (
            "bounty awarded",
            {"program": bounty, "bounty_awarded_at__gt": T0},
            world.ids(lambda r: r.bounty_awarded_at is not None),
        ),
        (
            "no bounty yet",
            {"program": bounty, "bounty_awarded_at__null": "true"},
            world.ids(lambda r: r.bounty_awarded_at is None),
        ),
        (
            "swag awarded",
            {"program": bounty, "swag_awarded_at__lt": NOW + HOUR},
            world.ids(lambda r: r.swag_awarded_at is not None),
        ),
        ("never disclosed", {"program": bounty, "disclosed_at__null": "true"}, world.ids(_all)),
        ("disclosed lately", {"program": bounty, "disclosed_at__gt": T0}, set()),
        (
            "team acted lately",
            {"program": bounty, "last_program_activity_at__gt": NOW},
            touched,
        ),
        (
            "first response lately",
            {"program": bounty, "first_program_activity_at__gt": NOW},
            touched,
        ),
        (
            "any activity lately",
            {"program": bounty, "last_activity_at__gt": NOW},
            touched,
        ),
        (
            "reporter quiet",
            {"program": bounty, "last_reporter_activity_at__lt": NOW},
            world.ids(_all),
        ),
        (
            "public activity lately",
            {"program": bounty, "last_public_activity_at__gt": NOW},
            # Assignments and suggestions are internal activities.
            touched - {world.unassigned, world.big_suggestion},
        ),
        ("not published", {"program": bounty, "hacker_published": "false"}, world.ids(_all)),
        ("not a priority", {"program": bounty, "hai_is_priority": "false"}, world.ids(_all)),
        (
            "reporter did not agree",
            {"program": bounty, "reporter_agreed_on_going_public": "false"},
            world.ids(_all),
        ),
    ]


def _all(_report: Seeded) -> bool:
    return True


def _by(username: str) -> Callable[[Seeded], bool]:
    return lambda report: report.reporter == username


def test_every_report_filter_selects_what_it_names(world: World, client: HackerOneClient) -> None:
    problems = []
    for name, filters, expected in _filtered(world):
        assert expected or name == "disclosed lately", name  # each filter must select something
        got = {report.id for report in client.find_resources(Report, **filters)}
        if got != expected:
            problems.append(f"{name}: missing {expected - got}, unexpected {got - expected}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("sort", "descending"), [("reports.created_at", False), ("-reports.created_at", True)]
)
def test_sorted_listing_comes_back_in_that_order(
    world: World, client: HackerOneClient, sort: str, descending: bool
) -> None:
    listed = client.find_resources(Report, sort=sort, program=["h1-bounty"])

    expected = sorted(world.bounty_reports(), key=lambda r: r.created_at, reverse=descending)
    assert [r.id for r in listed] == [r.id for r in expected]


def test_a_naive_datetime_is_sent_as_if_it_were_utc(world: World, client: HackerOneClient) -> None:
    # h1 formats datetimes with strftime("%Y-%m-%dT%H:%M:%S.000Z"), so a naive one means UTC.
    naive = (T0 + 50 * HOUR).replace(tzinfo=None)

    listed = client.find_resources(Report, program=["h1-bounty"], created_at__gt=naive)

    assert {r.id for r in listed} == world.ids(lambda r: r.created_at > T0 + 50 * HOUR)


# ---- report documents ---------------------------------------------------------------------------


def test_report_detail_hydrates_every_relationship(world: World, client: HackerOneClient) -> None:
    seeded = world.reports[world.full]
    times = world.times

    report = client.get_resource(Report, seeded.id)

    assert report.id == seeded.id
    assert report.title == "SQL injection in search"
    assert report.state == "resolved"
    assert report.created_at == seeded.created_at
    assert report.triaged_at == times["triage"]
    assert report.first_program_activity_at == times["triage"]
    assert report.closed_at == times["resolve"]
    assert report.last_activity_at == times["lock"]
    assert report.last_program_activity_at == times["lock"]
    assert report.last_reporter_activity_at == seeded.created_at
    assert report.bounty_awarded_at == times["bounty"]
    assert report.swag_awarded_at == times["swag"]
    assert report.disclosed_at is None
    assert report.issue_tracker_reference_id == "JIRA-7"
    assert report.vulnerability_information == seeded.vulnerability_information
    assert report.html_url == f"https://hackerone.com/reports/{seeded.id}"

    assert isinstance(report.reporter, User)
    assert report.reporter.username == "hydra"
    assert report.reporter.disabled is False
    assert report.reporter.created_at == T0
    assert isinstance(report.assignee, User)
    assert report.assignee.username == "alice"
    assert isinstance(report.program, Program)
    assert report.program.handle == "h1-bounty"
    assert report.program.created_at == T0

    (bounty,) = report.bounties
    assert isinstance(bounty, Bounty)
    assert bounty.amount == decimal.Decimal("500.00")
    assert bounty.bonus_amount == decimal.Decimal("50.00")
    assert bounty.created_at == times["bounty"]
    assert report.total_bounty == decimal.Decimal("500.00")
    assert report.total_payout == decimal.Decimal("550.00")
    assert report.time_to_bounty == times["bounty"] - seeded.created_at
    assert report.time_to_closed == times["resolve"] - seeded.created_at
    assert report.time_to_first_response == times["triage"] - seeded.created_at

    (swag,) = report.swag
    assert isinstance(swag, Swag)
    assert swag.sent is False
    assert swag.created_at == times["swag"]
    assert isinstance(swag.address, Address)
    assert (swag.address.name, swag.address.city, swag.address.country) == ("Hydra", "Lerna", "GR")
    assert swag.address.tshirt_size == "M_Large"

    (attachment,) = report.attachments
    assert isinstance(attachment, Attachment)
    assert (attachment.file_name, attachment.content_type) == ("request.har", "application/json")
    assert attachment.file_size == 2048
    assert attachment.expiring_url.startswith(f"{world.server.base_url}/")
    assert attachment.created_at == seeded.created_at

    (summary,) = report.summaries
    assert isinstance(summary, ReportSummary)
    assert summary.content == "Blind SQL injection."
    assert summary.category == "team"
    assert summary.created_at == times["summary"]
    assert isinstance(summary.user, User)
    assert report.vulnerability_types == []


def test_report_detail_hydrates_each_activity_into_its_class(
    world: World, client: HackerOneClient
) -> None:
    report = client.get_resource(Report, world.full)
    times = world.times

    expected = [
        ("lock", ActivityCommentsClosed),
        ("disclose", ActivityPublicAgreement),
        ("resolve", ActivityBugResolved),
        ("comment", ActivityComment),
        ("swag", ActivitySwagAwarded),
        ("bounty", ActivityBountyAwarded),
        ("suggest", ActivityBountySuggested),
        ("reference", ActivityReferenceIDAdded),
        ("title", ActivityReportTitleUpdated),
        ("severity", ActivityReportSeverityUpdated),
        ("assign", ActivityUserAssignedToBug),
        ("triage", ActivityBugTriaged),
    ]
    assert [(type(a), a.created_at) for a in report.activities] == [
        (kind, times[name]) for name, kind in expected
    ]
    by_type = {type(a): a for a in report.activities}
    for activity in report.activities:
        assert activity.updated_at == activity.created_at
        assert isinstance(activity.actor, User | Program)
        assert isinstance(activity.internal, bool)
    assert by_type[ActivityBugTriaged].message == "triage: now triaged"
    assert by_type[ActivityUserAssignedToBug].assigned_user.username == "alice"
    assert by_type[ActivitySwagAwarded].swag == report.swag[0]
    suggested = by_type[ActivityBountySuggested]
    assert (suggested.bounty_amount, suggested.bonus_amount) == (
        decimal.Decimal("250"),
        decimal.Decimal("25"),
    )
    assert suggested.internal is True
    reference = by_type[ActivityReferenceIDAdded]
    assert reference.reference == "JIRA-7"
    assert reference.reference_url is None  # the program has no issue-tracking integration
    comment = by_type[ActivityComment]
    assert comment.message == "Reproduced, see the file."
    assert comment.internal is False
    (uploaded,) = comment.attachments
    assert isinstance(uploaded, Attachment)
    assert (uploaded.file_name, uploaded.content_type) == ("poc.txt", "text/plain")
    assert uploaded.file_size == len(b"proof of concept\n")
    assert uploaded.created_at == times["upload"]
    assert requests.get(uploaded.expiring_url, timeout=10).content == b"proof of concept\n"


def test_group_assignment_and_state_round_trip_hydrate(
    world: World, client: HackerOneClient
) -> None:
    report = client.get_resource(Report, world.grouped)

    assert isinstance(report.assignee, Group)
    assert report.assignee.name == "Triagers"
    assert report.state == "new"
    kinds = [type(a) for a in report.activities]
    assert kinds == [ActivityBugNew, ActivityBugNeedsMoreInfo, ActivityGroupAssignedToBug]
    assert report.activities[2].group == report.assignee
    assert report.activities[1].message == "ask: now needs-more-info"


def test_duplicate_names_its_original(world: World, client: HackerOneClient) -> None:
    report = client.get_resource(Report, world.duplicate)

    (activity,) = report.activities
    assert isinstance(activity, ActivityBugDuplicate)
    assert activity.original_report_id == int(world.full)
    assert report.state == "duplicate"
    assert report.closed_at == world.times["dup"]


def test_a_listed_report_completes_itself_from_the_detail(
    world: World, client: HackerOneClient
) -> None:
    (listed,) = client.find_resources(Report, program=["h1-bounty"], id=[world.full])
    assert listed.activities == []

    listed.try_complete()

    assert len(listed.activities) == 12
    assert listed.swag[0].address.name == "Hydra"


def test_untouched_reports_hydrate_with_empty_relationships(
    world: World, client: HackerOneClient
) -> None:
    untouched = [r for r in world.bounty_reports() if r.touched_at is None][:10]

    for seeded in untouched:
        report = client.get_resource(Report, seeded.id)
        assert report.title == seeded.title
        assert report.activities == report.bounties == report.swag == []
        assert report.assignee is None
        assert report.total_bounty is None


# ---- the other objects, through h1's generic requests -------------------------------------------


def test_users_programs_and_reporters_hydrate(world: World, client: HackerOneClient) -> None:
    user = client.request_object("/users/kraken")
    programs = list(client.request_paginated_objects("/me/programs"))
    program = client.request_object(f"/programs/{world.program_ids['h1-bounty']}")
    reporters = list(
        client.request_paginated_objects(f"/programs/{world.program_ids['h1-bounty']}/reporters")
    )

    assert isinstance(user, User)
    assert (user.username, user.disabled, user.created_at) == ("kraken", False, T0)
    assert isinstance(user.profile_picture, dict)
    assert {p.handle for p in programs} == {"h1-bounty", "h1-vdp"}
    assert all(isinstance(p, Program) and p.created_at == T0 for p in programs)
    assert isinstance(program, Program)
    assert program.handle == "h1-bounty"
    assert program.updated_at is not None
    assert {r.username for r in reporters} == set(HACKERS)


def test_program_swag_and_single_activities_hydrate(world: World, client: HackerOneClient) -> None:
    swag = list(
        client.request_paginated_objects(f"/programs/{world.program_ids['h1-bounty']}/swag")
    )
    report = client.get_resource(Report, world.full)

    assert [s.id for s in swag] == [report.swag[0].id]
    assert swag[0].address.street == "1 Lake Road"
    for activity in report.activities:
        alone = client.request_object(f"/activities/{activity.id}")
        assert type(alone) is type(activity)
        assert alone.created_at == activity.created_at
        assert alone.message == activity.message


def test_the_incremental_feed_pages_through_h1(world: World, client: HackerOneClient) -> None:
    feed = list(
        client.request_paginated_objects(
            "/incremental/activities",
            {"handle": "h1-bounty", "report_id": world.full, "page": {"size": "5"}},
        )
    )
    report = client.get_resource(Report, world.full)

    # Oldest first, across three pages of five, the same objects as the report's document.
    assert [a.id for a in feed] == [a.id for a in reversed(report.activities)]
    assert [type(a) for a in feed] == [type(a) for a in reversed(report.activities)]
    assert [a.updated_at for a in feed] == sorted(a.updated_at for a in feed)


# ---- errors ------------------------------------------------------------------------------------


def test_errors_reach_h1_as_http_errors(world: World, client: HackerOneClient) -> None:
    with pytest.raises(requests.HTTPError) as foreign:
        client.get_resource(Report, world.foreign_report_id)
    assert foreign.value.response.status_code == 403
    assert foreign.value.response.json() == {"errors": [{"status": 403}]}

    stranger = HackerOneClient("nobody", "wrong")
    stranger.BASE_URL = world.server.api
    with pytest.raises(requests.HTTPError) as unauthenticated:
        list(stranger.find_resources(Report, program=["h1-bounty"]))
    assert unauthenticated.value.response.status_code == 401

    with pytest.raises(requests.HTTPError) as bad_filter:
        list(client.find_resources(Report, program=["h1-bounty"], state=["sleeping"]))
    assert bad_filter.value.response.status_code == 400
    error = bad_filter.value.response.json()["errors"][0]
    assert error["source"] == {"parameter": "filter[state]"}


# ---- known client limitations (docs/compatibility.md) -------------------------------------------


def test_limitation_h1_cannot_hydrate_activity_types_newer_than_its_list(
    world: World, client: HackerOneClient
) -> None:
    """h1 1.4.2 knows 32 activity types; HackerOne (and bountybox) also emit newer ones, such as
    `activity-nobody-assigned-to-bug` after an unassignment (assign_report_to_nobody.yml). Such a
    report's document makes `get_resource` raise, while listings, which embed no activities, still
    work."""
    assert "activity-nobody-assigned-to-bug" not in list_model_types()

    with pytest.raises(Exception, match="Can't hydrate a activity-nobody-assigned-to-bug!"):
        client.get_resource(Report, world.unassigned)

    listed = client.find_resources(Report, program=["h1-bounty"])
    assert world.unassigned in {r.id for r in listed}
    raw = client.request_json(f"/reports/{world.unassigned}")["data"]
    types = [a["type"] for a in raw["relationships"]["activities"]["data"]]
    assert types == ["activity-nobody-assigned-to-bug", "activity-user-assigned-to-bug"]


def test_limitation_h1_cannot_parse_amounts_with_thousands_separators(
    world: World, client: HackerOneClient
) -> None:
    """Activity amounts are whole numbers with thousands separators on the wire ("5,000" in
    suggest_a_bounty.yml), and bountybox sends them the same way; h1 reads them with
    `Decimal()`, which refuses the comma, so a report with a suggestion of 1,000 or more does not
    hydrate."""
    with pytest.raises(decimal.InvalidOperation):
        client.get_resource(Report, world.big_suggestion)

    raw = client.request_json(f"/reports/{world.big_suggestion}")["data"]
    (suggestion,) = raw["relationships"]["activities"]["data"]
    assert suggestion["type"] == "activity-bounty-suggested"
    assert (
        suggestion["attributes"]["bounty_amount"],
        suggestion["attributes"]["bonus_amount"],
    ) == (
        "5,000",
        "2,500",
    )
    listed = client.find_resources(Report, program=["h1-bounty"], id=[world.big_suggestion])
    assert [r.id for r in listed] == [world.big_suggestion]


def test_limitation_h1_reports_lack_the_newer_states(world: World) -> None:
    """h1's Report.STATES predates `pending-program-review` and `retesting`; it only documents
    them, so reports in those states still hydrate (their `state` is a plain string)."""
    assert {"pending-program-review", "retesting"}.isdisjoint(Report.STATES)
    assert set(STATES) == Report.STATES
    assert world.reports


def test_limitation_h1_cannot_send_unquoted_values(world: World, client: HackerOneClient) -> None:
    """h1 passes every filter value through `quote()`, which takes only strings: numbers and
    booleans raise TypeError before any request, so ids and flags must be given as strings."""
    with pytest.raises(TypeError):
        list(client.find_resources(Report, program=["h1-bounty"], id=[int(world.full)]))
    with pytest.raises(TypeError):
        list(client.find_resources(Report, program=["h1-bounty"], triaged_at__null=True))


def test_limitation_h1_has_no_write_calls(world: World) -> None:
    """h1 reads reports only; every write above went through plain HTTP."""
    public = {name for name in dir(HackerOneClient) if not name.startswith("_")}
    assert public == {
        "BASE_URL",
        "REQUEST_HEADERS",
        "find_resources",
        "get_resource",
        "make_request",
        "request_json",
        "request_object",
        "request_paginated_objects",
    }
    assert world.times["lock"] > world.times["triage"]
