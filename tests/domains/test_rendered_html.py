"""Report texts and activity messages keep their HTML beside them (migration 0009): rendered when
the ORM writes the text, sent as stored, and rendered on read for rows written before."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.core.markdown import render_markdown
from bountybox.db.models import Activity, Report
from tests.builders import make_org, make_program, make_report, make_token, make_user

TEXT = "Steps:\n\n1. open `/admin`\n2. see **everything**\n\n<script>alert(1)</script>"


@pytest.fixture
async def world(session: AsyncSession) -> dict[str, Any]:
    org = await make_org(session)
    program = await make_program(session, org, handle="acme")
    hacker = await make_user(session, username="hacker1")
    report = await make_report(session, program, reporter=hacker, vulnerability_information=TEXT)
    return {"report_id": report.id, "token": await make_token(session, org)}


async def stored(session: AsyncSession, report_id: int) -> tuple[str | None, list[Any]]:
    await session.rollback()  # a new transaction sees what the requests wrote
    html = await session.scalar(
        select(Report.vulnerability_information_html).where(Report.id == report_id)
    )
    rows = await session.execute(
        select(Activity.message, Activity.message_html).where(Activity.report_id == report_id)
    )
    return html, list(rows)


async def post_comment(client: httpx.AsyncClient, world: dict[str, Any], message: str) -> Any:
    response = await client.post(
        f"/v1/reports/{world['report_id']}/activities",
        json={
            "data": {
                "type": "activity-comment",
                "attributes": {"message": message, "internal": False},
            }
        },
        auth=world["token"].auth,
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def test_texts_are_rendered_when_written_and_when_changed(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    report_id, token = world["report_id"], world["token"]
    html, _ = await stored(session, report_id)
    assert html == render_markdown(TEXT)
    assert html is not None
    assert "<script>" not in html
    assert "<strong>everything</strong>" in html

    comment = await post_comment(client, world, "_seen_")
    assert comment["attributes"]["message_html"] == "<p><em>seen</em></p>\n"
    response = await client.put(
        f"/v1/reports/{report_id}/vulnerability_information",
        json={"data": {"attributes": {"vulnerability_information": "now *this*"}}},
        auth=token.auth,
    )
    assert response.status_code == 200, response.text

    html, activities = await stored(session, report_id)
    assert html == render_markdown("now *this*")
    assert activities, "the comment and the update wrote activities"
    for message, message_html in activities:
        assert message_html == render_markdown(message)


async def test_documents_send_the_stored_html(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    report_id, token = world["report_id"], world["token"]
    await post_comment(client, world, "hello")
    await session.execute(
        update(Report)
        .where(Report.id == report_id)
        .values(vulnerability_information_html="<p>S</p>")
    )
    await session.execute(
        update(Activity).where(Activity.report_id == report_id).values(message_html="<p>M</p>")
    )
    await session.commit()

    data = (await client.get(f"/v1/reports/{report_id}", auth=token.auth)).json()["data"]

    assert data["attributes"]["vulnerability_information_html"] == "<p>S</p>"
    messages = {
        a["attributes"]["message_html"] for a in data["relationships"]["activities"]["data"]
    }
    assert messages == {"<p>M</p>"}


async def test_rows_written_before_the_html_was_stored_are_rendered_when_read(
    session: AsyncSession, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    report_id, token = world["report_id"], world["token"]
    await post_comment(client, world, "**old**")
    before = (await client.get(f"/v1/reports/{report_id}", auth=token.auth)).json()
    await session.execute(
        update(Report).where(Report.id == report_id).values(vulnerability_information_html=None)
    )
    await session.execute(
        update(Activity).where(Activity.report_id == report_id).values(message_html=None)
    )
    await session.commit()

    after = (await client.get(f"/v1/reports/{report_id}", auth=token.auth)).json()

    assert after == before
    assert after["data"]["attributes"]["vulnerability_information_html"] == render_markdown(TEXT)
    comment = after["data"]["relationships"]["activities"]["data"][0]
    assert comment["attributes"]["message_html"] == "<p><strong>old</strong></p>\n"
