"""The `bountybox` command: serve | worker | db upgrade | demo | tokens | webhooks ..."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.core.errors import AppError, NotFound
from bountybox.db.engine import engine_from_settings, session_factory
from bountybox.db.migrate import upgrade
from bountybox.db.models import Webhook, WebhookDelivery
from bountybox.domains.webhooks.service import configure_sessions

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="bountybox: a HackerOne-compatible platform."
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
tokens_app = typer.Typer(no_args_is_help=True, help="Organization API tokens.")
tls_app = typer.Typer(no_args_is_help=True, help="A local CA and certificate for HTTPS.")
orgs_app = typer.Typer(no_args_is_help=True, help="Organizations.")
programs_app = typer.Typer(no_args_is_help=True, help="Programs.")
members_app = typer.Typer(no_args_is_help=True, help="Organization members.")
mail_app = typer.Typer(no_args_is_help=True, help="The mail outbox.")
integrations_app = typer.Typer(no_args_is_help=True, help="Program integrations.")
hackers_app = typer.Typer(
    no_args_is_help=True, help="Hackers: API tokens, private programs, payouts."
)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(programs_app, name="programs")
app.add_typer(members_app, name="members")
app.add_typer(mail_app, name="mail")
app.add_typer(integrations_app, name="integrations")
app.add_typer(hackers_app, name="hackers")
app.add_typer(tokens_app, name="tokens")
app.add_typer(tls_app, name="tls")
webhooks_app = typer.Typer(no_args_is_help=True, help="Program webhooks and their deliveries.")
app.add_typer(webhooks_app, name="webhooks")


def run_in_session(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Runs `work` in one transaction on a migrated database; AppErrors end the command."""
    settings = Settings()

    async def main() -> T:
        engine = engine_from_settings(settings)
        try:
            await upgrade(engine)
            sessions = session_factory(engine)
            configure_sessions(sessions, settings)
            async with sessions() as session, session.begin():
                return await work(session, settings)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except AppError as error:
        typer.echo(f"error: {error.detail or error.title}", err=True)
        raise typer.Exit(1) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = Settings()

    async def main() -> None:
        engine = engine_from_settings(settings)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(main())
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox", help="Sandbox mode: the /_sandbox/ control plane (docs/sandbox.md)."
        ),
    ] = False,
    seed: Annotated[
        str | None,
        typer.Option(help="Sandbox seed pack loaded at start: demo, empty or a pack file."),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Serve HTTPS with this certificate (PEM, chain first).")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="The certificate's private key.")] = None,
) -> None:
    """Apply migrations, then serve the API under /v1."""
    from granian.constants import Interfaces, SSLProtocols
    from granian.server import Server

    if (tls_cert is None) != (tls_key is None):
        _fail("--tls-cert and --tls-key go together")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            _fail(f"no such file: {path}")
    settings = Settings()
    sandbox_on = sandbox or settings.sandbox
    if seed is not None and not sandbox_on:
        _fail("--seed is a sandbox option: add --sandbox")
    if sandbox_on and workers != 1:
        _fail("sandbox mode keeps its state in the server process: run it with --workers 1")
    # Worker processes build their settings from the same environment.
    os.environ.setdefault("BOUNTYBOX_DATA_DIR", str(settings.data_dir))
    sandbox_banner = None
    if sandbox_on:
        sandbox_banner = _prepare_sandbox(settings, seed)
        settings = Settings()
    db_upgrade()
    scheme = "https" if tls_cert else "http"
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base_url = f"{scheme}://{shown_host}:{port}"
    database = settings.resolved_database_url().split(":")[0]
    if sandbox_banner is not None:
        typer.echo(sandbox_banner(base_url, database))
    else:
        typer.echo(f"bountybox serving {base_url}/v1 ({database})")
    Server(
        "bountybox.asgi:make_app",
        factory=True,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        log_level=settings.log_level,  # type: ignore[arg-type]
        ssl_cert=tls_cert.resolve() if tls_cert else None,
        ssl_key=tls_key.resolve() if tls_key else None,
        # Older HackerOne clients (and their TLS stacks) still speak TLS 1.2.
        ssl_protocol_min=SSLProtocols.tls12,
    ).serve()


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _prepare_sandbox(settings: Settings, seed: str | None) -> Callable[[str, str], str]:
    """Turns sandbox mode on for the server process (through its environment), checks the seed
    pack and fixes the control-plane token; returns the banner to print once the URL is known."""
    import secrets

    from bountybox import packs
    from bountybox.packs.loader import pack_tokens
    from bountybox.sandbox.banner import banner
    from bountybox.sandbox.service import SANDBOX_TOKEN_KEY

    seed = seed or settings.sandbox_seed or "demo"
    if seed not in packs.available():
        seed = str(Path(seed).resolve())
    try:
        pack = packs.named(seed) if seed in packs.available() else packs.read(Path(seed))
    except AppError as error:
        _fail(f"seed pack {seed}: {error.detail}")
    token = settings.sandbox_token or secrets.token_urlsafe(24)
    os.environ.update(
        BOUNTYBOX_SANDBOX="true", BOUNTYBOX_SANDBOX_SEED=seed, BOUNTYBOX_SANDBOX_TOKEN=token
    )
    tokens = pack_tokens(pack, SANDBOX_TOKEN_KEY)

    def render(base_url: str, database: str) -> str:
        return banner(
            base_url=base_url, sandbox_token=token, seed=seed, tokens=tokens, database=database
        )

    return render


@app.command()
def demo(
    hackers: Annotated[
        bool, typer.Option("--hackers", help="Also print the demo hackers' API tokens.")
    ] = False,
) -> None:
    """Load the demo dataset (idempotent); the last line printed is an admin API token, and with
    --hackers the lines before it are the demo hackers' tokens."""
    from bountybox.demo import demo_hacker_tokens, load_demo

    async def work(session: AsyncSession, settings: Settings) -> list[object]:
        admin = await load_demo(session, settings)
        return [*await demo_hacker_tokens(session, settings), admin]

    *hacker_tokens, admin = run_in_session(work)
    if hackers:
        for hacker_token in hacker_tokens:
            typer.echo(str(hacker_token))
    typer.echo(str(admin))


@tokens_app.command("create")
def tokens_create(
    organization: Annotated[str, typer.Option(help="Organization handle.")],
    name: Annotated[str, typer.Option(help="Token name, used as its identifier.")],
    group: Annotated[
        list[str] | None,
        typer.Option(
            help="Group to put the token in (repeatable); none makes an organization admin."
        ),
    ] = None,
) -> None:
    """Create an API token and print IDENTIFIER:VALUE (the value is shown only once)."""
    from bountybox.domains.organizations import service

    async def work(session: AsyncSession, _settings: Settings) -> service.IssuedToken:
        org = await service.load_organization(session, organization)
        return await service.create_api_token(
            session=session, clock=Clock(), organization=org, name=name, group_names=group or []
        )

    typer.echo(str(run_in_session(work)))


@tokens_app.command("revoke")
def tokens_revoke(identifier: str) -> None:
    """Revoke an API token; requests with it answer 401 from then on."""
    from bountybox.domains.organizations import service

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await service.revoke_api_token(session=session, clock=Clock(), identifier=identifier)

    run_in_session(work)
    typer.echo(f"revoked {identifier}")


@orgs_app.command("allowlist")
def orgs_allowlist(
    organization: Annotated[str, typer.Option(help="Organization handle.")],
    cidrs: Annotated[list[str] | None, typer.Argument(help="Addresses or CIDR ranges.")] = None,
) -> None:
    """Set the IP allow-list of an organization's tokens (no CIDRs: allow every address)."""
    from bountybox.domains.organizations import service

    async def work(session: AsyncSession, _settings: Settings) -> list[str]:
        org = await service.load_organization(session, organization)
        return service.set_ip_allowlist(clock=Clock(), organization=org, cidrs=cidrs or [])

    allowed = run_in_session(work)
    typer.echo(f"allow-list of {organization}: {', '.join(allowed) or 'every address'}")


@orgs_app.command("create")
def orgs_create(
    handle: Annotated[str, typer.Option(help="Organization handle (lowercase).")],
    name: Annotated[str, typer.Option(help="Display name.")],
) -> None:
    """Create an organization; then add programs, members and tokens to it."""
    from bountybox.domains.organizations import service

    async def work(session: AsyncSession, _settings: Settings) -> int:
        organization = await service.create_organization(
            session=session, clock=Clock(), handle=handle, name=name
        )
        return organization.id

    typer.echo(f"created organization {handle} (id {run_in_session(work)})")


@programs_app.command("create")
def programs_create(
    organization: Annotated[str, typer.Option(help="Organization handle.")],
    handle: Annotated[str, typer.Option(help="Program handle (lowercase).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    bounties: Annotated[bool, typer.Option(help="Whether the program awards bounties.")] = True,
    private: Annotated[bool, typer.Option(help="Private programs are invitation-only.")] = False,
) -> None:
    """Create a program (with its default inbox) in an organization."""
    from bountybox.domains.organizations import service as organizations
    from bountybox.domains.programs import service

    async def work(session: AsyncSession, _settings: Settings) -> int:
        org = await organizations.load_organization(session, organization)
        program = await service.create_program(
            session=session,
            clock=Clock(),
            organization=org,
            handle=handle,
            name=name,
            offers_bounties=bounties,
            private=private,
        )
        return program.id

    typer.echo(f"created program {handle} (id {run_in_session(work)})")


@members_app.command("add")
def members_add(
    organization: Annotated[str, typer.Option(help="Organization handle.")],
    email: Annotated[str, typer.Option(help="The person's email address.")],
    admin: Annotated[
        bool, typer.Option("--admin", help="Make them an organization admin.")
    ] = False,
    group: Annotated[
        list[str] | None, typer.Option(help="Group to put them in (repeatable).")
    ] = None,
) -> None:
    """Add a person to an organization (their user is created when new)."""
    from bountybox.domains.organizations import service

    async def work(session: AsyncSession, _settings: Settings) -> int:
        org = await service.load_organization(session, organization)
        member = await service.add_member(
            session=session,
            clock=Clock(),
            organization=org,
            email=email,
            admin=admin,
            group_names=group or [],
        )
        return member.id

    typer.echo(f"added {email} to {organization} (member id {run_in_session(work)})")


@mail_app.command("list")
def mail_list(
    everything: Annotated[
        bool, typer.Option("--all", help="Also list mails already sent.")
    ] = False,
) -> None:
    """The outbox: mails not sent yet (every mail with --all)."""
    from sqlalchemy import select

    from bountybox.db.models import Mail

    async def work(session: AsyncSession, _settings: Settings) -> list[Mail]:
        stmt = select(Mail).order_by(Mail.id)
        if not everything:
            stmt = stmt.where(Mail.sent_at.is_(None))
        return list(await session.scalars(stmt))

    for mail in run_in_session(work):
        status = f"sent {mail.sent_at:%Y-%m-%d %H:%M}" if mail.sent_at else "unsent"
        typer.echo(f"#{mail.id} {status} to {mail.to_address}: {mail.subject}")
        typer.echo("    " + mail.body.replace("\n", "\n    ").rstrip())


@app.command()
def worker() -> None:
    """Deliver webhooks until stopped (SIGTERM/SIGINT); any number may run."""
    import logging

    from bountybox.worker.delivery import run_worker_process

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper())
    run_worker_process(settings)


def _webhook_input(model: type[M], values: dict[str, object]) -> M:
    from pydantic import ValidationError

    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        typer.echo(f"error: {where}: {first['msg']}", err=True)
        raise typer.Exit(1) from None


def _print_webhook(webhook: Webhook) -> None:
    state = "active" if webhook.active else f"inactive ({webhook.disabled_reason or 'by hand'})"
    events = ", ".join(webhook.events) if webhook.events else "every event"
    typer.echo(f"#{webhook.id} {webhook.url} [{state}] {events}")


@webhooks_app.command("list")
def webhooks_list(program: Annotated[str, typer.Option(help="Program handle.")]) -> None:
    """The program's webhooks."""
    from bountybox.domains.webhooks import repository

    async def work(session: AsyncSession, _settings: Settings) -> list[Webhook]:
        found = await repository.find_program_by_handle(session, program)
        if found is None:
            raise NotFound(f"no program {program}")
        return list(await session.scalars(repository.webhooks_query(found)))

    for webhook in run_in_session(work):
        _print_webhook(webhook)


@webhooks_app.command("create")
def webhooks_create(
    program: Annotated[str, typer.Option(help="Program handle.")],
    url: Annotated[str, typer.Option(help="Payload URL.")],
    secret: Annotated[str | None, typer.Option(help="Signing secret.")] = None,
    event: Annotated[
        list[str] | None, typer.Option(help="Event to send (repeatable); none sends every event.")
    ] = None,
    active: Annotated[bool, typer.Option("--active/--inactive")] = True,
) -> None:
    """Create a webhook and print its id."""
    from bountybox.domains.webhooks import repository, service
    from bountybox.domains.webhooks.schemas import WebhookAttributes

    webhook_in = _webhook_input(
        WebhookAttributes, {"url": url, "secret": secret, "events": event or [], "active": active}
    )

    async def work(session: AsyncSession, settings: Settings) -> Webhook:
        found = await repository.find_program_by_handle(session, program)
        if found is None:
            raise NotFound(f"no program {program}")
        return await service.create_webhook(
            session=session,
            clock=Clock(),
            settings=settings,
            program=found,
            created_by=None,
            webhook_in=webhook_in,
        )

    _print_webhook(run_in_session(work))


async def _find_webhook(session: AsyncSession, webhook_id: int) -> Webhook:
    from bountybox.domains.webhooks import repository

    webhook = await repository.find_webhook(session, webhook_id)
    if webhook is None:
        raise NotFound(f"no webhook #{webhook_id}")
    return webhook


@webhooks_app.command("update")
def webhooks_update(
    webhook_id: int,
    url: Annotated[str | None, typer.Option(help="New payload URL.")] = None,
    secret: Annotated[str | None, typer.Option(help="New signing secret.")] = None,
    no_secret: Annotated[bool, typer.Option("--no-secret", help="Remove the secret.")] = False,
    event: Annotated[list[str] | None, typer.Option(help="Events to send (repeatable).")] = None,
    all_events: Annotated[bool, typer.Option("--all-events", help="Send every event.")] = False,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
) -> None:
    """Change a webhook; options left out keep their value."""
    from bountybox.domains.webhooks import service
    from bountybox.domains.webhooks.schemas import WebhookUpdateAttributes

    given: dict[str, object] = {}
    if url is not None:
        given["url"] = url
    if secret is not None or no_secret:
        given["secret"] = None if no_secret else secret
    if event or all_events:
        given["events"] = [] if all_events else event
    if active is not None:
        given["active"] = active
    update_in = _webhook_input(WebhookUpdateAttributes, given)

    async def work(session: AsyncSession, settings: Settings) -> Webhook:
        return await service.update_webhook(
            session=session,
            clock=Clock(),
            settings=settings,
            webhook=await _find_webhook(session, webhook_id),
            update_in=update_in,
        )

    _print_webhook(run_in_session(work))


@webhooks_app.command("delete")
def webhooks_delete(webhook_id: int) -> None:
    """Delete a webhook with its deliveries."""
    from bountybox.domains.webhooks import service

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await service.delete_webhook(
            session=session, webhook=await _find_webhook(session, webhook_id)
        )

    run_in_session(work)
    typer.echo(f"deleted webhook #{webhook_id}")


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    webhook_id: int, limit: Annotated[int, typer.Option(min=1, max=1000)] = 20
) -> None:
    """Recent deliveries of a webhook, newest first, with their last response."""
    from bountybox.domains.webhooks import repository

    async def work(session: AsyncSession, _settings: Settings) -> list[tuple[WebhookDelivery, str]]:
        webhook = await _find_webhook(session, webhook_id)
        deliveries = list(await session.scalars(repository.deliveries_query(webhook).limit(limit)))
        attempts = await repository.attempts_of(session, [d.id for d in deliveries])
        out = []
        for delivery in deliveries:
            last = attempts[delivery.id][0] if attempts[delivery.id] else None
            outcome = ""
            if last is not None:
                outcome = last.error or f"HTTP {last.response_status}"
                outcome += f" in {last.duration_ms} ms"
            out.append((delivery, outcome))
        return out

    for delivery, outcome in run_in_session(work):
        typer.echo(
            f"#{delivery.id} {delivery.created_at:%Y-%m-%d %H:%M:%S} {delivery.event}"
            f" {delivery.state} after {delivery.attempt_count} attempt(s) {outcome}".rstrip()
        )


@webhooks_app.command("redeliver")
def webhooks_redeliver(delivery_id: int) -> None:
    """Queue a delivery's body again, as a new delivery; prints its id."""
    from bountybox.domains.webhooks import repository, service

    async def work(session: AsyncSession, _settings: Settings) -> WebhookDelivery:
        delivery = await repository.find_delivery(session, delivery_id)
        if delivery is None:
            raise NotFound(f"no delivery #{delivery_id}")
        return await service.redeliver(
            session=session,
            clock=Clock(),
            webhook=await _find_webhook(session, delivery.webhook_id),
            delivery=delivery,
        )

    typer.echo(f"queued delivery #{run_in_session(work).id}")


@webhooks_app.command("test")
def webhooks_test(webhook_id: int) -> None:
    """Queue a test request (an example report_created delivery); prints its id."""
    from bountybox.domains.webhooks import service

    async def work(session: AsyncSession, settings: Settings) -> WebhookDelivery:
        return await service.send_test(
            session=session,
            clock=Clock(),
            settings=settings,
            webhook=await _find_webhook(session, webhook_id),
        )

    typer.echo(f"queued delivery #{run_in_session(work).id}")


@hackers_app.command("create")
def hackers_create(username: str) -> None:
    """Create the hacker (or reuse it) and print a new hacker API token IDENTIFIER:VALUE; the
    hacker's earlier token stops working."""
    from bountybox.domains.hackers import service

    async def work(session: AsyncSession, _settings: Settings) -> object:
        return await service.issue_hacker_token(session=session, clock=Clock(), username=username)

    typer.echo(str(run_in_session(work)))


@hackers_app.command("allow")
def hackers_allow(
    program: Annotated[str, typer.Option(help="Program handle.")],
    usernames: Annotated[list[str], typer.Argument(help="Hackers to allow.")],
) -> None:
    """Allow hackers on a program (they see it, its scopes and its disclosed reports even when
    it is private, and can report to it)."""
    from bountybox.domains.hackers import service

    async def work(session: AsyncSession, _settings: Settings) -> list[str]:
        found = await service.load_program_by_handle(session, program)
        return await service.allow_hackers(
            session=session, clock=Clock(), program=found, usernames=usernames
        )

    added = run_in_session(work)
    typer.echo(f"allowed on {program}: {', '.join(added) or 'nobody new'}")


@hackers_app.command("remove")
def hackers_remove(
    program: Annotated[str, typer.Option(help="Program handle.")],
    usernames: Annotated[list[str], typer.Argument(help="Hackers to remove.")],
) -> None:
    """Take hackers off a program's allowed list (their own reports stay theirs)."""
    from bountybox.domains.hackers import service

    async def work(session: AsyncSession, _settings: Settings) -> list[str]:
        found = await service.load_program_by_handle(session, program)
        return await service.remove_hackers(
            session=session, clock=Clock(), program=found, usernames=usernames
        )

    removed = run_in_session(work)
    typer.echo(f"removed from {program}: {', '.join(removed) or 'nobody'}")


@hackers_app.command("payout")
def hackers_payout(
    username: str,
    amount: Annotated[
        str | None, typer.Option(help="Amount in USD, e.g. 150.00; default: the whole balance.")
    ] = None,
    provider: Annotated[str | None, typer.Option(help="e.g. PayPal.")] = None,
    reference: Annotated[str | None, typer.Option(help="The provider's reference.")] = None,
) -> None:
    """Record money sent to a hacker outside bountybox; it lowers their balance."""
    from decimal import Decimal, InvalidOperation

    from bountybox.domains.hackers import service

    cents = None
    if amount is not None:
        try:
            value = Decimal(amount)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or value != value.quantize(Decimal("0.01")):
            typer.echo("error: the amount is a number with at most two decimals", err=True)
            raise typer.Exit(1)
        cents = int(value * 100)

    async def work(session: AsyncSession, _settings: Settings) -> int:
        user = await service.load_hacker(session, username)
        payout = await service.record_payout(
            session=session,
            clock=Clock(),
            user=user,
            amount_cents=cents,
            provider=provider,
            reference=reference,
        )
        return payout.amount_cents

    paid = run_in_session(work)
    typer.echo(f"paid out {paid // 100}.{paid % 100:02d} to {username}")


@integrations_app.command("add")
def integrations_add(
    program: Annotated[str, typer.Option(help="Program handle.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    kind: Annotated[str, typer.Option("--type", help="notification, issue_tracking or manual.")],
    webhook_url: Annotated[str | None, typer.Option(help="Where notifications are posted.")] = None,
    reference_url_prefix: Annotated[
        str | None, typer.Option(help="Issue URL prefix; the reference is appended.")
    ] = None,
) -> None:
    """Add an integration reports can be escalated to or notifications sent through."""
    from sqlalchemy import select

    from bountybox.core.errors import NotFound
    from bountybox.db.models import Program
    from bountybox.domains.programs import service
    from bountybox.domains.reports.repository import integration_gid

    async def work(session: AsyncSession, _settings: Settings) -> str:
        found = await session.scalar(select(Program).where(Program.handle == program))
        if found is None:
            raise NotFound(f"No program with handle '{program}'.")
        integration = await service.add_integration(
            session=session,
            clock=Clock(),
            program=found,
            name=name,
            group_type=kind,
            webhook_url=webhook_url,
            reference_url_prefix=reference_url_prefix,
        )
        return integration_gid(integration.id)

    typer.echo(f"added integration {run_in_session(work)}")


@tls_app.command("create")
def tls_create(
    directory: Annotated[Path, typer.Option("--dir", help="Where the files are written.")],
    host: Annotated[
        list[str] | None,
        typer.Option(help="Name or address the certificate is for (repeatable)."),
    ] = None,
) -> None:
    """Write a local certificate authority (ca.pem) and a certificate for the hosts (cert.pem,
    key.pem; by default api.hackerone.com and localhost) for `serve --tls-cert --tls-key`."""
    from bountybox.tls import DEFAULT_HOSTS, create_ca_and_cert

    files = create_ca_and_cert(directory, host or list(DEFAULT_HOSTS))
    typer.echo(f"CA certificate (trust this one): {files.ca_cert}")
    typer.echo(f"server certificate: {files.cert}")
    typer.echo(f"server key: {files.key}")
    typer.echo(f"serve: bountybox serve --tls-cert {files.cert} --tls-key {files.key}")


def main() -> None:
    sys.exit(app())
