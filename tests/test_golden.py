"""Golden shapes: bountybox answers with the envelopes, keys and JSON value kinds that HackerOne
put on the wire (the hackerone-client-ruby VCR cassettes) and that its documentation shows (the
h1-python and hackeroni fixtures, and the complete report example in customer-objects.md §8).

Each test loads the demo dataset, maps the recorded ids onto seeded ones (program 18969 -> acme,
report 200 -> a seeded report with the same kind of relationships, ...), sends the request the way
the recorded client did (same method, headers, query form and body) and compares structures with
`assert_same_shape`: same JSON kinds, every recorded key present in ours (ours may carry more),
lists compared item by item against a counterpart of the same type.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import functools
import json
import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.models import (
    Activity,
    Attachment,
    Bounty,
    CustomFieldAttribute,
    CustomFieldValue,
    Organization,
    Program,
    RemediationGuidance,
    Report,
    ReportCollaborator,
    ReportSummary,
    Swag,
    Trigger,
    User,
)
from bountybox.demo import load_demo

Json = Any

# A copy of shared/fixtures (recorded traffic and documented examples from public clients) plus
# the complete GET /reports/{id} example of customer-objects.md §8, kept in the repository so the
# golden tests run wherever the suite runs.
FIXTURES = Path(
    os.environ.get(
        "BOUNTYBOX_GOLDEN_FIXTURES", Path(__file__).resolve().parent / "fixtures" / "recorded"
    )
)
CASSETTES = FIXTURES / "hackerone-client-ruby" / "fixtures" / "vcr_cassettes"
H1_PYTHON = FIXTURES / "h1-python" / "tests" / "resources"
HACKERONI = FIXTURES / "hackeroni" / "h1" / "tests"
COMPLETE_REPORT = FIXTURES / "complete-report-example.json"

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MONEY = re.compile(r"^\d+\.\d{2}$")
# Whole amounts with thousands separators, as recorded: "500", "5,000" (suggest_a_bounty.yml).
ACTIVITY_AMOUNT = re.compile(r"^\d{1,3}(,\d{3})*(\.\d{2})?$")
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

# ---- what the comparison tolerates ---------------------------------------------------------------

# Keys the recordings carry that bountybox deliberately does not emit. They are never reported as
# missing, wherever they appear.
DROPPED_KEYS = frozenset(
    {
        # The 2017 relationship that `weakness` replaced; customer-objects.md §3 lists it as legacy
        # ("seen in 2017 traffic only") and bountybox has no vulnerability types.
        "vulnerability_types",
    }
)

# Fields that may be null in our answer although the recording shows a value: customer-objects.md
# types each of them as optional/nullable (`?`), so a seeded row without the value renders null.
NULLABLE = frozenset(
    {
        # report attributes
        "submitted_at",
        "triaged_at",
        "closed_at",
        "last_reporter_activity_at",
        "first_program_activity_at",
        "last_program_activity_at",
        "last_activity_at",
        "last_public_activity_at",
        "bounty_awarded_at",
        "swag_awarded_at",
        "disclosed_at",
        "reporter_agreed_on_going_public_at",
        "issue_tracker_reference_id",
        "issue_tracker_reference_url",
        "source",
        "original_report_id",
        "hai_is_priority_reason",
        "timer_bounty_awarded_elapsed_time",
        "timer_bounty_awarded_miss_at",
        "timer_first_program_response_miss_at",
        "timer_first_program_response_elapsed_time",
        "timer_report_resolved_miss_at",
        "timer_report_resolved_elapsed_time",
        "timer_report_triage_miss_at",
        "timer_report_triage_elapsed_time",
        # user.name ("can be null on the wire"), scope instruction/reference, address extras
        "name",
        "instruction",
        "reference",
        "tshirt_size",
        "phone_number",
        # an activity message "may be null"
        "message",
    }
)

# Older payloads spell some types differently (conventions.md §13).
TYPE_ALIASES = {"structured_scope": "structured-scope"}

# The 2020-2021 recordings (create_report.yml, report_list_before.yml) embed users with the profile
# fields of GET /users/{username}, and the assignee with null stats. The contract keeps embedded
# users to the five base fields, plus reputation/signal/impact on reporters (customer-objects.md
# §2, clients.md §5 rule 5), so bountybox deliberately leaves these out of embeds.
EMBEDDED_USER_PROFILE_KEYS = (
    *(
        f"*.relationships.{relationship}.data.attributes.{key}"
        for relationship in ("reporter", "assignee")
        for key in ("bio", "website", "location", "hackerone_triager")
    ),
    *(
        f"*.relationships.assignee.data.attributes.{key}"
        for key in ("reputation", "signal", "impact")
    ),
)

# The 2020 recordings embed the full program (with its policy) in reports; the contract embeds
# program_small everywhere but GET /programs/{id} (customer-objects.md §2).
PROGRAM_POLICY_EMBED = "*.relationships.program.data.attributes.policy"

# Report list items do not embed these (clients.md §5 rule 7: the real API does not, and one
# unknown activity type would break h1's whole listing); the h1-python list examples still do.
NOT_IN_LIST_ITEMS = ("activities", "attachments", "swag", "summaries")
LIST_ITEM_EMBEDS = tuple(f"*.relationships.{name}" for name in NOT_IN_LIST_ITEMS)


def kind_of(value: Json) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def is_resource(value: Json) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("type"), str)
        and isinstance(value.get("attributes"), dict)
    )


def normal_type(value: Json) -> str:
    kind: str = value["type"]
    return TYPE_ALIASES.get(kind, kind)


def _last_key(path: str) -> str:
    return re.split(r"[.\[]", path)[-1].rstrip("]")


def _fits(candidate: dict[str, Any], recorded: dict[str, Any]) -> bool:
    """Whether our resource carries the recorded one's to-one relationships, with the same types."""
    ours = candidate.get("relationships") or {}
    for name, relationship in (recorded.get("relationships") or {}).items():
        data = relationship.get("data") if isinstance(relationship, dict) else None
        if name in DROPPED_KEYS or not is_resource(data):
            continue
        mine = ours.get(name)
        mine_data = mine.get("data") if isinstance(mine, dict) else None
        if not is_resource(mine_data) or normal_type(mine_data) != normal_type(data):
            return False
    return True


def counterpart(ours: list[Any], recorded: dict[str, Any]) -> dict[str, Any] | None:
    """Our first resource of the recorded one's type, preferring one with the same relationships;
    None when we have no resource of that type (the seeded data does not produce it)."""
    same_type: list[dict[str, Any]] = [
        o for o in ours if is_resource(o) and normal_type(o) == normal_type(recorded)
    ]
    if not same_type:
        return None
    return next((o for o in same_type if _fits(o, recorded)), same_type[0])


def shape_mismatches(
    ours: Json, recorded: Json, path: str = "$", ignore: Collection[str] = ()
) -> list[str]:
    """Every place where `ours` does not have the recorded structure, as `path: problem` lines.

    * kinds must match (dict, list, string, number, bool, null); a recorded null accepts anything,
      and ours may be null where the recording has a value only for NULLABLE fields;
    * every recorded key must be in ours (ours may have more), except DROPPED_KEYS and paths
      matching an `ignore` glob;
    * lists: untyped lists compare their first elements; lists of resources compare each recorded
      item with our first item of the same type (see `counterpart`); recorded types we never
      produce are skipped;
    * two resources of different types in one slot (an actor that is a program here and a user
      there) only compare their envelope.
    """
    if any(fnmatch.fnmatchcase(path, pattern) for pattern in ignore) or recorded is None:
        return []
    if ours is None:
        if _last_key(path) in NULLABLE:
            return []
        return [f"{path}: null where the recording has a {kind_of(recorded)}"]
    if kind_of(ours) != kind_of(recorded):
        return [f"{path}: {kind_of(ours)} where the recording has a {kind_of(recorded)}"]
    problems: list[str] = []
    if isinstance(recorded, dict):
        if (
            is_resource(ours)
            and is_resource(recorded)
            and normal_type(ours) != normal_type(recorded)
        ):
            envelope = ("id", "type", "attributes")
            return [
                f"{path}.{key}: missing" for key in envelope if key in recorded and key not in ours
            ]
        for key, value in recorded.items():
            sub = f"{path}.{key}"
            if key in DROPPED_KEYS or any(fnmatch.fnmatchcase(sub, p) for p in ignore):
                continue
            if key not in ours:
                problems.append(f"{sub}: missing")
            else:
                problems += shape_mismatches(ours[key], value, sub, ignore)
    elif isinstance(recorded, list) and ours and recorded:
        if all(is_resource(item) for item in recorded):
            for item in recorded:
                match = counterpart(ours, item)
                if match is not None:
                    problems += shape_mismatches(match, item, f"{path}[{item['type']}]", ignore)
        else:
            problems += shape_mismatches(ours[0], recorded[0], f"{path}[0]", ignore)
    return list(dict.fromkeys(problems))


def assert_same_shape(
    ours: Json, recorded: Json, path: str = "$", *, ignore: Collection[str] = ()
) -> None:
    problems = shape_mismatches(ours, recorded, path, ignore)
    assert not problems, "shape differs from the recording:\n" + "\n".join(problems)


def wire_format_problems(value: Json, path: str = "$") -> list[str]:
    """The value formats of conventions.md §7 and clients.md §5 rule 5, over a whole document."""
    problems: list[str] = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            problems += wire_format_problems(item, f"{path}[{index}]")
        return problems
    if not isinstance(value, dict):
        return problems
    for key, item in value.items():
        sub = f"{path}.{key}"
        if key == "id" and not isinstance(item, str):
            problems.append(f"{sub}: id {item!r} is not a string")
        if key.endswith("_at") and item is not None and not TIMESTAMP.match(str(item)):
            problems.append(f"{sub}: timestamp {item!r} is not YYYY-MM-DDTHH:MM:SS.mmmZ")
        problems += wire_format_problems(item, sub)
    if is_resource(value):
        kind = value["type"]
        attributes = value["attributes"]
        needs_relationships = kind in ("report", "swag", "report-summary")
        if (needs_relationships or kind.startswith("activity-")) and not isinstance(
            value.get("relationships"), dict
        ):
            problems.append(f"{path}: a {kind} without a relationships object")
        if kind.startswith("activity-"):
            if "actor" not in (value.get("relationships") or {}):
                problems.append(f"{path}: an activity without relationships.actor")
            for key in ("bounty_amount", "bonus_amount"):
                amount = attributes.get(key)
                if key in attributes and not (
                    isinstance(amount, str) and ACTIVITY_AMOUNT.match(amount)
                ):
                    problems.append(f'{path}.attributes.{key}: {amount!r} is not like "500"')
            original = attributes.get("original_report_id")
            if original is not None and (not isinstance(original, int) or original is True):
                problems.append(f"{path}.attributes.original_report_id: {original!r} is not an int")
        if kind == "severity":
            user_id = attributes.get("user_id")
            if not isinstance(user_id, int) or isinstance(user_id, bool):
                problems.append(f"{path}.attributes.user_id: {user_id!r} is not an int")
        if kind == "bounty":
            for key in ("amount", "bonus_amount", "awarded_amount", "awarded_bonus_amount"):
                amount = attributes.get(key)
                if not (isinstance(amount, str) and MONEY.match(amount)):
                    problems.append(f'{path}.attributes.{key}: {amount!r} is not like "500.00"')
    return problems


def assert_wire_formats(document: Json) -> None:
    problems = wire_format_problems(document)
    assert not problems, "wire formats differ from conventions.md §7:\n" + "\n".join(problems)


# ---- the fixtures on disk -----------------------------------------------------------------------


@dataclass(frozen=True)
class Interaction:
    """One recorded request/response pair of a VCR cassette."""

    method: str
    uri: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    body: Json

    @property
    def target(self) -> str:
        """The recorded path and query string, exactly as the client sent them."""
        parts = urlsplit(self.uri)
        return parts.path + (f"?{parts.query}" if parts.query else "")


# Response headers every recorded answer carries and bountybox sends the same way (conventions §1).
RECORDED_HEADERS = ("content-type", "cache-control", "x-content-type-options", "x-frame-options")


def _text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value or ""


@functools.cache
def cassette(name: str) -> tuple[Interaction, ...]:
    class CassetteLoader(yaml.SafeLoader):  # type: ignore[name-defined,misc]
        """VCR writes binary bodies as `!binary` base64 scalars."""

    CassetteLoader.add_constructor(
        "!binary", lambda loader, node: base64.b64decode(loader.construct_scalar(node))
    )
    raw = yaml.load((CASSETTES / f"{name}.yml").read_bytes(), Loader=CassetteLoader)
    interactions = []
    for item in raw["http_interactions"]:
        request, response = item["request"], item["response"]
        body = _text(response["body"].get("string"))
        interactions.append(
            Interaction(
                method=request["method"].upper(),
                uri=request["uri"],
                request_headers={
                    key: values[0]
                    for key, values in request["headers"].items()
                    if key.lower() != "authorization"
                },
                request_body=_text(request["body"].get("string")).encode(),
                status=int(response["status"]["code"]),
                response_headers={
                    key.lower(): values[0] for key, values in response["headers"].items()
                },
                body=json.loads(body) if body.strip() else None,
            )
        )
    return tuple(interactions)


@functools.cache
def documented(path: str) -> Json:
    """A JSON example kept by h1-python (`h1:...`) or hackeroni (`hackeroni:...`)."""
    library, _, name = path.partition(":")
    root = H1_PYTHON if library == "h1" else HACKERONI
    return json.loads((root / name).read_text())


@functools.cache
def documented_complete_report() -> Json:
    """customer-objects.md §8: a complete GET /reports/{id} answer."""
    return json.loads(COMPLETE_REPORT.read_text())


# ---- the seeded side ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    auth: tuple[str, str]
    programs: dict[str, int]


@pytest.fixture
async def demo(session: AsyncSession, settings: Settings, clock: Clock) -> Demo:
    token = await load_demo(session, settings)
    await session.commit()
    clock.freeze(NOW)
    identifier, value = str(token).split(":", 1)
    rows = await session.execute(select(Program.handle, Program.id))
    programs: dict[str, int] = dict(rows.all())
    return Demo(auth=(identifier, value), programs=programs)


async def replay(
    client: httpx.AsyncClient,
    demo: Demo,
    interaction: Interaction,
    *,
    replace: dict[str, str] | None = None,
    body: Json = None,
) -> httpx.Response:
    """Send the recorded request (method, headers, query form, body) with ids mapped to ours.

    `replace` rewrites substrings of the recorded path+query; `body` replaces the JSON body. The
    answer must carry the recorded Content-Type, Cache-Control and security headers."""
    url = interaction.target
    for old, new in (replace or {}).items():
        url = url.replace(old, new)
    content = json.dumps(body).encode() if body is not None else interaction.request_body
    response = await client.request(
        interaction.method,
        url,
        headers=interaction.request_headers,
        content=content or None,
        auth=demo.auth,
    )
    for header in RECORDED_HEADERS:
        assert response.headers.get(header) == interaction.response_headers.get(header), header
    return response


async def report_ids(session: AsyncSession, *conditions: Any) -> list[int]:
    return list(await session.scalars(select(Report.id).where(*conditions).order_by(Report.id)))


async def get_json(client: httpx.AsyncClient, demo: Demo, url: str, **params: str) -> Json:
    response = await client.get(url, params=params or None, auth=demo.auth)
    assert response.status_code == 200, response.text
    return response.json()


def like_recorded_report_200() -> list[Any]:
    """report.yml's report 200: assigned to a user, with swag and a bounty awarded."""
    return [
        Report.assignee_user_id.is_not(None),
        exists().where(Swag.report_id == Report.id),
        exists().where(Bounty.report_id == Report.id),
    ]


def activity_types(document: Json) -> set[str]:
    return {a["type"] for a in document["data"]["relationships"]["activities"]["data"]}


# ---- the helper itself --------------------------------------------------------------------------


def test_shape_comparison_reports_missing_keys_kinds_and_nulls() -> None:
    recorded = {
        "data": {
            "id": "1",
            "type": "report",
            "attributes": {"title": "t", "closed_at": "2017-01-01T00:00:00.000Z", "n": 1},
            "relationships": {"vulnerability_types": {"data": []}, "bounties": {"data": []}},
        }
    }
    ours = {
        "data": {
            "id": "2",
            "type": "report",
            "attributes": {"title": 3, "closed_at": None, "n": 2.5, "extra": True},
            "relationships": {},
        }
    }
    assert shape_mismatches(ours, recorded) == [
        "$.data.attributes.title: number where the recording has a string",
        "$.data.relationships.bounties: missing",
    ]
    actor_user = {"id": "1", "type": "user", "attributes": {"username": "u"}}
    actor_program = {"id": "2", "type": "program", "attributes": {"handle": "h"}}
    assert shape_mismatches({"data": actor_user}, {"data": actor_program}) == []
    assert shape_mismatches({"a": None}, {"a": "x"}) == [
        "$.a: null where the recording has a string"
    ]
    assert shape_mismatches({"a": {}}, {"a": {"b": 1}}, ignore=["$.a.b"]) == []


# ---- reports ------------------------------------------------------------------------------------


async def test_report_document_matches_the_recorded_report(
    demo: Demo, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    # report.yml's report 200 is triaged with a user assignee, CVSS severity, weakness, scope,
    # swag, a bounty and swag/bounty/assignment/triage activities: the seeded report most like it.
    report_id = (await report_ids(session, *like_recorded_report_200()))[0]
    (interaction,) = cassette("report")

    response = await replay(
        client, demo, interaction, replace={"/reports/200": f"/reports/{report_id}"}
    )

    assert response.status_code == interaction.status == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    ours = response.json()
    # The structured scope part of report.yml was edited by hand upstream (fixtures README); it
    # is compared like the rest, through the structured_scope -> structured-scope alias.
    assert_same_shape(ours, interaction.body)
    assert_same_shape(ours, documented("h1:responses/report.json"))
    assert_wire_formats(ours)
    recorded_types = {
        a["type"] for a in interaction.body["data"]["relationships"]["activities"]["data"]
    }
    assert recorded_types - activity_types(ours) == {"activity-reference-id-added"}
    report = ours["data"]
    assert set(report["relationships"]) >= {"assignee", "severity", "weakness", "structured_scope"}
    assert report["relationships"]["assignee"]["data"]["type"] == "user"
    severity = report["relationships"]["severity"]["data"]["attributes"]
    assert severity["cvss_vector_string"].startswith("CVSS:3.1/")
    assert isinstance(severity["score"], float)
    bounty = report["relationships"]["bounties"]["data"][0]["attributes"]
    assert MONEY.match(bounty["amount"])
    assert MONEY.match(bounty["bonus_amount"])
    assert report["relationships"]["campaign"] is None


# Left out when absent (clients.md §5 rule 6, docs/compatibility.md); `campaign` is null instead.
OMITTED_WHEN_ABSENT = (
    "assignee",
    "severity",
    "weakness",
    "structured_scope",
    "triggered_pre_submission_trigger",
    "automated_remediation_guidance",
    "custom_remediation_guidance",
)


async def test_every_demo_report_matches_the_recorded_and_documented_reports(
    demo: Demo, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    recorded = cassette("report")[0].body
    example = documented_complete_report()
    problems: list[str] = []

    for report_id in await report_ids(session):
        ours = await get_json(client, demo, f"/v1/reports/{report_id}")

        relationships = ours["data"]["relationships"]
        absent = [
            f"$.data.relationships.{n}" for n in OMITTED_WHEN_ABSENT if n not in relationships
        ]
        for reference in (recorded, example):
            problems += [
                f"report {report_id}: {p}" for p in shape_mismatches(ours, reference, ignore=absent)
            ]
        problems += [f"report {report_id}: {p}" for p in wire_format_problems(ours)]
    assert not problems, "\n".join(problems)


async def test_fully_populated_report_matches_the_documented_complete_example(
    demo: Demo, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    # The demo never gives one report a summary, a custom field value, attachments, a trigger and
    # remediation guidance all at once, so add them to the report chosen above.
    report = await session.get(Report, (await report_ids(session, *like_recorded_report_200()))[0])
    assert report is not None
    member = await session.scalar(select(User).where(User.username == "bob"))
    organization = await session.scalar(select(Organization).where(Organization.handle == "acme"))
    field = await session.scalar(
        select(CustomFieldAttribute).where(CustomFieldAttribute.program_id == report.program_id)
    )
    hacker = await session.scalar(
        select(User).where(User.user_type == "hacker", User.id != report.reporter_id)
    )
    assert member is not None
    assert organization is not None
    assert field is not None
    assert hacker is not None
    at = NOW - dt.timedelta(days=1)
    trigger = Trigger(
        program_id=report.program_id, title="Out-of-scope warning", created_at=at, updated_at=at
    )
    session.add(trigger)
    await session.flush()
    report.triggered_pre_submission_trigger_id = trigger.id
    comment = Activity(
        type="activity-comment",
        program_id=report.program_id,
        report_id=report.id,
        actor_user_id=member.id,
        message="Internal note with a screenshot.",
        internal=True,
        extra={},
        refs={},
        created_at=at,
        updated_at=at,
    )
    session.add(comment)
    await session.flush()
    for activity_id in (None, comment.id):
        session.add(
            Attachment(
                organization_id=organization.id,
                report_id=report.id,
                activity_id=activity_id,
                file_name="poc.png",
                content_type="image/png",
                file_size=12345,
                storage_key=f"golden/{activity_id}",
                created_at=at,
            )
        )
    session.add_all(
        [
            ReportSummary(
                report_id=report.id,
                user_id=member.id,
                content="Reflected XSS.",
                category="team",
                created_at=at,
                updated_at=at,
            ),
            CustomFieldValue(
                report_id=report.id,
                custom_field_attribute_id=field.id,
                value="Frontend",
                created_at=at,
                updated_at=at,
            ),
            RemediationGuidance(
                report_id=report.id,
                kind="automated",
                reference="https://cwe.mitre.org/data/definitions/79.html",
                created_at=at,
            ),
            RemediationGuidance(
                report_id=report.id,
                kind="custom",
                message="Encode output with the shared helper.",
                author_id=member.id,
                created_at=at,
            ),
        ]
    )
    if not await session.scalar(select(exists().where(ReportCollaborator.report_id == report.id))):
        session.add(ReportCollaborator(report_id=report.id, user_id=hacker.id, weight=1))
    await session.commit()

    ours = await get_json(client, demo, f"/v1/reports/{report.id}")

    example = documented_complete_report()
    assert_same_shape(ours, example)
    # Every relationship of the example is present (none left out as absent).
    assert set(ours["data"]["relationships"]) >= set(example["data"]["relationships"])
    assert_wire_formats(ours)
    relationships = ours["data"]["relationships"]
    assert_same_shape(relationships["swag"]["data"][0], documented("h1:swag.json"))
    assert_same_shape(relationships["bounties"]["data"][0], documented("h1:bounty.json"))
    assert_same_shape(relationships["summaries"]["data"][0], documented("h1:report-summary.json"))
    assert_same_shape(relationships["attachments"]["data"][0], documented("h1:attachment.json"))
    assert_same_shape(relationships["program"]["data"], documented("h1:program.json"))
    assert_same_shape(
        relationships["swag"]["data"][0]["relationships"]["address"]["data"],
        documented("h1:address.json"),
    )
    commented = next(a for a in relationships["activities"]["data"] if a["id"] == str(comment.id))
    assert_same_shape(commented, documented("h1:activity-comment.json"))
    assert len(commented["relationships"]["attachments"]["data"]) == 1


async def test_report_assignees_match_the_documented_user_and_group_assignees(
    demo: Demo, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    user_assigned = (await report_ids(session, Report.assignee_user_id.is_not(None)))[0]
    group_assigned = (await report_ids(session, Report.assignee_group_id.is_not(None)))[0]
    unassigned = (
        await report_ids(
            session, Report.assignee_user_id.is_(None), Report.assignee_group_id.is_(None)
        )
    )[0]

    for report_id, example in (
        (user_assigned, "hackeroni:resources/report_assignee-user.json"),
        (group_assigned, "hackeroni:resources/report_assignee-group.json"),
    ):
        ours = await get_json(client, demo, f"/v1/reports/{report_id}")
        assert_same_shape(ours["data"], documented(example))
        recorded_type = documented(example)["relationships"]["assignee"]["data"]["type"]
        assert ours["data"]["relationships"]["assignee"]["data"]["type"] == recorded_type
        assert_same_shape(
            ours["data"]["relationships"]["assignee"]["data"],
            documented("h1:group.json" if recorded_type == "group" else "h1:user.json"),
        )
    # clients.md §5 rule 6: no assignee key at all when nobody is assigned.
    ours = await get_json(client, demo, f"/v1/reports/{unassigned}")
    assert "assignee" not in ours["data"]["relationships"]


async def test_report_list_matches_the_recorded_single_page_lists(
    demo: Demo, client: httpx.AsyncClient
) -> None:
    before_all, after_all = "2025-01-01T00:00:00-10:00", "2027-01-01T00:00:00-10:00"
    for name, replace, state in (
        # acme's reports created after the cutoff (all of them) that are still new: one page.
        ("report_list", {"2017-02-11T16:00:44-10:00": before_all}, "new"),
        ("report_list_triaged", {"2017-02-11T16:00:44-10:00": before_all}, "triaged"),
        # The 2021 recording lists assigned new reports; acme's new reports are never assigned,
        # so ask for triaged ones (created before a cutoff after all of them).
        (
            "report_list_before",
            {"2017-02-11T16:00:44-10:00": after_all, "%5D=new": "%5D=triaged"},
            "triaged",
        ),
    ):
        (interaction,) = cassette(name)
        assert "filter%5Bprogram%5D%5B0%5D=github" in interaction.target

        response = await replay(client, demo, interaction, replace={"=github": "=acme", **replace})

        assert response.status_code == interaction.status == 200, response.text
        ours = response.json()
        assert set(ours) == set(interaction.body) == {"data", "links"}
        assert 0 < len(ours["data"]) <= 25
        assert {r["attributes"]["state"] for r in ours["data"]} == {state}
        assert ours["links"] == interaction.body["links"] == {}
        assert_same_shape(
            ours, interaction.body, ignore=(*EMBEDDED_USER_PROFILE_KEYS, PROGRAM_POLICY_EMBED)
        )
        assert_wire_formats(ours)
        for item in ours["data"]:
            assert not set(NOT_IN_LIST_ITEMS) & set(item["relationships"]), item["id"]

    (empty,) = cassette("empty_report_list")
    response = await replay(
        client,
        demo,
        empty,
        replace={"=github": "=acme", "2017-02-11T16:00:44-10:00": after_all},
    )
    assert response.status_code == 200
    assert response.json() == empty.body == {"data": [], "links": {}}

    # The h1-python single-page example still embeds what list items leave out (rule 7).
    ours = await get_json(client, demo, "/v1/reports", **{"filter[program][]": "acme-vdp"})
    example = documented("h1:responses/report-list-onepage.json")
    assert ours["links"] == example["links"] == {}
    assert_same_shape(ours, example, ignore=LIST_ITEM_EMBEDS)


async def test_report_list_pages_link_like_hackerone(demo: Demo, client: httpx.AsyncClient) -> None:
    first = await client.get(
        "/v1/reports?filter%5Bprogram%5D%5B0%5D=acme",
        headers={"Accept": "*/*", "Content-Type": "application/json"},
        auth=demo.auth,
    )

    assert first.status_code == 200
    page_one = first.json()
    assert len(page_one["data"]) == 25
    example_first = documented("h1:responses/report-list-twopage-0.json")
    assert_same_shape(page_one, example_first, ignore=LIST_ITEM_EMBEDS)
    links = page_one["links"]
    for url in links.values():
        assert url.startswith("http://testserver/v1/reports?"), url
        assert "[" not in url, url
        assert "]" not in url, url
        assert "filter%5Bprogram%5D%5B0%5D=acme" in url, url
    assert "page%5Bnumber%5D=2" in links["next"]

    second = await client.get(links["next"], headers={"Accept": "*/*"}, auth=demo.auth)

    assert second.status_code == 200
    page_two = second.json()
    assert len(page_two["data"]) == 15
    assert "next" not in page_two["links"]
    assert_same_shape(
        page_two, documented("h1:responses/report-list-twopage-1.json"), ignore=LIST_ITEM_EMBEDS
    )
    assert not {r["id"] for r in page_one["data"]} & {r["id"] for r in page_two["data"]}
    for item in page_one["data"] + page_two["data"]:
        assert not set(NOT_IN_LIST_ITEMS) & set(item["relationships"]), item["id"]
    assert_wire_formats(page_one)
    assert_wire_formats(page_two)


# ---- programs and people ------------------------------------------------------------------------


async def test_programs_match_the_recorded_programs(demo: Demo, client: httpx.AsyncClient) -> None:
    (mine,) = cassette("programs")
    recorded_program = cassette("assign_report_to_user")[1]
    assert recorded_program.target == "/v1/programs/18969"

    programs = await replay(client, demo, mine)
    program = await replay(
        client, demo, recorded_program, replace={"18969": str(demo.programs["acme"])}
    )

    assert programs.status_code == mine.status == 200
    assert programs.json()["links"] == mine.body["links"] == {}
    assert_same_shape(programs.json(), mine.body)
    assert_same_shape(programs.json()["data"][0], documented("h1:program.json"))
    assert program.status_code == recorded_program.status == 200
    assert_same_shape(program.json(), recorded_program.body)
    assert_wire_formats(programs.json())
    assert_wire_formats(program.json())


async def test_reporters_match_the_recorded_reporters(
    demo: Demo, client: httpx.AsyncClient
) -> None:
    interactions = cassette("reporters")
    reporters = [i for i in interactions if i.target.endswith("/reporters")]
    assert reporters

    for interaction in reporters:
        response = await replay(
            client, demo, interaction, replace={"18969": str(demo.programs["acme"])}
        )

        assert response.status_code == interaction.status == 200
        ours = response.json()
        assert ours["links"] == interaction.body["links"] == {}
        assert {u["type"] for u in ours["data"]} == {"user"}
        assert_same_shape(ours, interaction.body)
        assert_wire_formats(ours)


async def test_program_weaknesses_and_scopes_match_the_recorded_embeds(
    demo: Demo, client: httpx.AsyncClient
) -> None:
    recorded = cassette("report")[0].body["data"]["relationships"]
    program_id = demo.programs["acme"]

    weaknesses = await get_json(client, demo, f"/v1/programs/{program_id}/weaknesses")
    scopes = await get_json(client, demo, f"/v1/programs/{program_id}/structured_scopes")

    assert weaknesses["links"] == scopes["links"] == {}
    assert_same_shape(weaknesses["data"], [recorded["weakness"]["data"]])
    assert_same_shape(scopes["data"], [recorded["structured_scope"]["data"]])
    example = documented_complete_report()["data"]["relationships"]
    assert_same_shape(scopes["data"], [example["structured_scope"]["data"]])
    assert_wire_formats(weaknesses)
    assert_wire_formats(scopes)


async def test_user_lookup_matches_the_recorded_user(demo: Demo, client: httpx.AsyncClient) -> None:
    (interaction,) = cassette("user_find_fransrosen")
    assert interaction.request_headers["Content-Type"] == "application/json"

    # A GET carrying Content-Type: application/json and no body, as Faraday sent it.
    response = await replay(client, demo, interaction, replace={"fransrosen": "r3dfox"})

    assert response.status_code == interaction.status == 200
    ours = response.json()
    assert_same_shape(ours, interaction.body)
    assert_same_shape(ours["data"], documented("h1:user.json"))
    assert_wire_formats(ours)
    by_id = await get_json(client, demo, f"/v1/user_by_id/{ours['data']['id']}")
    assert by_id == ours


# ---- the incremental activity feed --------------------------------------------------------------


async def test_incremental_feed_traverses_like_the_recorded_client(
    demo: Demo, client: httpx.AsyncClient
) -> None:
    first, again, last = cassette("traverse_through_3_activities")
    assert first.target.endswith("&updated_at_after=2017-12-04T15:38:00%2B00:00")
    everything = await get_json(
        client, demo, "/v1/incremental/activities", handle="acme", **{"page[size]": "100"}
    )
    start = everything["data"][0]["attributes"]["updated_at"]
    start_offset = start.removesuffix(".000Z").replace("Z", "") + "%2B00:00"

    pages = []
    for interaction in (first, again):
        response = await replay(
            client,
            demo,
            interaction,
            replace={"handle=github": "handle=acme", "2017-12-04T15:38:00%2B00:00": start_offset},
        )
        assert response.status_code == interaction.status == 200
        pages.append(response.json())
    after = pages[0]["meta"]["max_updated_at"]
    following = await replay(
        client,
        demo,
        last,
        replace={"handle=github": "handle=acme", "2017-12-05T16:16:27.757Z": after},
    )
    newest = await get_json(
        client, demo, "/v1/incremental/activities", handle="acme", order="desc", first="1"
    )
    past_the_end = await replay(
        client,
        demo,
        last,
        replace={
            "handle=github": "handle=acme",
            "2017-12-05T16:16:27.757Z": newest["data"][0]["attributes"]["updated_at"],
        },
    )

    assert pages[0] == pages[1]
    page = pages[0]
    assert len(page["data"]) == 3  # `first=3` is the page size
    assert all(a["attributes"]["updated_at"] > start for a in page["data"])  # strictly after
    assert page["meta"] == {"max_updated_at": page["data"][-1]["attributes"]["updated_at"]}
    assert_same_shape(page, first.body)
    assert following.status_code == 200
    assert following.json()["data"][0]["attributes"]["updated_at"] > after
    assert past_the_end.status_code == 200
    assert past_the_end.json()["data"] == last.body["data"] == []
    assert past_the_end.json()["meta"] == last.body["meta"] == {"max_updated_at": None}
    assert_same_shape(past_the_end.json(), last.body)


async def test_incremental_feed_items_match_the_recorded_activities(
    demo: Demo, client: httpx.AsyncClient
) -> None:
    first = cassette("traverse_through_all_activities")[0]
    assert first.target.endswith("&updated_at_after")  # a bare key: no lower bound
    recorded = cassette("traverse_through_3_activities")[0].body

    response = await replay(
        client, demo, first, replace={"first=25": "first=100", "handle=github": "handle=acme"}
    )

    assert response.status_code == 200
    ours = response.json()
    assert len(ours["data"]) == 100
    recorded_types = {a["type"] for a in recorded["data"]}
    assert recorded_types <= {a["type"] for a in ours["data"]}
    assert_same_shape(ours, recorded)
    assert_same_shape(ours, first.body)
    assert_wire_formats(ours)
    for activity in ours["data"]:
        # Only the feed adds report_id, and as a string (conventions.md §3.3).
        assert isinstance(activity["attributes"]["report_id"], str)
    assert ours["meta"]["max_updated_at"] == ours["data"][-1]["attributes"]["updated_at"]


H1_ACTIVITY_EXAMPLES = sorted(p.stem for p in H1_PYTHON.glob("activity-*.json"))
# The documented activity types the demo dataset produces.
DEMO_ACTIVITY_TYPES = {
    "activity-bounty-awarded",
    "activity-bug-duplicate",
    "activity-bug-informative",
    "activity-bug-needs-more-info",
    "activity-bug-not-applicable",
    "activity-bug-resolved",
    "activity-bug-spam",
    "activity-bug-triaged",
    "activity-comment",
    "activity-group-assigned-to-bug",
    "activity-swag-awarded",
    "activity-user-assigned-to-bug",
}


async def test_activities_match_the_documented_activity_examples(
    demo: Demo, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    seeded: dict[str, int] = {}
    for kind, activity_id in await session.execute(
        select(Activity.type, Activity.id).order_by(Activity.id)
    ):
        seeded.setdefault(kind, activity_id)  # the first seeded activity of each type
    covered = DEMO_ACTIVITY_TYPES & set(H1_ACTIVITY_EXAMPLES)
    assert covered == DEMO_ACTIVITY_TYPES <= set(seeded)

    problems: list[str] = []
    for kind in sorted(covered):
        ours = await get_json(client, demo, f"/v1/activities/{seeded[kind]}")
        assert set(ours) == {"data"}
        assert ours["data"]["type"] == kind
        problems += shape_mismatches(ours["data"], documented(f"h1:{kind}.json"), kind)
        problems += wire_format_problems(ours, kind)
    assert not problems, "\n".join(problems)


# ---- writes -------------------------------------------------------------------------------------


async def test_create_report_matches_the_recorded_creation(
    demo: Demo, client: httpx.AsyncClient
) -> None:
    (interaction,) = cassette("create_report")
    sent = json.loads(interaction.request_body)
    assert sent["data"]["attributes"]["team_handle"] == "github"
    sent["data"]["attributes"]["team_handle"] = "acme"

    response = await replay(client, demo, interaction, body=sent)

    assert response.status_code == interaction.status == 201, response.text
    ours = response.json()
    assert_same_shape(
        ours,
        interaction.body,
        ignore=(*EMBEDDED_USER_PROFILE_KEYS, PROGRAM_POLICY_EMBED),
    )
    assert_wire_formats(ours)
    attributes = ours["data"]["attributes"]
    assert attributes["vulnerability_information"] == "hi\n\n## Impact\n\nstring"
    assert attributes["source"] == "api"
    assert attributes["state"] == "new"
    assert ours["data"]["relationships"]["activities"] == {"data": []}
    assert ours["data"]["relationships"]["severity"]["data"]["attributes"]["rating"] == "none"
    created = await get_json(client, demo, f"/v1/reports/{ours['data']['id']}")
    assert created == ours


async def test_invalid_severity_rating_gets_the_recorded_error_body(
    demo: Demo, client: httpx.AsyncClient
) -> None:
    (interaction,) = cassette("create_report_invalid")
    sent = json.loads(interaction.request_body)
    sent["data"]["attributes"]["team_handle"] = "acme"

    response = await replay(client, demo, interaction, body=sent)

    assert response.status_code == interaction.status == 400
    assert response.json() == interaction.body


async def test_missing_report_gets_the_recorded_errors(
    demo: Demo, client: httpx.AsyncClient
) -> None:
    read, write, _reference = cassette("missing_report")
    assert read.target == "/v1/reports/404"
    assert write.target == "/v1/reports/4040000000000000/state_changes"

    missing = await replay(client, demo, read)
    missing_write = await replay(client, demo, write)

    assert missing.status_code == read.status == 403
    assert missing.json() == read.body == {"errors": [{"status": 403}]}
    assert missing_write.status_code == write.status == 400
    assert missing_write.json() == write.body
    assert missing_write.json()["errors"][0]["source"] == {"parameter": "report_id"}


async def test_error_bodies_have_the_documented_shape(
    demo: Demo, client: httpx.AsyncClient
) -> None:
    example = documented("hackeroni:responses/error.json")

    response = await client.get(
        "/v1/reports",
        params={"filter[program][]": "acme", "filter[id][]": "not-a-number"},
        auth=demo.auth,
    )

    assert response.status_code == example["errors"][0]["status"] == 400
    ours = response.json()
    assert_same_shape(ours, example)
    (error,) = ours["errors"]
    assert error["title"] == example["errors"][0]["title"]
    parameter = error["source"]["parameter"]
    assert error["detail"] == f"The parameter '{parameter}' is invalid."


async def test_state_change_matches_the_recorded_triage(
    demo: Demo, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    # Report 200 of stage_change.yml went from needs-more-info to triaged.
    report_id = (await report_ids(session, Report.state == "needs-more-info"))[0]
    (interaction,) = cassette("stage_change")

    response = await replay(
        client, demo, interaction, replace={"/reports/200": f"/reports/{report_id}"}
    )

    assert response.status_code == interaction.status == 201, response.text
    ours = response.json()
    assert_same_shape(ours, interaction.body)
    assert_wire_formats(ours)
    assert ours["data"]["attributes"]["state"] == "triaged"
    newest = ours["data"]["relationships"]["activities"]["data"][0]
    assert newest["type"] == "activity-bug-triaged"
    assert newest["attributes"]["message"] == "This is has been triaged internally."
    assert activity_types(ours) >= {"activity-bug-triaged", "activity-bug-needs-more-info"}


async def test_duplicate_with_a_string_original_report_id_matches_the_recorded_dup(
    demo: Demo, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    # dup.yml: report 200 (triaged, assigned to a user) closed as a duplicate of "302".
    triaged = await report_ids(
        session, Report.state == "triaged", Report.assignee_user_id.is_not(None)
    )
    report_id, original_id = triaged[0], triaged[1]
    read, change = cassette("dup")
    sent = json.loads(change.request_body)
    assert sent["data"]["attributes"]["original_report_id"] == "302"
    sent["data"]["attributes"]["original_report_id"] = str(original_id)
    replace = {"/reports/200": f"/reports/{report_id}"}

    before = await replay(client, demo, read, replace=replace)
    response = await replay(client, demo, change, replace=replace, body=sent)

    assert before.status_code == read.status == 200
    assert_same_shape(before.json(), read.body)
    assert response.status_code == change.status == 201, response.text
    ours = response.json()
    assert_same_shape(ours, change.body)
    assert_wire_formats(ours)
    assert ours["data"]["attributes"]["state"] == "duplicate"
    assert ours["data"]["attributes"]["original_report_id"] == str(original_id)
    newest = ours["data"]["relationships"]["activities"]["data"][0]
    recorded_newest = change.body["data"]["relationships"]["activities"]["data"][0]
    assert newest["type"] == recorded_newest["type"] == "activity-bug-duplicate"
    assert newest["attributes"]["original_report_id"] == original_id  # an int, as recorded
    assert newest["attributes"]["message"] == "totally a dup"
    assert activity_types(ours) >= {
        "activity-bug-duplicate",
        "activity-bug-triaged",
        "activity-user-assigned-to-bug",
    }


@pytest.mark.parametrize("name", ["add_comment", "add_public_comment"])
async def test_comment_matches_the_recorded_comment(
    name: str, demo: Demo, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    report_id = (await report_ids(session, Report.state == "triaged"))[0]
    (interaction,) = cassette(name)
    sent = json.loads(interaction.request_body)

    response = await replay(
        client, demo, interaction, replace={"/reports/200": f"/reports/{report_id}"}
    )

    assert response.status_code == interaction.status == 201, response.text
    ours = response.json()
    assert set(ours) == set(interaction.body) == {"data"}
    assert_same_shape(ours, interaction.body)
    assert_wire_formats(ours)
    assert ours["data"]["type"] == "activity-comment"
    assert ours["data"]["attributes"]["internal"] is sent["data"]["attributes"]["internal"]
    assert ours["data"]["attributes"]["message"] == sent["data"]["attributes"]["message"]
    assert ours["data"]["attributes"]["created_at"] == "2026-06-01T12:00:00.000Z"
    actor = ours["data"]["relationships"]["actor"]["data"]
    assert actor["attributes"]["username"] == demo.auth[0]
    fetched = await get_json(client, demo, f"/v1/activities/{ours['data']['id']}")
    assert fetched == ours
