"""Webhook URLs may not reach the server's own network unless private addresses are allowed:
refused when saved, and again on every connection (DNS rebinding)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bountybox.config import Settings
from bountybox.core import outbound
from bountybox.core.clock import Clock
from bountybox.core.outbound import UnsafeUrl, check_url
from bountybox.db.models import WebhookDeliveryAttempt
from bountybox.worker.delivery import DeliveryWorker
from tests.builders import make_org, make_program, make_report, make_token, make_user, make_webhook
from tests.worker.conftest import produce_comments
from tests.worker.receiver import Receiver

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://10.0.0.5/hook",
    "http://10.255.255.255/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00:ec2::254]/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://100.100.100.200/hook",
    "http://0.0.0.0/hook",
    "http://localhost/hook",
    "https://localhost:8443/hook",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_private_destinations_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="not a public address"):
        await check_url(url, allow_private=False)


@pytest.mark.parametrize("url", REFUSED)
async def test_allow_private_lets_sandboxes_use_them(url: str) -> None:
    await check_url(url, allow_private=True)


async def test_public_addresses_pass_and_other_schemes_never_do() -> None:
    await check_url("https://93.184.216.34/hooks", allow_private=False)
    await check_url("http://[2606:4700:4700::1111]:8080/hooks", allow_private=False)
    for url in ("ftp://93.184.216.34/x", "file:///etc/passwd", "http:///nohost", "gopher://a/"):
        with pytest.raises(UnsafeUrl):
            await check_url(url, allow_private=True)


@pytest.fixture
def strict(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhooks_allow_private": False})


async def test_the_api_refuses_private_urls_when_they_are_not_allowed(
    session: AsyncSession, strict: Settings, engine: Any, clock: Clock
) -> None:
    from bountybox.app import create_app

    org = await make_org(session)
    program = await make_program(session, org)
    token = await make_token(session, org)
    app = create_app(strict, engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for url in ("http://127.0.0.1:9/h", "http://10.1.1.1/h", "http://localhost/h"):
            response = await client.post(
                f"/v1/programs/{program.id}/webhooks",
                auth=token.auth,
                json={"data": {"type": "webhook", "attributes": {"url": url}}},
            )
            assert response.status_code == 400, response.text
            error = response.json()["errors"][0]
            assert error["source"] == {"parameter": "url"}
            assert "not a public address" in error["detail"]


async def test_connections_are_checked_again_so_dns_rebinding_does_not_get_through(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    strict: Settings,
    clock: Clock,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The name resolved to a public address when the webhook was saved; now it answers with the
    loopback receiver's address. The worker refuses to connect and records why."""
    answers = iter([["93.184.216.34"]])

    async def rebinding(*_args: object) -> list[str]:
        return next(answers, ["127.0.0.1"])

    monkeypatch.setattr(outbound, "resolve", rebinding)
    url = f"http://hooks.rebind.test:{receiver.port}/hooks/hackerone"
    await check_url(url, allow_private=False)

    org = await make_org(session)
    program = await make_program(session, org)
    hacker = await make_user(session)
    await make_webhook(session, program, url=url, secret="s3cr3t")
    report = await make_report(session, program, reporter=hacker)
    await produce_comments(sessions, clock, report.id, hacker.id, 1)
    worker = DeliveryWorker(sessions, strict, clock)
    try:
        assert await worker.deliver_due() == 1
    finally:
        await worker.client.aclose()
    assert receiver.received == []
    await session.commit()
    [attempt] = await session.scalars(select(WebhookDeliveryAttempt))
    assert attempt.success is False
    assert "127.0.0.1, which is not a public address" in (attempt.error or "")


async def test_a_loopback_receiver_is_reachable_only_with_allow_private(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    strict: Settings,
    clock: Clock,
    receiver: Receiver,
) -> None:
    org = await make_org(session)
    program = await make_program(session, org)
    hacker = await make_user(session)
    hook = await make_webhook(
        session, program, url=receiver.url.replace("127.0.0.1", "localhost"), secret="s3cr3t"
    )
    report = await make_report(session, program, reporter=hacker)
    await produce_comments(sessions, clock, report.id, hacker.id, 1)

    refusing = DeliveryWorker(sessions, strict, clock)
    try:
        await refusing.deliver_due()
    finally:
        await refusing.client.aclose()
    assert receiver.received == []
    # The refused attempt holds the queue until its retry time; skip the wait.
    await session.refresh(hook)
    hook.retry_at = None
    await session.commit()

    allowing = DeliveryWorker(sessions, settings, clock)
    try:
        await allowing.deliver_due()
    finally:
        await allowing.client.aclose()
    assert [r.status for r in receiver.received] == [200]
