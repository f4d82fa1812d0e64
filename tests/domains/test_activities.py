from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core import pagination
from tests.builders import (
    T0,
    make_activity,
    make_org,
    make_program,
    make_report,
    make_token,
    make_user,
)


@pytest.fixture
async def feed(session: AsyncSession) -> dict[str, Any]:
    org = await make_org(session)
    program = await make_program(session, org, handle="feedprog")
    hacker = await make_user(session)
    r1 = await make_report(session, program, reporter=hacker)
    r2 = await make_report(session, program, reporter=hacker)
    acts = [
        await make_activity(session, r1, at=T0 + dt.timedelta(minutes=3), actor=hacker),
        await make_activity(
            session, r2, at=T0 + dt.timedelta(minutes=1), actor=hacker, internal=True
        ),
        await make_activity(
            session, r1, at=T0 + dt.timedelta(minutes=2), type="activity-bug-triaged"
        ),
    ]
    foreign = await make_program(session, await make_org(session), handle="elsewhere")
    foreign_report = await make_report(session, foreign, reporter=hacker)
    foreign_activity = await make_activity(session, foreign_report, at=T0)
    return {
        "token": await make_token(session, org),
        "r1": r1,
        "r2": r2,
        "acts": acts,
        "foreign_activity": foreign_activity,
    }


async def get_feed(client: httpx.AsyncClient, feed: dict[str, Any], query: str) -> httpx.Response:
    return await client.get(f"/v1/incremental/activities?{query}", auth=feed["token"].auth)


async def test_feed_is_in_update_order_with_report_ids_as_strings(
    client: httpx.AsyncClient, feed: dict[str, Any]
) -> None:
    body = (await get_feed(client, feed, "handle=feedprog")).json()
    acts = feed["acts"]
    assert [a["id"] for a in body["data"]] == [str(acts[1].id), str(acts[2].id), str(acts[0].id)]
    assert body["data"][0]["attributes"]["report_id"] == str(feed["r2"].id)
    assert body["meta"] == {"max_updated_at": "2026-01-01T12:03:00.000Z"}
    assert body["links"] == {}
    assert body["data"][1]["relationships"]["actor"] == {"data": None}


async def test_updated_at_after_is_strict_and_an_empty_page_has_null_max(
    client: httpx.AsyncClient, feed: dict[str, Any]
) -> None:
    after = (
        await get_feed(client, feed, "handle=feedprog&updated_at_after=2026-01-01T12:02:00.000Z")
    ).json()
    assert [a["id"] for a in after["data"]] == [str(feed["acts"][0].id)]
    empty = (
        await get_feed(client, feed, "handle=feedprog&updated_at_after=2026-01-01T12:03:00%2B00:00")
    ).json()
    assert empty == {"data": [], "links": {}, "meta": {"max_updated_at": None}}
    bare = (await get_feed(client, feed, "first=25&handle=feedprog&updated_at_after")).json()
    assert len(bare["data"]) == 3


async def test_first_pages_the_feed_like_page_size(
    client: httpx.AsyncClient, feed: dict[str, Any]
) -> None:
    body = (await get_feed(client, feed, "first=2&handle=feedprog")).json()
    assert len(body["data"]) == 2
    assert body["meta"]["max_updated_at"] == "2026-01-01T12:02:00.000Z"
    assert "first=2" in body["links"]["next"]
    nxt = (await client.get(body["links"]["next"], auth=feed["token"].auth)).json()
    assert [a["id"] for a in nxt["data"]] == [str(feed["acts"][0].id)]


async def test_a_long_feed_counts_only_so_far_past_the_page_and_then_links_no_last(
    client: httpx.AsyncClient, feed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync follows `next`: the count stops FEED_COUNT_CAP rows past the page, so an early page
    of a feed of millions costs what the last one does, and `last` appears once it is known."""
    monkeypatch.setattr(pagination, "FEED_COUNT_CAP", 1)
    acts = feed["acts"]
    first = (await get_feed(client, feed, "handle=feedprog&page[size]=1")).json()
    assert [a["id"] for a in first["data"]] == [str(acts[1].id)]
    assert set(first["links"]) == {"self", "first", "next"}
    second = (await client.get(first["links"]["next"], auth=feed["token"].auth)).json()
    assert [a["id"] for a in second["data"]] == [str(acts[2].id)]
    assert set(second["links"]) == {"self", "first", "prev", "next", "last"}
    assert "page%5Bnumber%5D=3" in second["links"]["last"]
    third = (await client.get(second["links"]["next"], auth=feed["token"].auth)).json()
    assert [a["id"] for a in third["data"]] == [str(acts[0].id)]
    assert set(third["links"]) == {"self", "first", "prev", "last"}


async def test_feed_filters_by_report_and_sorts_descending(
    client: httpx.AsyncClient, feed: dict[str, Any]
) -> None:
    by_report = (await get_feed(client, feed, f"handle=feedprog&report_id={feed['r1'].id}")).json()
    assert {a["attributes"]["report_id"] for a in by_report["data"]} == {str(feed["r1"].id)}
    desc = (await get_feed(client, feed, "handle=feedprog&sort=created_at&order=desc")).json()
    assert [a["id"] for a in desc["data"]] == [
        str(a.id) for a in (feed["acts"][0], feed["acts"][2], feed["acts"][1])
    ]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 400),
        ("handle=", 400),
        ("handle=elsewhere", 403),
        ("handle=nope", 403),
        ("handle=feedprog&order=sideways", 400),
        ("handle=feedprog&sort=title", 400),
        ("handle=feedprog&updated_at_after=soon", 400),
        ("handle=feedprog&report_id=x", 400),
        ("handle=feedprog&page[size]=101", 400),
    ],
)
async def test_bad_feed_requests_are_refused(
    client: httpx.AsyncClient, feed: dict[str, Any], query: str, status: int
) -> None:
    response = await get_feed(client, feed, query)
    assert response.status_code == status
    assert response.json()["errors"][0]["status"] == status


async def test_activity_of_another_organization_is_forbidden(
    client: httpx.AsyncClient, feed: dict[str, Any]
) -> None:
    response = await client.get(
        f"/v1/activities/{feed['foreign_activity'].id}", auth=feed["token"].auth
    )
    assert response.status_code == 403
    assert response.json() == {"errors": [{"status": 403}]}
    own = await client.get(f"/v1/activities/{feed['acts'][0].id}", auth=feed["token"].auth)
    assert own.status_code == 200
    assert own.json()["data"]["type"] == "activity-comment"
    assert "report_id" not in own.json()["data"]["attributes"]
