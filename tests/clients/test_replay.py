"""The conformance checks of shared/api/clients.md §6 for the clients that cannot be installed here,
against a live server holding the demo dataset:

* the exact request lines the Go (hackeroni), Ruby (hackerone-client) and Node clients were seen
  sending (clients.md §2-4 (b)), replayed byte for byte: status class and envelope;
* every recorded cassette interaction (shared/fixtures, copied to tests/fixtures/recorded), replayed
  with the recorded ids mapped onto seeded ones and compared by structure with
  tests/test_golden.py's comparison (status class, envelope, keys, JSON value kinds, timestamps);
* every object bountybox returns, of every activity type it emits, run through the hydration of
  h1's models (h1 1.4.2); what h1 cannot hydrate is pinned as a known client limitation.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from h1.models import hydrate_object, list_model_types
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.engine import session_factory
from bountybox.db.models import CommonResponse, Group, Organization, Program, User
from bountybox.demo import demo_hacker_tokens
from bountybox.domains.hackers.service import allow_hackers, remove_hackers
from tests.builders import make_group, make_token
from tests.clients.conftest import NOW, Demo
from tests.clients.wire import (
    GO_HEADERS,
    NODE_HEADERS,
    RUBY_HEADERS,
    send,
    send_json,
)
from tests.test_golden import (
    CASSETTES,
    EMBEDDED_USER_PROFILE_KEYS,
    LIST_ITEM_EMBEDS,
    OMITTED_WHEN_ABSENT,
    PROGRAM_POLICY_EMBED,
    Interaction,
    cassette,
    shape_mismatches,
    wire_format_problems,
)

Json = Any
ACME = "filter%5Bprogram%5D%5B%5D=acme"
COMMENT = {"data": {"type": "activity-comment", "attributes": {"message": "m", "internal": True}}}


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def resources(value: Json) -> Iterator[dict[str, Any]]:
    """Every resource object (`type` and `attributes`) in a document, outermost first."""
    if isinstance(value, list):
        for item in value:
            yield from resources(item)
    elif isinstance(value, dict):
        if isinstance(value.get("type"), str) and isinstance(value.get("attributes"), dict):
            yield value
        for item in value.values():
            yield from resources(item)


@dataclass
class Seed:
    """The demo plus what the replays need: a token without permissions, the hackers' tokens, and
    acme's reports by state, handed out once each so replays never write to the same report."""

    demo: Demo
    reader: tuple[str, str]
    hackers: dict[str, tuple[str, str]]
    group_id: int
    member_id: int
    by_state: dict[str, list[str]]

    def take(self, state: str) -> str:
        """A report in that state for writes that change it; no one else gets it."""
        return self.by_state[state].pop(0)

    def shared(self, state: str) -> str:
        """A report in that state for writes that leave its state alone (never taken)."""
        return self.by_state[state][-1]

    def get(self, target: str, headers: dict[str, str] | None = None) -> Json:
        response = send(self.demo.server, "GET", target, auth=self.demo.auth, headers=headers)
        assert response.status == 200, (target, response.body)
        return response.json()


@pytest.fixture(scope="module")
async def seed(demo: Demo, engine: AsyncEngine, module_settings: Settings) -> Seed:
    async with session_factory(engine)() as session:
        acme = await session.get(Program, demo.programs["acme"])
        assert acme is not None
        organization = await session.get(Organization, acme.organization_id)
        assert organization is not None
        readers = await make_group(
            session, organization, name="Readers", permissions=[], programs=[acme]
        )
        reader = await make_token(session, organization, groups=[readers], name="reader")
        session.add(
            CommonResponse(
                program_id=acme.id,
                title="Duplicate",
                message="This was reported before.",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        hackers = {
            token.identifier: (token.identifier, token.value)
            for token in await demo_hacker_tokens(session, module_settings)
        }
        await session.commit()
        group = await session.scalar(select(Group.id).where(Group.name == "Standard"))
        member = await session.scalar(select(User.id).where(User.username == "bob"))
    assert group is not None
    assert member is not None
    listed = send(
        demo.server,
        "GET",
        "/v1/reports?filter%5Bprogram%5D%5B%5D=acme&page%5Bsize%5D=100",
        auth=demo.auth,
    ).json()["data"]
    by_state: dict[str, list[str]] = defaultdict(list)
    for report in sorted(listed, key=lambda r: int(r["id"])):
        by_state[report["attributes"]["state"]].append(report["id"])
    return Seed(
        demo=demo,
        reader=reader.auth,
        hackers=hackers,
        group_id=group,
        member_id=member,
        by_state=by_state,
    )


# ---- 1. every recorded cassette interaction ---------------------------------------------------

# Interactions that cannot be reproduced, and why.
NOT_REPLAYED = {
    ("server_error", 0): "a synthetic 500 body written by hand upstream (fixtures README)",
    ("server_error_when_assigning_report_to_user", 2): (
        "HackerOne failed (500) assigning user 160844; bountybox has no failure to reproduce and "
        "answers an unknown assignee with 400"
    ),
}

# The state of the seeded report standing in for report 200 in each cassette: the state the
# recorded report was in before the recorded requests.
REPORT_200 = {
    "add_comment": "triaged",
    "add_public_comment": "triaged",
    "add_report_reference": "triaged",
    "assign_report_to_group": "triaged",
    "assign_report_to_group_no_permission": "triaged",
    "assign_report_to_nobody": "triaged",
    "assign_report_to_nobody_no_permission": "triaged",
    "assign_report_to_user": "triaged",
    "assign_report_to_user_no_permission": "triaged",
    "award_a_bounty": "resolved",
    "award_swag": "resolved",
    "dup": "triaged",
    "lock_report": "triaged",
    "report": "resolved",
    "server_error_when_assigning_report_to_user": "triaged",
    "stage_change": "needs-more-info",
    "suggest_a_bounty": "triaged",
    "triage_and_hook_assign_report_to_user": "new",
    "update_severity": "triaged",
}

# Cassettes that move report 200 to another state: each gets a report of its own.
CHANGES_STATE = {"dup", "lock_report", "stage_change", "triage_and_hook_assign_report_to_user"}

# Ids and values of the recordings, mapped onto the demo's (see the fixtures README).
BEFORE_EVERY_REPORT, AFTER_EVERY_REPORT = "2025-01-01T00:00:00-10:00", "2027-01-01T00:00:00-10:00"
TARGET_REPLACEMENTS = {
    "report_list_before": {"2017-02-11T16:00:44-10:00": AFTER_EVERY_REPORT},
    "empty_report_list": {"2017-02-11T16:00:44-10:00": AFTER_EVERY_REPORT},
    "report_list": {"2017-02-11T16:00:44-10:00": BEFORE_EVERY_REPORT},
    "report_list_triaged": {"2017-02-11T16:00:44-10:00": BEFORE_EVERY_REPORT},
    # The recorded last pages asked past the newest activity.
    "traverse_through_3_activities": {"2017-12-05T16:16:27.757Z": "2099-01-01T00:00:00.000Z"},
    "traverse_through_all_activities": {"2017-12-05T16:16:27.757Z": "2099-01-01T00:00:00.000Z"},
}


# The 2020 recordings embed actors and swag recipients with their profile (signal, bio, ...), as
# they do reporters; bountybox embeds the five base user fields (tests/test_golden.py explains).
EMBEDDED_PEOPLE_PROFILE_KEYS = tuple(
    f"*.relationships.{relationship}.data.attributes.{key}"
    for relationship in ("actor", "user")
    for key in ("reputation", "signal", "impact", "bio", "website", "location", "hackerone_triager")
)


def every_interaction() -> list[tuple[str, int]]:
    return [
        (path.stem, index)
        for path in sorted(CASSETTES.glob("*.yml"))
        for index in range(len(cassette(path.stem)))
    ]


def test_the_cassettes_hold_the_62_recorded_interactions() -> None:
    # clients.md §3 (c) counts 64; its table repeats two rows, the files hold 62.
    interactions = every_interaction()

    assert len(interactions) == 62
    assert len({name for name, _ in interactions}) == 37
    assert set(NOT_REPLAYED) <= set(interactions)
    assert set(REPORT_200) <= {name for name, _ in interactions}
    for name in REPORT_200:
        assert any("/reports/200" in i.target for i in cassette(name)), name


def absent_to_one(document: Json) -> list[str]:
    """Globs for the to-one relationships our reports leave out because they are not set
    (clients.md §5 rule 6): the recording may have them, our seeded counterpart not."""
    reports = [r for r in resources(document) if r["type"] == "report"]
    return [
        f"*.relationships.{name}"
        for name in OMITTED_WHEN_ABSENT
        if reports and not any(name in (r.get("relationships") or {}) for r in reports)
    ]


def replay_cassette(seed: Seed, name: str) -> list[str]:
    """Replays one cassette in order and returns every structural difference."""
    demo = seed.demo
    report = None
    if name in REPORT_200:
        state = REPORT_200[name]
        report = seed.take(state) if name in CHANGES_STATE else seed.shared(state)
    original = seed.shared("triaged")
    swag = seed.get(f"/v1/programs/{demo.programs['acme']}/swag")["data"][0]["id"]
    targets = {
        "/programs/18969": f"/programs/{demo.programs['acme']}",
        "/swag/3377": f"/swag/{swag}",
        "handle=github": "handle=acme",
        "=github": "=acme",
        "/users/fransrosen": "/users/r3dfox",
        **({"/reports/200": f"/reports/{report}"} if report else {}),
        **TARGET_REPLACEMENTS.get(name, {}),
    }
    bodies = {
        '"147515"': f'"{seed.member_id}"',
        '"23578"': f'"{seed.group_id}"',
        '"302"': f'"{original}"',
        '"github"': '"acme"',
    }
    auth = seed.reader if name.endswith("_no_permission") else demo.auth
    problems: list[str] = []
    for index, interaction in enumerate(cassette(name)):
        if (name, index) in NOT_REPLAYED:
            continue
        problems += [
            f"{name}[{index}] {p}" for p in compare(seed, interaction, targets, bodies, auth)
        ]
    return problems


def compare(
    seed: Seed,
    interaction: Interaction,
    targets: dict[str, str],
    bodies: dict[str, str],
    auth: tuple[str, str],
) -> list[str]:
    target = interaction.target
    for old, new in targets.items():
        target = target.replace(old, new)
    body = interaction.request_body.decode()
    for old, new in bodies.items():
        body = body.replace(old, new)
    response = send(
        seed.demo.server,
        interaction.method,
        target,
        auth=auth,
        headers=interaction.request_headers,
        body=body.encode() if body else None,
    )
    where = f"{interaction.method} {target}"
    if status_class(response.status) != status_class(interaction.status):
        return [
            f"{where}: {response.status}, recorded {interaction.status}: {response.body[:300]!r}"
        ]
    if response.headers["content-type"] != interaction.response_headers["content-type"]:
        return [f"{where}: content-type {response.headers['content-type']}"]
    ours = response.json()
    recorded = interaction.body
    # The feed also carries the documented `links`; every recorded top-level key must be there.
    if isinstance(recorded, dict) and not set(recorded) <= set(ours):
        return [f"{where}: envelope {sorted(ours)}, recorded {sorted(recorded)}"]
    ignore = [
        *EMBEDDED_USER_PROFILE_KEYS,
        *EMBEDDED_PEOPLE_PROFILE_KEYS,
        PROGRAM_POLICY_EMBED,
        *absent_to_one(ours),
        *(LIST_ITEM_EMBEDS if isinstance(ours.get("data"), list) else ()),
    ]
    problems = shape_mismatches(ours, recorded, ignore=ignore)
    if response.status < 300:
        problems += wire_format_problems(ours)
    return [f"{where}: {p}" for p in problems]


def test_every_cassette_interaction_is_answered_with_the_recorded_structure(seed: Seed) -> None:
    problems: list[str] = []
    # The report lists compare seeded reports with the recorded ones: created reports (which have
    # no weakness, scope or CVSS severity) come after them, and this test before the others.
    names = sorted({name for name, _ in every_interaction()}, key=lambda n: ("create" in n, n))
    for name in names:
        problems += replay_cassette(seed, name)

    assert not problems, "\n".join(problems)


# ---- 2. the request lines the uninstallable clients were seen sending ---------------------------


@dataclass(frozen=True)
class Line:
    client: str
    method: str
    target: str
    envelope: set[str]  # the top-level keys of the answer
    body: Json = None
    status: str = "2xx"
    data: str = "object"  # "object" or "list"


def client_lines(seed: Seed) -> list[Line]:
    """clients.md §2 (b), §3 (b) and §4 (b), with acme's ids in place of the recorded ones."""
    program = seed.demo.programs["acme"]
    triaged, new = seed.take("triaged"), seed.take("new")
    resolved, needs_info = seed.take("resolved"), seed.take("needs-more-info")
    swag = seed.get(f"/v1/programs/{program}/swag")["data"][0]["id"]
    go_times = "&".join(
        f"filter%5B{name}__{op}%5D=2024-01-02T00%3A00%3A00Z"
        for name in (
            "bounty_awarded_at",
            "closed_at",
            "created_at",
            "disclosed_at",
            "first_program_activity_at",
            "last_activity_at",
            "last_program_activity_at",
            "last_reporter_activity_at",
            "swag_at",
            "triaged_at",
        )
        for op in ("gt", "lt")
    )
    go_nulls = "&".join(
        f"filter%5B{name}__null%5D=true"
        for name in (
            "bounty_awarded_at",
            "closed_at",
            "disclosed_at",
            "first_program_activity_at",
            "last_reporter_activity_at",
            "swag_at",
            "triaged_at",
        )
    )
    lists = {"data", "links"}
    one = {"data"}
    return [
        # hackeroni (Go): sorted keys, everything percent-encoded, no Accept header.
        Line(
            "go",
            "GET",
            "/v1/reports?filter%5Bcreated_at__gt%5D=2024-01-02T00%3A00%3A00Z"
            "&filter%5Bprogram%5D%5B%5D=acme&filter%5Bstate%5D%5B%5D=new"
            "&filter%5Bstate%5D%5B%5D=triaged&filter%5Btriaged_at__null%5D=true"
            "&page%5Bsize%5D=100&sort=reports.created_at",
            lists,
            data="list",
        ),
        Line(
            "go",
            "GET",
            f"/v1/reports?filter%5Bid%5D%5B%5D={triaged}&filter%5Bid%5D%5B%5D={new}"
            "&filter%5Bprogram%5D%5B%5D=acme",
            lists,
            data="list",
        ),
        Line(
            "go",
            "GET",
            "/v1/reports?filter%5Bprogram%5D%5B%5D=acme&page%5Bnumber%5D=2",
            lists,
            data="list",
        ),
        Line(
            "go",
            "GET",
            f"/v1/reports?{go_times}&filter%5Bprogram%5D%5B%5D=acme",
            lists,
            data="list",
        ),
        Line(
            "go",
            "GET",
            f"/v1/reports?{go_nulls}&filter%5Bprogram%5D%5B%5D=acme",
            lists,
            data="list",
        ),
        Line("go", "GET", f"/v1/reports/{triaged}", one),
        Line("go", "GET", f"/v1/programs/{program}", one),
        # hackerone-client (Ruby): Faraday's sorted keys, `+00:00` offsets, JSON on GETs too.
        Line(
            "ruby",
            "GET",
            "/v1/reports?filter%5Bcreated_at__gt%5D=2000-01-01T00%3A00%3A00%2B00%3A00"
            "&filter%5Bprogram%5D%5B%5D=acme&filter%5Bstate%5D%5B%5D=new",
            lists,
            data="list",
        ),
        Line(
            "ruby",
            "GET",
            "/v1/reports?filter%5Bcreated_at__lt%5D=2099-01-01T00%3A00%3A00%2B00%3A00"
            "&filter%5Bprogram%5D%5B%5D=acme&filter%5Bstate%5D%5B%5D=triaged",
            lists,
            data="list",
        ),
        Line(
            "ruby",
            "POST",
            "/v1/reports",
            one,
            {
                "data": {
                    "type": "report",
                    "attributes": {
                        "team_handle": "acme",
                        "title": "Imported",
                        "vulnerability_information": "summary",
                        "impact": "impact",
                        "severity_rating": "high",
                        "source": "api",
                    },
                }
            },
        ),
        Line("ruby", "GET", f"/v1/reports/{triaged}", one),
        Line("ruby", "GET", "/v1/me/programs", lists, data="list"),
        Line("ruby", "GET", f"/v1/programs/{program}", one),
        Line("ruby", "GET", f"/v1/programs/{program}/reporters", lists, data="list"),
        Line(
            "ruby",
            "POST",
            f"/v1/reports/{triaged}/activities",
            one,
            {
                "data": {
                    "type": "activity-comment",
                    "attributes": {"message": "m", "internal": True},
                }
            },
        ),
        Line(
            "ruby",
            "POST",
            f"/v1/reports/{new}/issue_tracker_reference_id",
            {"relationships"},
            {"data": {"type": "issue-tracker-reference-id", "attributes": {"reference": "JIRA-1"}}},
        ),
        Line(
            "ruby",
            "POST",
            f"/v1/reports/{new}/state_changes",
            one,
            {"data": {"type": "state-change", "attributes": {"state": "triaged", "message": ""}}},
        ),
        Line(
            "ruby",
            "POST",
            f"/v1/reports/{needs_info}/state_changes",
            one,
            {
                "data": {
                    "type": "state-change",
                    "attributes": {
                        "original_report_id": triaged,
                        "state": "duplicate",
                        "message": "totally a dup",
                    },
                }
            },
        ),
        Line(
            "ruby",
            "POST",
            f"/v1/reports/{triaged}/severities",
            one,
            {"data": {"type": "severity", "attributes": {"rating": "critical"}}},
        ),
        Line(
            "ruby",
            "POST",
            f"/v1/reports/{triaged}/bounty_suggestions",
            one,
            {"data": {"message": "m", "amount": 500, "bonus_amount": 50}},
        ),
        Line(
            "ruby",
            "POST",
            f"/v1/reports/{triaged}/bounty_suggestions",
            one,
            {"data": {"message": "m", "amount": 500, "bonus_amount": None}},
        ),
        Line(
            "ruby",
            "POST",
            f"/v1/reports/{triaged}/bounties",
            one,
            {"data": {"message": "thx", "amount": 1330, "bonus_amount": 7}},
        ),
        Line("ruby", "POST", f"/v1/reports/{triaged}/swags", one, {"data": {"message": "shirt"}}),
        Line(
            "ruby",
            "PUT",
            f"/v1/reports/{triaged}/assignee",
            one,
            {"data": {"type": "user", "id": str(seed.member_id)}},
        ),
        Line(
            "ruby",
            "PUT",
            f"/v1/reports/{triaged}/assignee",
            one,
            {"data": {"type": "group", "id": str(seed.group_id)}},
        ),
        Line(
            "ruby",
            "PUT",
            f"/v1/reports/{triaged}/assignee",
            one,
            {"data": {"type": "nobody"}},
        ),
        Line(
            "ruby",
            "PUT",
            f"/v1/reports/{resolved}/close_comments",
            one,
            {"data": {"type": "activity-comments-closed"}},
        ),
        Line(
            "ruby",
            "GET",
            f"/v1/programs/{program}/common_responses?page%5Bnumber%5D=1&page%5Bsize%5D=100",
            lists,
            data="list",
        ),
        Line(
            "ruby",
            "PUT",
            f"/v1/programs/{program}/policy",
            one,
            {"data": {"type": "program-policy", "attributes": {"policy": "Be kind."}}},
        ),
        Line("ruby", "GET", f"/v1/programs/{program}/billing/balance", one),
        Line(
            "ruby",
            "GET",
            f"/v1/programs/{program}/swag?page%5Bnumber%5D=1&page%5Bsize%5D=100",
            lists,
            data="list",
        ),
        Line(
            "ruby",
            "PUT",
            f"/v1/programs/{program}/swag/{swag}",
            {"id", "type", "attributes", "relationships"},  # unwrapped, as recorded
            {"data": {"type": "swag", "attributes": {"sent": True}}},
        ),
        Line("ruby", "GET", "/v1/users/r3dfox", one),
        Line(
            "ruby",
            "GET",
            "/v1/incremental/activities?first=25&handle=acme&updated_at_after",
            {"data", "links", "meta"},
            data="list",
        ),
        # The Node client: raw brackets and values, no User-Agent, no Accept.
        Line("node", "GET", "/v1/me/programs", lists, data="list"),
        Line("node", "GET", f"/v1/programs/{program}/swag", lists, data="list"),
        Line("node", "GET", f"/v1/reports/{triaged}", one),
        Line(
            "node",
            "GET",
            "/v1/reports?filter[program][]=acme&filter[state][]=new"
            "&filter[created_at__gt]=2024-01-02T00:00:00Z&page[size]=1",
            lists,
            data="list",
        ),
    ]


HEADERS = {"go": GO_HEADERS, "ruby": RUBY_HEADERS, "node": NODE_HEADERS}


def test_the_go_ruby_and_node_request_lines_are_answered_with_their_envelopes(seed: Seed) -> None:
    problems = []
    for line in client_lines(seed):
        body = json.dumps(line.body).encode() if line.body is not None else None
        headers = dict(HEADERS[line.client])
        if body is not None:
            headers["Content-Type"] = "application/json"
        response = send(
            seed.demo.server,
            line.method,
            line.target,
            auth=seed.demo.auth,
            headers=headers,
            body=body,
        )
        where = f"{line.client} {line.method} {line.target}"
        if status_class(response.status) != line.status:
            problems.append(f"{where}: {response.status} {response.body[:200]!r}")
            continue
        document = response.json()
        if set(document) != line.envelope:
            problems.append(f"{where}: envelope {sorted(document)}")
        if "data" in line.envelope:
            is_list = isinstance(document["data"], list)
            if is_list != (line.data == "list"):
                problems.append(f"{where}: data is {'a list' if is_list else 'an object'}")
        problems += [f"{where}: {p}" for p in wire_format_problems(document)]
    assert not problems, "\n".join(problems)


def test_node_pages_through_links_next_verbatim(seed: Seed) -> None:
    """queryReports: page[size]=1 and raw brackets, then `links.next` exactly as sent, until
    `links.next` is undefined (a null or relative one would break it)."""
    target = (
        "/v1/reports?filter[program][]=acme&filter[state][]=triaged"
        "&filter[created_at__gt]=2024-01-02T00:00:00Z&page[size]=1"
    )
    pages: list[list[Json]] = []
    while True:
        response = send(seed.demo.server, "GET", target, auth=seed.demo.auth, headers=NODE_HEADERS)
        assert response.status == 200
        document = response.json()
        pages.append(document["data"])
        links = document["links"]
        if "next" not in links:
            break
        assert links["next"].startswith(f"{seed.demo.server.base_url}/v1/reports?")
        target = links["next"].removeprefix(seed.demo.server.base_url)
        assert len(pages) < 50
    triaged = seed.get(
        "/v1/reports?filter%5Bprogram%5D%5B%5D=acme&filter%5Bstate%5D%5B%5D=triaged"
        "&page%5Bsize%5D=100"
    )["data"]
    assert [len(page) for page in pages] == [1] * len(triaged)
    assert [page[0]["id"] for page in pages] == [r["id"] for r in triaged]


def test_limitation_node_verify_access_looks_up_the_token_identifier_as_a_user(
    seed: Seed,
) -> None:
    """The Node client's verifyAccess() reads /v1/users/<token identifier>. A token identifier
    names an API user, which /users/{username} does not look up (as on HackerOne, where it is no
    username at all): the call answers 404, so verifyAccess() rejects; the client's other calls
    work."""
    response = send(
        seed.demo.server,
        "GET",
        f"/v1/users/{seed.demo.auth[0]}",
        auth=seed.demo.auth,
        headers=NODE_HEADERS,
    )

    assert response.status == 404
    assert response.json()["errors"][0]["status"] == 404


# ---- 3. every object through h1's model hydration -----------------------------------------------

# What h1 1.4.2 has no model for, among what bountybox's customer API returns. The activity types
# are the known client limitation (docs/compatibility.md); the other objects are ones h1 never
# meets through its Report model (it does not read `severity`, `weakness`, ... relationships).
H1_UNKNOWN_ACTIVITY_TYPES = {
    "activity-bug-filed",
    "activity-bug-pending-program-review",
    "activity-bug-retesting",
    "activity-cancelled-disclosure-request",
    "activity-changed-scope",
    "activity-cve-id-added",
    "activity-nobody-assigned-to-bug",
    "activity-program-hacker-joined",
    "activity-program-hacker-left",
    "activity-reassigned-to-team",
    "activity-report-custom-field-value-updated",
    "activity-report-retest-approved",
    "activity-report-retest-rejected",
    "activity-report-vulnerability-information-updated",
}
H1_UNKNOWN_OBJECT_TYPES = {
    "allowed_reporter",
    "common-response",
    "custom-field-attribute",
    "custom-field-value",
    "inbox",
    "member",
    "organization",
    "organization-member",
    "organization-member-group",
    "program-balance",
    "report-participant",
    "severity",
    "structured-scope",
    "weakness",
}

# Every activity type a bountybox service records (the ones the services name, and the state
# machine's); test_the_emitted_activity_types_are_the_ones_the_services_name keeps it current.
SOURCES = Path(__file__).resolve().parents[2] / "src" / "bountybox"
EMITTED_ACTIVITY_TYPES = {
    "activity-agreed-on-going-public",
    "activity-bounty-awarded",
    "activity-bounty-suggested",
    "activity-bug-duplicate",
    "activity-bug-filed",
    "activity-bug-informative",
    "activity-bug-needs-more-info",
    "activity-bug-new",
    "activity-bug-not-applicable",
    "activity-bug-pending-program-review",
    "activity-bug-reopened",
    "activity-bug-resolved",
    "activity-bug-retesting",
    "activity-bug-spam",
    "activity-bug-triaged",
    "activity-cancelled-disclosure-request",
    "activity-changed-scope",
    "activity-comment",
    "activity-comments-closed",
    "activity-cve-id-added",
    "activity-external-user-invited",
    "activity-group-assigned-to-bug",
    "activity-nobody-assigned-to-bug",
    "activity-not-eligible-for-bounty",
    "activity-program-hacker-joined",
    "activity-program-hacker-left",
    "activity-reassigned-to-team",
    "activity-reference-id-added",
    "activity-report-became-public",
    "activity-report-custom-field-value-updated",
    "activity-report-retest-approved",
    "activity-report-retest-rejected",
    "activity-report-severity-updated",
    "activity-report-title-updated",
    "activity-report-vulnerability-information-updated",
    "activity-report-vulnerability-types-updated",
    "activity-swag-awarded",
    "activity-user-assigned-to-bug",
}


def test_the_emitted_activity_types_are_the_ones_the_services_name() -> None:
    named: set[str] = set()
    for path in [
        *SOURCES.glob("domains/*/service.py"),
        SOURCES / "domains" / "reports" / "states.py",
    ]:
        named |= set(re.findall(r'"(activity-[a-z0-9-]+)"', path.read_text()))

    assert named == EMITTED_ACTIVITY_TYPES


def drive_every_activity_type(seed: Seed, clock: Clock) -> list[Json]:
    """Writes through the API that record each activity type bountybox emits and the demo lacks,
    one millisecond apart; returns the write answers."""
    demo = seed.demo
    acme, vdp = demo.programs["acme"], demo.programs["acme-vdp"]
    program = seed.get(f"/v1/programs/{acme}")["data"]
    weakness = seed.get(f"/v1/programs/{acme}/weaknesses")["data"][-1]["id"]
    scope = seed.get(f"/v1/programs/{acme}/structured_scopes")["data"][-1]["id"]
    field = program["relationships"]["custom_field_attributes"]["data"][0]["id"]
    answers: list[Json] = []

    def write(method: str, target: str, data: Json, auth: tuple[str, str] | None = None) -> None:
        clock.advance(dt.timedelta(milliseconds=1))
        response = send_json(demo.server, method, target, {"data": data}, auth=auth or demo.auth)
        assert response.status in (200, 201), (target, response.body)
        answers.append(response.json())

    def state(report: str, to: str, **extra: Any) -> None:
        attributes = {"state": to, "message": f"now {to}", **extra}
        write(
            "POST",
            f"/v1/reports/{report}/state_changes",
            {"type": "state-change", "attributes": attributes},
        )

    triaged = seed.take("triaged")
    write(
        "POST",
        "/v1/hackers/reports",
        {
            "type": "report",
            "attributes": {
                "team_handle": "acme",
                "title": "Filed by a hacker",
                "vulnerability_information": "Steps.",
                "impact": "Some.",
                "severity_rating": "low",
            },
        },
        seed.hackers["r3dfox"],
    )
    state(seed.take("needs-more-info"), "new")
    state(seed.take("informative"), "triaged")  # reopened
    write("PUT", f"/v1/reports/{triaged}/assignee", {"type": "nobody"})
    write(
        "PUT",
        f"/v1/reports/{triaged}/weakness",
        {"type": "report-weakness", "attributes": {"weakness_id": int(weakness)}},
    )
    write(
        "PUT",
        f"/v1/reports/{triaged}/structured_scope",
        {"type": "report-structured-scope", "attributes": {"structured_scope_id": int(scope)}},
    )
    write(
        "PUT",
        f"/v1/reports/{triaged}/title",
        {"type": "report-title", "attributes": {"title": "Retitled"}},
    )
    write(
        "PUT",
        f"/v1/reports/{triaged}/vulnerability_information",
        {
            "type": "report-vulnerability-information",
            "attributes": {"vulnerability_information": "Rewritten."},
        },
    )
    write(
        "PUT",
        f"/v1/reports/{triaged}/cves",
        {"type": "report-cves", "attributes": {"cve_ids": ["CVE-2026-12345"]}},
    )
    for value in ("", "Infrastructure"):  # one of the two changes the value, whatever it was
        write(
            "POST",
            f"/v1/reports/{triaged}/custom_field_values",
            {"attributes": {"custom_field_attribute_id": int(field), "value": value}},
        )
    write(
        "POST",
        f"/v1/reports/{triaged}/participants",
        {"type": "report-participant", "attributes": {"email": "guest@example.test"}},
    )
    write(
        "PUT",
        f"/v1/reports/{triaged}/ineligible_for_bounty",
        {"type": "report-ineligible-for-bounty"},
    )
    write(
        "POST",
        f"/v1/reports/{triaged}/summaries",
        {"type": "report-summary", "attributes": {"content": "Summary."}},
    )
    write(
        "POST",
        f"/v1/reports/{triaged}/severities",
        {"type": "severity", "attributes": {"rating": "low"}},
    )
    write("POST", f"/v1/reports/{triaged}/bounty_suggestions", {"message": "m", "amount": 100})
    write(
        "POST",
        f"/v1/reports/{triaged}/issue_tracker_reference_id",
        {"type": "issue-tracker-reference-id", "attributes": {"reference": "SEC-2"}},
    )
    write(
        "PUT",
        f"/v1/reports/{seed.take('not-applicable')}/close_comments",
        {"type": "activity-comments-closed"},
    )
    write(
        "PUT",
        f"/v1/reports/{seed.take('triaged')}/transfer",
        {"type": "report-transfer", "attributes": {"target_team_id": vdp}},
    )
    disclosed = seed.take("spam")
    write(
        "POST",
        f"/v1/reports/{disclosed}/disclosure_requests",
        {"attributes": {"substate": "full", "message": "m"}},
    )
    write(
        "DELETE", f"/v1/reports/{disclosed}/disclosure_requests", {"attributes": {"message": "no"}}
    )
    approved, rejected = seed.take("resolved"), seed.take("resolved")
    write(
        "POST",
        f"/v1/reports/{approved}/retests",
        {"type": "retest", "attributes": {"message": "again"}},
    )
    write(
        "POST",
        f"/v1/reports/{approved}/retests/approve",
        {"type": "retest", "attributes": {"message": "ok"}},
    )
    write(
        "POST",
        f"/v1/reports/{rejected}/retests",
        {"type": "retest", "attributes": {"message": "again"}},
    )
    write(
        "POST",
        f"/v1/reports/{rejected}/retests/reject",
        {"type": "retest", "attributes": {"message": "no"}},
    )
    return answers


def customer_documents(seed: Seed) -> list[Json]:
    """Every kind of document the customer API returns about the demo, and one GET
    /activities/{id} per activity type."""
    demo = seed.demo
    documents: list[Json] = []
    for handle in ("acme", "acme-vdp"):
        program = demo.programs[handle]
        target = f"/v1/reports?filter%5Bprogram%5D%5B%5D={handle}&page%5Bsize%5D=100"
        listed = seed.get(target)
        documents.append(listed)
        documents += [seed.get(f"/v1/reports/{r['id']}") for r in listed["data"]]
        feed_target = f"/v1/incremental/activities?handle={handle}&page%5Bsize%5D=100"
        while feed_target:
            page = seed.get(feed_target)
            documents.append(page)
            feed_target = page["links"].get("next", "").removeprefix(demo.server.base_url)
        for path in (
            "",
            "/reporters",
            "/swag",
            "/weaknesses",
            "/structured_scopes",
            "/common_responses",
            "/billing/balance",
            "/members",
            "/allowed_reporters",
        ):
            documents.append(seed.get(f"/v1/programs/{program}{path}"))
    documents += [seed.get("/v1/me/programs"), seed.get("/v1/users/r3dfox")]
    first_of_type: dict[str, str] = {}
    for document in documents:
        for item in resources(document):
            if item["type"].startswith("activity-"):
                first_of_type.setdefault(item["type"], item["id"])
    documents += [seed.get(f"/v1/activities/{i}") for i in first_of_type.values()]
    return documents


def hydration_failures(documents: list[Json]) -> tuple[dict[str, set[str]], set[str]]:
    """Runs every resource object through h1's hydrate_object: the errors by type, and the types
    that hydrated at least once."""
    failures: dict[str, set[str]] = defaultdict(set)
    hydrated: set[str] = set()
    for document in documents:
        for item in resources(document):
            try:
                hydrate_object(json.loads(json.dumps(item)))
            except Exception as error:
                failures[item["type"]].add(f"{type(error).__name__}: {error}")
            else:
                hydrated.add(item["type"])
    return failures, hydrated


async def test_every_object_hydrates_into_h1_models_but_the_types_h1_lacks(
    seed: Seed, engine: AsyncEngine, module_clock: Clock
) -> None:
    async with session_factory(engine)() as session:
        vdp = await session.get(Program, seed.demo.programs["acme-vdp"])
        assert vdp is not None
        # A hacker joins and leaves the private program (operator commands; no API does it).
        await allow_hackers(session=session, clock=module_clock, program=vdp, usernames=["owlsec"])
        module_clock.advance(dt.timedelta(milliseconds=1))
        await remove_hackers(session=session, clock=module_clock, program=vdp, usernames=["owlsec"])
        vdp.parent_program_id = seed.demo.programs["acme"]  # so reports can be transferred to it
        await session.commit()
    written = drive_every_activity_type(seed, module_clock)

    failures, hydrated = hydration_failures([*written, *customer_documents(seed)])

    known = set(list_model_types())
    emitted = set(failures) | hydrated
    emitted_activities = {t for t in emitted if t.startswith("activity-")}
    # Every type bountybox emits (src/bountybox/domains/*/service.py) was met.
    assert emitted_activities >= EMITTED_ACTIVITY_TYPES, EMITTED_ACTIVITY_TYPES - emitted
    # What h1 has a model for hydrates, except when a nested object has a type h1 lacks or an
    # amount carries a thousands separator (both known limitations).
    unexplained = {
        kind: {
            error
            for error in errors
            if not re.fullmatch(r"Exception: Can't hydrate a (activity-[a-z-]+)!", error)
            and "InvalidOperation" not in error
        }
        for kind, errors in failures.items()
        if kind in known
    }
    assert not any(unexplained.values()), unexplained
    assert known & emitted <= hydrated
    # What h1 lacks fails, and is exactly the documented list.
    for kind in emitted - known:
        assert failures[kind] == {f"Exception: Can't hydrate a {kind}!"}, kind
    assert emitted_activities - known == H1_UNKNOWN_ACTIVITY_TYPES
    assert emitted - known - emitted_activities == H1_UNKNOWN_OBJECT_TYPES
