"""docs/compatibility.md's tables of catalogue operations, extensions and webhook events match what
bountybox registers, so the tables cannot go stale."""

from __future__ import annotations

import re
from pathlib import Path

from bountybox.api import all_endpoints
from bountybox.domains.webhooks.schemas import ACTIVITY_EVENTS, WebhookEvent
from tests.clients.test_replay import EMITTED_ACTIVITY_TYPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
OPERATION = re.compile(
    r"^\| (?P<group>[^|]+) \| `(?P<method>[A-Z]+) (?P<path>/v1/[^`]*)` \| (?P<status>[^|]+) \|"
)
EXTENSION = re.compile(r"^\| `(?P<method>[A-Z]+) (?P<path>/v1/[^`]*)` \| ")
EVENT = re.compile(
    r"^\| `(?P<event>[a-z_]+)` \| `(?P<activity>activity-[a-z-]+)` \| (?P<status>[^|]+) \|"
)


def shape(path: str) -> str:
    """A path with its parameters unnamed: `{id}` and `{report_id}` route alike."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def section(title: str) -> list[str]:
    text = DOC.read_text()
    start = text.index(f"\n### {title}\n")
    end = text.find("\n## ", start + 1)
    following = text.find("\n### ", start + 1)
    stops = [i for i in (end, following) if i != -1]
    return text[start : min(stops) if stops else len(text)].splitlines()


def registered() -> set[tuple[str, str]]:
    return {(e.method, shape(e.path)) for e in all_endpoints()}


def test_every_catalogue_operation_is_listed_once_with_its_true_status() -> None:
    rows = [m for line in section("Catalogue operations") if (m := OPERATION.match(line))]
    routes = registered()

    operations = [(m["method"], shape(m["path"])) for m in rows]
    assert len(operations) == len(set(operations)) == 152 + 21
    assert sum(m["group"] == "Hacker API" for m in rows) == 21
    wrong = [
        f"{m['method']} {m['path']}: {m['status']}"
        for m in rows
        if (m["status"] == "implemented") != ((m["method"], shape(m["path"])) in routes)
    ]
    assert not wrong, "\n".join(wrong)
    assert {m["status"] for m in rows} == {"implemented", "not implemented"}


def test_every_registered_route_is_a_catalogue_operation_or_a_listed_extension() -> None:
    listed = {
        (m["method"], shape(m["path"]))
        for line in section("Catalogue operations") + section("bountybox extensions")
        if (m := OPERATION.match(line) or EXTENSION.match(line))
    }
    extensions = [m for line in section("bountybox extensions") if (m := EXTENSION.match(line))]

    assert registered() <= listed, registered() - listed
    assert {(m["method"], shape(m["path"])) for m in extensions} <= registered()


def test_every_webhook_event_is_listed_with_whether_it_is_sent() -> None:
    rows = [m for line in section("Webhook events") if (m := EVENT.match(line))]
    activities = {event: activity for activity, event in ACTIVITY_EVENTS.items()}

    assert [m["event"] for m in rows] == [e.value for e in WebhookEvent]
    for m in rows:
        event = WebhookEvent(m["event"])
        assert m["activity"] == activities[event]
        sent = m["activity"] in EMITTED_ACTIVITY_TYPES or event is WebhookEvent.REPORT_CREATED
        assert m["status"].startswith("sent") == sent, m["event"]
