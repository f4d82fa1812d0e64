"""The `bountybox` command: serve | db upgrade | demo | tokens create/revoke."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.core.errors import AppError
from bountybox.db.engine import engine_from_settings, session_factory
from bountybox.db.migrate import upgrade

T = TypeVar("T")

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="bountybox: a HackerOne-compatible platform."
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
tokens_app = typer.Typer(no_args_is_help=True, help="Organization API tokens.")
orgs_app = typer.Typer(no_args_is_help=True, help="Organizations.")
programs_app = typer.Typer(no_args_is_help=True, help="Programs.")
members_app = typer.Typer(no_args_is_help=True, help="Organization members.")
mail_app = typer.Typer(no_args_is_help=True, help="The mail outbox.")
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(programs_app, name="programs")
app.add_typer(members_app, name="members")
app.add_typer(mail_app, name="mail")
app.add_typer(tokens_app, name="tokens")


def run_in_session(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Runs `work` in one transaction on a migrated database; AppErrors end the command."""
    settings = Settings()

    async def main() -> T:
        engine = engine_from_settings(settings)
        try:
            await upgrade(engine)
            async with session_factory(engine)() as session, session.begin():
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
) -> None:
    """Apply migrations, then serve the API under /v1."""
    from granian.constants import Interfaces
    from granian.server import Server

    db_upgrade()
    settings = Settings()
    # Worker processes build their settings from the same environment.
    os.environ.setdefault("BOUNTYBOX_DATA_DIR", str(settings.data_dir))
    typer.echo(
        f"bountybox serving http://{host}:{port}/v1"
        f" ({settings.resolved_database_url().split(':')[0]})"
    )
    Server(
        "bountybox.asgi:make_app",
        factory=True,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        log_level=settings.log_level,  # type: ignore[arg-type]
    ).serve()


@app.command()
def demo() -> None:
    """Load the demo dataset (idempotent); the last line printed is an admin API token."""
    from bountybox.demo import load_demo

    token = run_in_session(lambda session, settings: load_demo(session, settings))
    typer.echo(str(token))


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


def main() -> None:
    sys.exit(app())
