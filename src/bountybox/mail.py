"""The mail outbox. Every email the platform sends is a row written in the caller's transaction;
delivery through SMTP (when BOUNTYBOX_SMTP_URL is set) happens after the commit, and the timer
loop retries whatever is still unsent. Without SMTP, mails stay listed by `bountybox mail list`."""

from __future__ import annotations

import asyncio
import email.message
import logging
import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.db.models import Mail

log = logging.getLogger("bountybox.mail")
MAX_ATTEMPTS = 10


async def queue_mail(
    session: AsyncSession,
    clock: Clock,
    *,
    organization_id: int | None,
    kind: str,
    to: str,
    subject: str,
    body: str,
) -> Mail:
    mail = Mail(
        organization_id=organization_id,
        kind=kind,
        to_address=to,
        subject=subject,
        body=body,
        created_at=clock.now(),
        attempts=0,
    )
    session.add(mail)
    await session.flush()
    return mail


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        """smtp://user:pass@host:25, smtps://host:465, smtp://host:587?starttls=true"""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"unsupported SMTP URL: {url}")
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            starttls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
        )


def _send(target: SmtpTarget, sender: str, mail: Mail) -> None:
    message = email.message.EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<mail-{mail.id}@bountybox>"
    message.set_content(mail.body)
    context = ssl.create_default_context()
    client: smtplib.SMTP = (
        smtplib.SMTP_SSL(target.host, target.port, timeout=15, context=context)
        if target.implicit_tls
        else smtplib.SMTP(target.host, target.port, timeout=15)
    )
    with client:
        if target.starttls:
            client.starttls(context=context)
        if target.username:
            client.login(target.username, target.password or "")
        client.send_message(message)


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    ids: list[int] | None = None,
) -> int:
    """Sends unsent mails (the given ones, or every one still due); returns how many went out."""
    if not settings.smtp_url:
        return 0
    target = SmtpTarget.parse(settings.smtp_url)
    sent = 0
    async with sessionmaker() as session, session.begin():
        stmt = select(Mail).where(Mail.sent_at.is_(None), Mail.attempts < MAX_ATTEMPTS)
        if ids is not None:
            stmt = stmt.where(Mail.id.in_(ids))
        mails = list(await session.scalars(stmt.order_by(Mail.id).limit(100)))
        for mail in mails:
            mail.attempts += 1
            try:
                await asyncio.to_thread(_send, target, settings.mail_from, mail)
            except (OSError, smtplib.SMTPException) as exc:
                mail.last_error = str(exc)[:1000]
                log.warning("mail %s to %s failed: %s", mail.id, mail.to_address, exc)
                continue
            mail.sent_at = clock.now()
            mail.last_error = None
            sent += 1
    return sent
