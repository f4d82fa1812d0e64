"""The rules of shared/api/clients.md §5, which keep all four public clients (h1, hackeroni, the
Ruby gem and the Node client) working, one test per rule, through real HTTP against a live server
holding the demo dataset. Requests go out byte for byte the way the clients send them
(tests/clients/wire.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bountybox.core.clock import Clock
from bountybox.db.engine import session_factory
from bountybox.db.models import Group, Program, User
from tests.builders import make_report
from tests.clients.conftest import Demo
from tests.clients.wire import (
    GO_HEADERS,
    H1_HEADERS,
    NODE_HEADERS,
    RUBY_HEADERS,
    RawResponse,
    send,
    send_json,
)
from tests.test_golden import TIMESTAMP, wire_format_problems

Json = Any
ACME = "filter%5Bprogram%5D%5B%5D=acme"
CLIENT_HEADERS = {"h1": H1_HEADERS, "go": GO_HEADERS, "ruby": RUBY_HEADERS, "node": NODE_HEADERS}


def get(demo: Demo, target: str, headers: dict[str, str] | None = None) -> Json:
    response = send(demo.server, "GET", target, auth=demo.auth, headers=headers or H1_HEADERS)
    assert response.status == 200, (target, response.body)
    return response.json()


def acme_reports(demo: Demo, *states: str) -> list[Json]:
    query = ACME + "".join(f"&filter%5Bstate%5D%5B%5D={s}" for s in states)
    return list(get(demo, f"/v1/reports?{query}&page%5Bsize%5D=100")["data"])


def resources(value: Json) -> Iterator[dict[str, Any]]:
    """Every resource object (a dict with `type` and `attributes`) anywhere in a document."""
    if isinstance(value, list):
        for item in value:
            yield from resources(item)
    elif isinstance(value, dict):
        if isinstance(value.get("type"), str) and isinstance(value.get("attributes"), dict):
            yield value
        for item in value.values():
            yield from resources(item)


def ids(document: Json) -> list[str]:
    return [item["id"] for item in document["data"]]


# ---- rule 1 -------------------------------------------------------------------------------------


def test_rule_1_paths_every_path_the_clients_use_is_served_under_v1(demo: Demo) -> None:
    program = demo.programs["acme"]
    report = acme_reports(demo, "triaged")[0]["id"]
    swag = get(demo, f"/v1/programs/{program}/swag")["data"][0]["id"]
    reads = [
        f"/v1/reports?{ACME}",
        f"/v1/reports/{report}",
        "/v1/me/programs",
        f"/v1/programs/{program}",
        f"/v1/programs/{program}/reporters",
        f"/v1/programs/{program}/common_responses",
        f"/v1/programs/{program}/swag",
        f"/v1/programs/{program}/billing/balance",
        f"/v1/programs/{program}/structured_scopes",
        "/v1/users/r3dfox",
        "/v1/incremental/activities?handle=acme",
    ]
    writes = [
        ("POST", f"/v1/reports/{report}/activities"),
        ("POST", f"/v1/reports/{report}/state_changes"),
        ("POST", f"/v1/reports/{report}/issue_tracker_reference_id"),
        ("PUT", f"/v1/reports/{report}/assignee"),
        ("POST", f"/v1/reports/{report}/bounties"),
        ("POST", f"/v1/reports/{report}/bounty_suggestions"),
        ("POST", f"/v1/reports/{report}/swags"),
        ("POST", f"/v1/reports/{report}/severities"),
        ("PUT", f"/v1/reports/{report}/close_comments"),
        ("PUT", f"/v1/programs/{program}/policy"),
        ("POST", "/v1/reports"),
    ]

    for target in reads:
        for name, headers in CLIENT_HEADERS.items():
            response = send(demo.server, "GET", target, auth=demo.auth, headers=headers)
            assert response.status == 200, (name, target, response.body)
    for method, target in writes:
        # An empty document reaches the endpoint, which refuses it: routed, not 404.
        response = send_json(demo.server, method, target, {}, auth=demo.auth)
        assert response.status == 400, (method, target, response.body)
    # Marking swag as sent takes the documented empty body as well as the clients' one.
    sent = send_json(demo.server, "PUT", f"/v1/programs/{program}/swag/{swag}", {}, auth=demo.auth)
    assert sent.status == 200, sent.body
    # There is no default version.
    assert send(demo.server, "GET", f"/reports?{ACME}", auth=demo.auth).status == 404


# ---- rule 2 -------------------------------------------------------------------------------------


def test_rule_2_auth_basic_up_front_and_401_with_a_json_body(demo: Demo) -> None:
    program = demo.programs["acme"]
    for target in (f"/v1/reports?{ACME}", "/v1/me/programs", f"/v1/programs/{program}"):
        for auth in (None, ("nope", "NOPE"), (demo.auth[0], "wrong")):
            response = send(demo.server, "GET", target, auth=auth, headers=H1_HEADERS)
            assert response.status == 401, (target, auth)
            assert response.headers["content-type"].startswith("application/json")
            assert response.json()["errors"][0]["status"] == 401
            # No challenge: no client answers one, and a browser would prompt for it.
            assert "www-authenticate" not in response.headers
    for headers in CLIENT_HEADERS.values():
        assert get(demo, "/v1/me/programs", headers)["data"]


# ---- rule 3 -------------------------------------------------------------------------------------


def test_rule_3_query_parsing_accepts_every_form_the_clients_send(demo: Demo) -> None:
    def listed(query: str, headers: dict[str, str] = H1_HEADERS) -> list[str]:
        return ids(get(demo, f"/v1/reports?{query}&page%5Bsize%5D=100", headers))

    # Percent-encoded and raw brackets; `[]`, `[0]` (the cassette URIs) and a scalar.
    triaged = listed(f"{ACME}&filter%5Bstate%5D%5B%5D=triaged")
    assert triaged
    assert listed("filter[program][]=acme&filter[state][]=triaged", NODE_HEADERS) == triaged
    assert listed("filter%5Bprogram%5D%5B0%5D=acme&filter%5Bstate%5D%5B0%5D=triaged") == triaged
    assert listed("filter[program]=acme&filter[state]=triaged") == triaged
    two = listed(f"{ACME}&filter%5Bstate%5D%5B%5D=new&filter%5Bstate%5D%5B%5D=triaged")
    assert set(two) > set(triaged)

    # Booleans arrive as `true`.
    untriaged = listed(f"{ACME}&filter%5Btriaged_at__null%5D=true", GO_HEADERS)
    assert untriaged
    assert not set(untriaged) & set(triaged)

    # One instant, in every spelling the clients use; Node's raw `+` decodes to a space.
    everything = get(demo, f"/v1/reports?{ACME}&page%5Bsize%5D=100")["data"]
    created = sorted(r["attributes"]["created_at"] for r in everything)
    middle = dt.datetime.fromisoformat(created[len(created) // 2].replace("Z", "+00:00"))
    later = {r["id"] for r in everything if r["attributes"]["created_at"] > _ms(middle)}
    spellings = [
        ("h1", middle.strftime("%Y-%m-%dT%H:%M:%S.000Z").replace(":", "%3A"), H1_HEADERS),
        ("go", middle.strftime("%Y-%m-%dT%H:%M:%SZ").replace(":", "%3A"), GO_HEADERS),
        ("ruby", middle.strftime("%Y-%m-%dT%H:%M:%S") + "%2B00%3A00", RUBY_HEADERS),
        (
            "ruby -10:00",
            (middle - dt.timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M:%S") + "-10%3A00",
            RUBY_HEADERS,
        ),
        ("node", middle.strftime("%Y-%m-%dT%H:%M:%S") + "+00:00", NODE_HEADERS),
    ]
    for name, spelled, headers in spellings:
        got = listed(f"{ACME}&filter%5Bcreated_at__gt%5D={spelled}", headers)
        assert set(got) == later, name

    # hackeroni's `swag_at__*` is `swag_awarded_at__*`.
    swag = listed(f"{ACME}&filter%5Bswag_awarded_at__gt%5D=2000-01-01T00%3A00%3A00Z")
    assert swag
    assert listed(f"{ACME}&filter%5Bswag_at__gt%5D=2000-01-01T00%3A00%3A00Z", GO_HEADERS) == swag

    # Faraday's bare `updated_at_after` (no `=`) means no lower bound; GET carries Content-Type.
    bare = get(
        demo, "/v1/incremental/activities?first=25&handle=acme&updated_at_after", RUBY_HEADERS
    )
    unbounded = get(demo, "/v1/incremental/activities?first=25&handle=acme")
    assert ids(bare) == ids(unbounded)
    assert len(bare["data"]) == 25


def _ms(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


# ---- rule 4 -------------------------------------------------------------------------------------


def test_rule_4_lists_link_absolutely_keep_the_query_and_omit_next_at_the_end(demo: Demo) -> None:
    program = demo.programs["acme"]
    for target in (
        "/v1/me/programs",
        f"/v1/programs/{program}/reporters",
        f"/v1/programs/{program}/common_responses?page%5Bnumber%5D=1&page%5Bsize%5D=100",
        f"/v1/programs/{program}/swag?page%5Bnumber%5D=1&page%5Bsize%5D=100",
        f"/v1/programs/{program}/swag",
        "/v1/reports?filter%5Bprogram%5D%5B%5D=acme-vdp",
    ):
        document = get(demo, target)
        assert document["links"] == {}, target  # one page: an empty object, never absent

    # h1 and Node send no page size: 25 per page, and `next` carries the filters and the page.
    states = ("new", "triaged", "needs-more-info", "resolved", "informative", "duplicate", "spam")
    query = ACME + "".join(f"&filter%5Bstate%5D%5B%5D={s}" for s in states)
    query += "&sort=reports.created_at"
    expected = {(k, v) for k, v in parse_qsl(query)}
    seen: list[str] = []
    target = f"/v1/reports?{query}"
    pages = 0
    while True:
        response = send(
            demo.server,
            "GET",
            target,
            auth=demo.auth,
            headers={**H1_HEADERS, "Host": "h1.bountybox.test:8443"},
        )
        assert response.status == 200
        document = response.json()
        pages += 1
        seen += ids(document)
        links = document["links"]
        if "next" not in links:
            break
        assert links["next"] is not None
        parts = urlsplit(links["next"])
        # Absolute, on the host and port the request named.
        assert (parts.scheme, parts.netloc, parts.path) == (
            "http",
            "h1.bountybox.test:8443",
            "/v1/reports",
        )
        params = parse_qsl(parts.query)
        assert expected <= set(params)
        assert ("page[number]", str(pages + 1)) in params  # hackeroni reads the number
        assert len(document["data"]) == 25
        target = links["next"].removeprefix("http://h1.bountybox.test:8443")
    assert pages == 2
    assert 0 < len(document["data"]) <= 25
    assert len(seen) == len(set(seen)) == len(acme_reports(demo, *states))


# ---- rule 5 -------------------------------------------------------------------------------------

REPORT_ATTRIBUTES = {
    "title",
    "state",
    "created_at",
    "vulnerability_information",
    "triaged_at",
    "closed_at",
    "last_reporter_activity_at",
    "first_program_activity_at",
    "last_program_activity_at",
    "last_activity_at",
    "bounty_awarded_at",
    "swag_awarded_at",
    "disclosed_at",
    "issue_tracker_reference_id",
    "issue_tracker_reference_url",
}
USER_KEYS = {"username", "name", "disabled", "created_at", "profile_picture"}
NUMBER_FIELDS = {"file_size": int, "reputation": int, "user_id": int, "signal": float}


def test_rule_5_object_shapes_ids_times_amounts_and_required_keys(demo: Demo) -> None:
    program = demo.programs["acme"]
    awarded = [
        r
        for r in acme_reports(demo, "resolved", "triaged")
        if r["relationships"]["bounties"]["data"]
    ]
    referenced = acme_reports(demo, "new")[0]["id"]
    reference = send_json(
        demo.server,
        "POST",
        f"/v1/reports/{referenced}/issue_tracker_reference_id",
        {"data": {"type": "issue-tracker-reference-id", "attributes": {"reference": "SEC-1"}}},
        auth=demo.auth,
        headers=RUBY_HEADERS,
    )
    assert reference.status == 200
    documents = [
        get(demo, f"/v1/reports?{ACME}&page%5Bsize%5D=100"),
        *(get(demo, f"/v1/reports/{r['id']}") for r in awarded),
        get(demo, f"/v1/reports/{referenced}"),
        get(demo, f"/v1/programs/{program}"),
        get(demo, "/v1/me/programs"),
        get(demo, f"/v1/programs/{program}/swag"),
        get(demo, f"/v1/programs/{program}/reporters"),
        get(demo, "/v1/users/r3dfox"),
        get(demo, "/v1/incremental/activities?handle=acme&page%5Bsize%5D=100"),
    ]

    problems: list[str] = []
    kinds: set[str] = set()
    for document in documents:
        problems += wire_format_problems(document)
        for item in resources(document):
            kind = item["type"]
            kinds.add(kind)
            attributes = item["attributes"]
            where = f"{kind} {item.get('id')}"
            if kind == "report" and not set(attributes) >= REPORT_ATTRIBUTES:
                problems.append(f"{where}: lacks {REPORT_ATTRIBUTES - set(attributes)}")
            if kind == "user" and not set(attributes) >= USER_KEYS:
                problems.append(f"{where}: lacks {USER_KEYS - set(attributes)}")
            if kind == "program" and not {"handle", "created_at", "updated_at"} <= set(attributes):
                problems.append(f"{where}: lacks handle/created_at/updated_at")
            if (kind in ("report", "swag", "report-summary") or kind.startswith("activity-")) and (
                not isinstance(item.get("relationships"), dict)
            ):
                problems.append(f"{where}: no relationships object")
            if kind == "bounty" and None in (attributes["amount"], attributes["bonus_amount"]):
                problems.append(f"{where}: a null amount")
            if kind == "activity-reference-id-added" and not {"reference", "reference_url"} <= set(
                attributes
            ):
                problems.append(f"{where}: no reference/reference_url")
            for key, wanted in NUMBER_FIELDS.items():
                value = attributes.get(key)
                if value is not None and (
                    type(value) is not wanted and not (wanted is float and type(value) is int)
                ):
                    problems.append(f"{where}.{key}: {value!r} is not a {wanted.__name__}")
            if kind == "program-balance" and not re.fullmatch(r"\d+\.\d\d", attributes["balance"]):
                problems.append(f"{where}: balance {attributes['balance']!r}")
    assert not problems, "\n".join(problems)
    assert {"report", "user", "program", "bounty", "swag", "address", "severity"} <= kinds
    assert "activity-reference-id-added" in kinds
    balance = get(demo, f"/v1/programs/{program}/billing/balance")
    assert re.fullmatch(r"\d+\.\d\d", balance["data"]["attributes"]["balance"])
    assert isinstance(balance["data"]["id"], str)


# ---- rule 6 -------------------------------------------------------------------------------------


async def test_rule_6_omission_absent_to_one_relationships_are_left_out(
    demo: Demo, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session:
        acme = await session.get(Program, demo.programs["acme"])
        hacker = await session.scalar(select(User).where(User.username == "r3dfox"))
        assert acme is not None
        assert hacker is not None
        bare = await make_report(session, acme, reporter=hacker, title="Nothing set yet")

    document = get(demo, f"/v1/reports/{bare.id}")
    listed = get(demo, f"/v1/reports?{ACME}&filter%5Bid%5D%5B%5D={bare.id}")

    for report in (document["data"], listed["data"][0]):
        relationships = report["relationships"]
        for name in ("assignee", "severity", "weakness", "structured_scope"):
            assert name not in relationships, name
        assert relationships["bounties"] == {"data": []}
        assert relationships["reporter"]["data"]["attributes"]["username"] == "r3dfox"
    assert document["data"]["relationships"]["activities"] == {"data": []}
    # A set one is present, as the recorded report shows.
    assigned = acme_reports(demo, "triaged")[0]["relationships"]
    assert assigned["assignee"]["data"]["type"] in ("user", "group")
    assert {"severity", "weakness", "structured_scope"} <= set(assigned)


# ---- rule 7 -------------------------------------------------------------------------------------


def test_rule_7_activity_types_stay_out_of_list_items(demo: Demo) -> None:
    everything = acme_reports(demo)
    created = send_json(
        demo.server,
        "POST",
        "/v1/reports",
        {
            "data": {
                "type": "report",
                "attributes": {
                    "team_handle": "acme",
                    "title": "Imported",
                    "vulnerability_information": "From the old tracker.",
                    "impact": "Low.",
                    "severity_rating": "low",
                    "source": "api",
                },
            }
        },
        auth=demo.auth,
        headers=RUBY_HEADERS,
    )

    for report in everything:
        assert not {"activities", "attachments", "swag", "summaries"} & set(
            report["relationships"]
        ), report["id"]
    assert created.status == 201, created.body
    assert created.json()["data"]["relationships"]["activities"] == {"data": []}
    detail = get(demo, f"/v1/reports/{everything[0]['id']}")["data"]["relationships"]
    assert {"activities", "attachments", "swag", "summaries"} <= set(detail)
    # Faithful types: the retesting reports carry the type h1 1.4.2 does not know.
    retesting = acme_reports(demo, "retesting")[0]["id"]
    kinds = {
        a["type"]
        for a in get(demo, f"/v1/reports/{retesting}")["data"]["relationships"]["activities"][
            "data"
        ]
    }
    assert "activity-bug-retesting" in kinds


# ---- rule 8 -------------------------------------------------------------------------------------


async def test_rule_8_write_bodies_in_the_flat_form_and_json_api_form(
    demo: Demo, engine: AsyncEngine
) -> None:
    report = acme_reports(demo, "triaged")[1]["id"]
    async with session_factory(engine)() as session:
        group = await session.scalar(select(Group).where(Group.name == "Standard"))
        member = await session.scalar(select(User).where(User.username == "bob"))
    assert group is not None
    assert member is not None

    def post(path: str, data: Json, method: str = "POST") -> RawResponse:
        return send_json(
            demo.server, method, f"/v1/reports/{report}/{path}", {"data": data}, auth=demo.auth
        )

    flat_bounty = post("bounties", {"message": "thx", "amount": 1330, "bonus_amount": 7})
    null_bonus = post("bounties", {"message": "thx", "amount": 100, "bonus_amount": None})
    json_api_bounty = post(
        "bounties", {"type": "bounty", "attributes": {"message": "m", "amount": 60}}
    )
    suggestion = post("bounty_suggestions", {"message": "m", "amount": 500, "bonus_amount": 50})
    swag = post("swags", {"message": "shirt"})
    to_user = post("assignee", {"type": "user", "id": str(member.id)}, "PUT")
    to_group = post("assignee", {"type": "group", "id": str(group.id)}, "PUT")
    to_nobody = post("assignee", {"type": "nobody"}, "PUT")

    assert flat_bounty.status == 201, flat_bounty.body
    assert flat_bounty.json()["data"]["attributes"]["amount"] == "1330.00"
    assert flat_bounty.json()["data"]["attributes"]["bonus_amount"] == "7.00"
    assert null_bonus.status == 201, null_bonus.body
    assert null_bonus.json()["data"]["attributes"]["bonus_amount"] == "0.00"
    assert json_api_bounty.status == 201, json_api_bounty.body
    assert suggestion.status == 201, suggestion.body
    assert swag.status == 201, swag.body
    assert to_user.status == to_group.status == to_nobody.status == 200
    assert "assignee" not in to_nobody.json()["data"]["relationships"]


# ---- rule 9 -------------------------------------------------------------------------------------


def test_rule_9_write_responses_carry_what_clients_dereference(demo: Demo) -> None:
    new, resolved = acme_reports(demo, "new")[1]["id"], acme_reports(demo, "resolved")[0]["id"]

    def write(method: str, report: str, path: str, data: Json) -> Json:
        response = send_json(
            demo.server,
            method,
            f"/v1/reports/{report}/{path}",
            {"data": data},
            auth=demo.auth,
            headers=RUBY_HEADERS,
        )
        assert response.status in (200, 201), (path, response.body)
        return response.json()

    reference = write(
        "POST",
        new,
        "issue_tracker_reference_id",
        {"type": "issue-tracker-reference-id", "attributes": {"reference": "JIRA-9"}},
    )
    triaged = write(
        "POST", new, "state_changes", {"type": "state-change", "attributes": {"state": "triaged"}}
    )
    unassigned = write("PUT", new, "assignee", {"type": "nobody"})
    comment = write(
        "POST",
        new,
        "activities",
        {"type": "activity-comment", "attributes": {"message": "hi", "internal": True}},
    )
    suggestion = write("POST", new, "bounty_suggestions", {"message": "m", "amount": 5})
    bounty = write("POST", resolved, "bounties", {"message": "m", "amount": 75})
    swag = write("POST", resolved, "swags", {"message": "m"})
    locked = write("PUT", resolved, "close_comments", {"type": "activity-comments-closed"})

    full = reference["relationships"]["report"]["data"]
    assert (full["id"], full["type"]) == (new, "report")
    assert full["attributes"]["issue_tracker_reference_id"] == "JIRA-9"
    assert "activities" in full["relationships"]
    for document in (triaged, unassigned):
        assert document["data"]["type"] == "report"
        assert document["data"]["attributes"]["state"] == "triaged"
        assert "activities" in document["data"]["relationships"]  # the full document
    assert comment["data"]["type"] == "activity-comment"
    assert comment["data"]["attributes"]["message"] == "hi"
    assert suggestion["data"]["type"] == "activity-bounty-suggested"
    assert suggestion["data"]["attributes"]["bounty_amount"] == "5"
    assert bounty["data"]["type"] == "bounty"
    assert bounty["data"]["attributes"]["awarded_currency"] == "USD"
    assert swag["data"]["type"] == "swag"
    assert swag["data"]["attributes"]["sent"] is False
    assert locked["data"]["type"] == "activity-comments-closed"


# ---- rule 10 ------------------------------------------------------------------------------------


def test_rule_10_errors_have_integer_statuses_and_a_missing_report_is_403(demo: Demo) -> None:
    missing = send(demo.server, "GET", "/v1/reports/404000", auth=demo.auth, headers=RUBY_HEADERS)
    bad_write = send_json(
        demo.server,
        "POST",
        "/v1/reports/4040000000000000/state_changes",
        {"data": {"type": "state-change", "attributes": {"state": "triaged", "message": "m"}}},
        auth=demo.auth,
    )
    bad_filter = send(
        demo.server, "GET", f"/v1/reports?{ACME}&filter%5Bid%5D%5B%5D=x", auth=demo.auth
    )
    unknown_path = send(demo.server, "GET", "/v1/no/such/thing", auth=demo.auth)
    unauthenticated = send(demo.server, "GET", "/v1/me/programs", auth=None)

    assert missing.status == 403
    assert missing.json() == {"errors": [{"status": 403}]}
    assert bad_write.status == 400
    assert bad_write.json()["errors"][0] == {
        "status": 400,
        "title": "Invalid Parameter",
        "detail": "The parameter 'report_id' is invalid.",
        "source": {"parameter": "report_id"},
    }
    assert bad_filter.status == 400
    assert bad_filter.json()["errors"][0]["source"] == {"parameter": "filter[id]"}
    for response in (missing, bad_write, bad_filter, unknown_path, unauthenticated):
        (error,) = response.json()["errors"]
        assert type(error["status"]) is int
        assert error["status"] == response.status
        assert 400 <= response.status < 500


# ---- rule 11 ------------------------------------------------------------------------------------


def ruby_traverse(demo: Demo, handle: str, first: int, cursor: str = "") -> list[Json]:
    """hackerone-client's `incremental_activities(...).traverse`: `first=N`, then
    `updated_at_after` = the previous page's `meta.max_updated_at`, until it is null."""
    seen: list[Json] = []
    for _ in range(200):
        document = get(
            demo,
            f"/v1/incremental/activities?first={first}&handle={handle}&updated_at_after"
            + (f"={cursor}" if cursor else ""),
            RUBY_HEADERS,
        )
        data = document["data"]
        if not data:
            assert document["meta"] == {"max_updated_at": None}
            return seen
        # A page holds `first` activities, and more only to finish its last millisecond.
        assert {a["attributes"]["updated_at"] for a in data[first - 1 :]} <= {
            data[-1]["attributes"]["updated_at"]
        }
        assert document["meta"]["max_updated_at"] == data[-1]["attributes"]["updated_at"]
        if cursor:
            assert all(a["attributes"]["updated_at"] > cursor for a in data)  # strictly after
        seen += data
        cursor = document["meta"]["max_updated_at"]
    raise AssertionError("the traversal never ended")


def all_activities(demo: Demo, handle: str) -> list[Json]:
    every: list[Json] = []
    target = f"/v1/incremental/activities?handle={handle}&page%5Bsize%5D=100"
    while target:
        document = get(demo, target)
        every += document["data"]
        target = document["links"].get("next", "").removeprefix(demo.server.base_url)
    return every


def test_rule_11_incremental_activities_cursor_and_null_max_updated_at(demo: Demo) -> None:
    # acme-vdp: no test of this module writes there before this one (the writes above share the
    # frozen instant, which the tie test below is about).
    every = all_activities(demo, "acme-vdp")
    stamps = [a["attributes"]["updated_at"] for a in every]

    seen = ruby_traverse(demo, "acme-vdp", 25)

    assert stamps == sorted(stamps)  # ascending by updated_at
    assert all(TIMESTAMP.match(s) for s in stamps)  # millisecond resolution
    assert [a["id"] for a in seen] == [a["id"] for a in every]


def comment(demo: Demo, report: str, message: str) -> None:
    response = send_json(
        demo.server,
        "POST",
        f"/v1/reports/{report}/activities",
        {
            "data": {
                "type": "activity-comment",
                "attributes": {"message": message, "internal": True},
            }
        },
        auth=demo.auth,
    )
    assert response.status == 201, response.body


def test_rule_11_activities_a_millisecond_apart_all_reach_the_ruby_loop(
    demo: Demo, module_clock: Clock
) -> None:
    report = get(demo, "/v1/reports?filter%5Bprogram%5D%5B%5D=acme-vdp")["data"][0]["id"]
    module_clock.advance(dt.timedelta(days=1))
    cursor = _ms(module_clock.now())
    for n in range(3):
        module_clock.advance(dt.timedelta(milliseconds=1))
        comment(demo, report, f"one millisecond later: {n}")

    seen = ruby_traverse(demo, "acme-vdp", 1, cursor)

    assert [a["attributes"]["message"] for a in seen] == [
        f"one millisecond later: {n}" for n in range(3)
    ]


def test_rule_11_activities_sharing_a_millisecond_all_reach_the_ruby_loop(
    demo: Demo, module_clock: Clock
) -> None:
    report = get(demo, "/v1/reports?filter%5Bprogram%5D%5B%5D=acme-vdp")["data"][1]["id"]
    module_clock.advance(dt.timedelta(days=1))
    cursor = _ms(module_clock.now())
    module_clock.advance(dt.timedelta(milliseconds=1))
    for n in range(3):
        comment(demo, report, f"the same millisecond: {n}")

    seen = ruby_traverse(demo, "acme-vdp", 2, cursor)

    assert sorted(a["attributes"]["message"] for a in seen) == [
        f"the same millisecond: {n}" for n in range(3)
    ]


def test_rule_11_a_cursor_past_the_end_answers_null(demo: Demo) -> None:
    newest = get(demo, "/v1/incremental/activities?handle=acme&order=desc&first=1")
    cursor = newest["data"][0]["attributes"]["updated_at"]

    document = get(
        demo, f"/v1/incremental/activities?first=25&handle=acme&updated_at_after={cursor}"
    )

    assert document["data"] == []
    assert document["meta"] == {"max_updated_at": None}
    assert json.dumps(document["meta"]) == '{"max_updated_at": null}'


@pytest.mark.parametrize("client", sorted(CLIENT_HEADERS))
def test_rule_2_every_clients_headers_are_served(demo: Demo, client: str) -> None:
    response = send(
        demo.server, "GET", f"/v1/reports?{ACME}", auth=demo.auth, headers=CLIENT_HEADERS[client]
    )

    assert response.status == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert len(response.json()["data"]) == 25
