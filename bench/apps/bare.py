"""The bare app: two endpoints written by hand on Starlette, straight on asyncpg (or sqlite3
through aiosqlite), each running the statements bountybox runs for it and encoding with orjson.
No ORM, no endpoint layer, no rate limiter, no markdown rendering: what is left is the database
round trips and the JSON, the least a Python server can do for that request.

- `GET /v1/reports/{id}`: the token with its admin flag and the organization's program ids; the
  report joined with its program, severity, weakness, asset and reporter, and which rarely
  present children exist; those children; the inboxes; the activities; one query per kind of
  related row still missing. Without a transaction on PostgreSQL and in one on SQLite, as
  bountybox reads; a document of the same shape.
- `POST /v1/reports/{id}/activities` (a comment): in one transaction, the token; the report locked
  with its program, severity, weakness, asset, reporter, assignee, inboxes, the acting user and
  the program's active webhooks; the activity inserted; the report's activity timestamps moved;
  the audit item and one webhook delivery per subscribed webhook, whose body is the activity and
  the report rendered; the data version incremented (and notified on PostgreSQL). The answer is
  the activity's document.

    BENCH_DATABASE_URL=postgresql://... granian --interface asgi bench.apps.bare:app
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import html
import os
import re
import sqlite3
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Row = dict[str, Any]
JSON_COLUMNS = frozenset(
    {"ip_allowlist", "metrics", "extra", "refs", "cve_ids", "report_tags", "permissions"}
)
REF_TABLES = {
    "assigned_user": "users",
    "removed_user": "users",
    "group": "groups",
    "old_severity": "severities",
    "new_severity": "severities",
    "old_weakness": "weaknesses",
    "new_weakness": "weaknesses",
    "old_scope": "structured_scopes",
    "new_scope": "structured_scopes",
    "swag": "swags",
    "custom_field_attribute": "custom_field_attributes",
    "program": "programs",
}
TYPES = {
    "users": "user",
    "groups": "group",
    "severities": "severity",
    "weaknesses": "weakness",
    "structured_scopes": "structured-scope",
    "swags": "swag",
    "custom_field_attributes": "custom-field-attribute",
    "programs": "program",
    "campaigns": "campaign",
    "triggers": "trigger",
    "addresses": "address",
}
HEADERS = {
    "Cache-Control": "max-age=0, private, must-revalidate",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def ts(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: "2025-01-02 03:04:05.678901", UTC
        return f"{value[:10]}T{value[11:23]}Z"
    return f"{value.astimezone(dt.UTC).isoformat(timespec='milliseconds')[:23]}Z"


def attributes(row: Row, *, drop: tuple[str, ...] = ()) -> Row:
    out: Row = {}
    for key, value in row.items():
        if key == "id" or key in drop or key.endswith("_id"):
            continue
        if key.endswith("_at") or key in ("start_date", "end_date"):
            out[key] = ts(value)
        elif key in JSON_COLUMNS and isinstance(value, str):
            out[key] = orjson.loads(value)
        else:
            out[key] = value
    return out


def resource(type_: str, row: Row, relationships: Row | None = None, **drop: Any) -> Row:
    obj: Row = {"id": str(row["id"]), "type": type_, "attributes": attributes(row, **drop)}
    if relationships is not None:
        obj["relationships"] = relationships
    return obj


def in_list(column: str, count: int, first: int = 1) -> str:
    return f"{column} IN ({', '.join(f'${n}' for n in range(first, first + count))})"


class Database:
    """A pool of connections with `fetch(sql, *args)` (rows as dicts, or as tuples with
    `raw=True`) for one request, as bountybox reads: without a transaction on PostgreSQL, in
    one on SQLite."""

    ID_LIST = ""

    # The program's active webhooks as one JSON column of the locked read, and the locking
    # clause, in this database's dialect.
    ACTIVE_WEBHOOKS = ""
    LOCK = ""
    BUMP = ""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    def reading(self) -> contextlib.AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    def writing(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """`fetch` in a transaction that commits when the block ends and rolls back when it
        raises."""
        raise NotImplementedError

    def timestamp(self, value: dt.datetime) -> Any:
        return value

    async def append(self, fetch: Any, rows: list[tuple[str, Row]]) -> None:
        """Inserts rows that nothing reads back: each alone, as bountybox does on SQLite."""
        for table, row in rows:
            await fetch(insert_sql(table, row, 1), *row.values())


class Postgres(Database):
    def __init__(self, url: str) -> None:
        self.url = url

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url, min_size=10, max_size=30)

    async def close(self) -> None:
        await self.pool.close()

    ID_LIST = "string_agg(CAST(programs.id AS TEXT), ',')"
    ACTIVE_WEBHOOKS = (
        "(SELECT json_agg(json_build_array(webhooks.id, webhooks.events)) FROM webhooks"
        " WHERE webhooks.program_id = reports.program_id AND webhooks.active IS true)"
    )
    LOCK = " FOR UPDATE OF reports"
    BUMP = (
        "UPDATE data_version SET version = version + 1 WHERE id = 1 RETURNING version,"
        " pg_notify('bountybox_dv_' || md5(current_schema()), CAST(version AS TEXT))"
    )

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[Any]:
        async with self.pool.acquire() as conn:
            yield self._fetch(conn)

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[Any]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield self._fetch(conn)

    @staticmethod
    def _fetch(conn: Any) -> Any:
        async def fetch(sql: str, *args: Any, raw: bool = False) -> list[Any]:
            rows = await conn.fetch(sql, *args)
            return [tuple(r) for r in rows] if raw else [dict(r) for r in rows]

        return fetch

    async def append(self, fetch: Any, rows: list[tuple[str, Row]]) -> None:
        """One statement for all of them, as bountybox does on PostgreSQL."""
        parts: list[str] = []
        args: list[Any] = []
        for n, (table, row) in enumerate(rows):
            parts.append(f"appended_{n} AS ({insert_sql(table, row, len(args) + 1)})")
            args += row.values()
        await fetch(f"WITH {', '.join(parts)} SELECT 1", *args)


class Sqlite(Database):
    PLACEHOLDER = re.compile(r"\$\d+")

    def __init__(self, path: str) -> None:
        self.path = path
        self.idle: asyncio.Queue[Any] = asyncio.Queue()

    async def open(self) -> None:
        import aiosqlite

        for _ in range(10):
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA busy_timeout=30000")
            self.idle.put_nowait(conn)

    async def close(self) -> None:
        while not self.idle.empty():
            await self.idle.get_nowait().close()

    ID_LIST = "group_concat(programs.id, ',')"
    ACTIVE_WEBHOOKS = (
        "(SELECT json_group_array(json_array(webhooks.id, json(webhooks.events))) FROM webhooks"
        " WHERE webhooks.program_id = reports.program_id AND webhooks.active = 1)"
    )
    BUMP = "UPDATE data_version SET version = version + 1 WHERE id = 1 RETURNING version"

    def reading(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._transaction("BEGIN")

    def writing(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._transaction("BEGIN IMMEDIATE")

    def timestamp(self, value: dt.datetime) -> Any:
        # As bountybox stores them on SQLite: naive UTC text.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")

    @contextlib.asynccontextmanager
    async def _transaction(self, begin: str) -> AsyncIterator[Any]:
        conn = await self.idle.get()
        try:
            await conn.execute(begin)

            async def fetch(sql: str, *args: Any, raw: bool = False) -> list[Any]:
                # $1 -> ?1: SQLite's numbered parameters, so a statement may use one twice.
                cursor = await conn.execute(
                    self.PLACEHOLDER.sub(lambda m: f"?{m[0][1:]}", sql), args
                )
                rows = await cursor.fetchall()
                return [tuple(r) for r in rows] if raw else [dict(r) for r in rows]

            yield fetch
            await conn.execute("COMMIT")
        finally:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            self.idle.put_nowait(conn)


def forbidden() -> Response:
    body = {"errors": [{"status": 403, "title": "Forbidden", "detail": "Forbidden."}]}
    return Response(orjson.dumps(body), 403, media_type="application/json; charset=utf-8")


RARE = {
    "bounties": "SELECT bounties.* FROM bounties WHERE bounties.report_id IN ($1)"
    " ORDER BY bounties.id",
    "report_collaborators": "SELECT report_collaborators.* FROM report_collaborators"
    " WHERE report_collaborators.report_id IN ($1)",
    # With each value's field, split by the two tables' columns.
    "custom_field_values": "SELECT custom_field_values.*, custom_field_attributes.*"
    " FROM custom_field_values JOIN custom_field_attributes"
    " ON custom_field_attributes.id = custom_field_values.custom_field_attribute_id"
    " WHERE custom_field_values.report_id IN ($1) ORDER BY custom_field_values.id",
    "attachments": "SELECT attachments.* FROM attachments WHERE attachments.report_id IN ($1)"
    " ORDER BY attachments.id",
    "swags": "SELECT swags.* FROM swags WHERE swags.report_id IN ($1) ORDER BY swags.id",
    "report_summaries": "SELECT report_summaries.* FROM report_summaries"
    " WHERE report_summaries.report_id IN ($1) ORDER BY report_summaries.id",
    "remediation_guidances": "SELECT remediation_guidances.* FROM remediation_guidances"
    " WHERE remediation_guidances.report_id IN ($1) ORDER BY remediation_guidances.id",
}
# Asked in the report's own statement, as columns after its tables'.
KINDS_PRESENT = ", ".join(
    f"EXISTS (SELECT 1 FROM {table} WHERE {table}.report_id = reports.id) AS {table}"
    for table in RARE
)
TO_ONES = {
    "programs": "program_id",
    "severities": "severity_id",
    "weaknesses": "weakness_id",
    "structured_scopes": "structured_scope_id",
    "users": "reporter_id",
}


async def admin_token(fetch: Any, database: Database, request: Request) -> Row | None:
    """The token's row, with the ids of the programs it sees, when it is an organization
    admin's."""
    header = request.headers.get("authorization", "")
    identifier, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    tokens = await fetch(
        "SELECT api_tokens.*, organizations.ip_allowlist,"
        " (SELECT organization_members.organization_admin FROM organization_members"
        "  WHERE organization_members.organization_id = api_tokens.organization_id"
        "  AND organization_members.user_id = api_tokens.user_id) AS admin,"
        f" (SELECT {database.ID_LIST} FROM programs"
        "  WHERE programs.organization_id = api_tokens.organization_id) AS program_ids,"
        " (SELECT CAST(version AS TEXT) FROM data_version WHERE id = 1) AS version"
        " FROM api_tokens"
        " LEFT OUTER JOIN organizations ON organizations.id = api_tokens.organization_id"
        " WHERE api_tokens.identifier = $1",
        identifier,
    )
    digest = hashlib.sha256(secret.encode()).hexdigest()
    if not tokens or not hmac.compare_digest(tokens[0]["secret_hash"], digest):
        return None
    token: Row = tokens[0]
    if not token["admin"]:
        return None
    token["visible"] = {int(i) for i in (token["program_ids"] or "").split(",") if i}
    return token


async def get_report(request: Request) -> Response:
    database: Database = request.app.state.database
    async with database.reading() as fetch:
        token = await admin_token(fetch, database, request)
        if token is None:
            return forbidden()
        visible = token["visible"]
        # The report and its program, severity, weakness, asset and reporter, and which rare
        # children it has, in one statement, as bountybox reads them; the row is split by each
        # table's columns.
        tables = ["reports", *TO_ONES]
        columns = request.app.state.columns
        rows = await fetch(
            f"SELECT {', '.join(f'{t}.*' for t in tables)}, {KINDS_PRESENT} FROM reports"
            " JOIN programs ON programs.id = reports.program_id"
            " LEFT OUTER JOIN severities ON severities.id = reports.severity_id"
            " LEFT OUTER JOIN weaknesses ON weaknesses.id = reports.weakness_id"
            " LEFT OUTER JOIN structured_scopes"
            " ON structured_scopes.id = reports.structured_scope_id"
            " LEFT OUTER JOIN users ON users.id = reports.reporter_id"
            " WHERE reports.id = $1",
            int(request.path_params["id"]),
            raw=True,
        )
        if not rows:
            return forbidden()
        parts: dict[str, Row] = {}
        start = 0
        for table in tables:
            names = columns[table]
            parts[table] = dict(zip(names, rows[0][start : start + len(names)], strict=True))
            start += len(names)
        present = {table for table, flag in zip(RARE, rows[0][start:], strict=True) if flag}
        report = parts["reports"]
        if report["program_id"] not in visible:
            return forbidden()
        rid = report["id"]
        loaded: dict[str, dict[int, Row]] = {
            table: {parts[table]["id"]: parts[table]}
            for table in TO_ONES
            if parts[table]["id"] is not None
        }
        wanted: dict[str, set[int]] = {}

        def want(table: str, id_: int | None) -> None:
            if id_ is not None and id_ not in loaded.get(table, {}):
                wanted.setdefault(table, set()).add(id_)

        for table, column in (
            ("users", "assignee_user_id"),
            ("groups", "assignee_group_id"),
            ("campaigns", "campaign_id"),
            ("triggers", "triggered_pre_submission_trigger_id"),
        ):
            want(table, report[column])

        rare = {
            table: await fetch(RARE[table], rid, raw=table == "custom_field_values")
            if table in present
            else []
            for table in RARE
        }
        bounties = rare["bounties"]
        collaborators = rare["report_collaborators"]
        width = len(columns["custom_field_values"])
        values = []
        for row in rare["custom_field_values"]:
            values.append(dict(zip(columns["custom_field_values"], row[:width], strict=True)))
            field = dict(zip(columns["custom_field_attributes"], row[width:], strict=True))
            loaded.setdefault("custom_field_attributes", {})[field["id"]] = field
        swags = rare["swags"]
        summaries = rare["report_summaries"]
        guidances = rare["remediation_guidances"]
        attachments = [x for x in rare["attachments"] if x["activity_id"] is None]
        activity_attachments = [x for x in rare["attachments"] if x["activity_id"] is not None]
        inboxes = await fetch(
            "SELECT report_inboxes.report_id, inboxes.* FROM report_inboxes"
            " JOIN inboxes ON inboxes.id = report_inboxes.inbox_id"
            " WHERE report_inboxes.report_id IN ($1) ORDER BY inboxes.id",
            rid,
        )
        for c in collaborators:
            want("users", c["user_id"])
        activities = await fetch(
            "SELECT activities.* FROM activities WHERE activities.report_id IN ($1)"
            " ORDER BY activities.created_at DESC, activities.id DESC",
            rid,
        )
        refs: list[Row] = []
        for a in activities:
            if a["actor_is_program"]:
                want("programs", a["program_id"])
            else:
                want("users", a["actor_user_id"])
            a_refs = a["refs"] if isinstance(a["refs"], dict) else orjson.loads(a["refs"] or "{}")
            refs.append(a_refs)
            for name, ref_id in a_refs.items():
                if name in REF_TABLES:
                    want(REF_TABLES[name], ref_id)
        for s in summaries:
            want("users", s["user_id"])
        for g in guidances:
            want("users", g["author_id"])
        while wanted:
            table, table_ids = wanted.popitem()
            ordered = sorted(table_ids)
            rows = await fetch(
                f"SELECT {table}.* FROM {table} WHERE {in_list(f'{table}.id', len(ordered))}",
                *ordered,
            )
            loaded.setdefault(table, {}).update((r["id"], r) for r in rows)

    def get(table: str, id_: int | None) -> Row | None:
        return loaded.get(table, {}).get(id_) if id_ is not None else None

    def user(id_: int | None) -> Row | None:
        row = get("users", id_)
        return resource("user", row, drop=("email", "bio", "website", "location")) if row else None

    def one(table: str, id_: int | None) -> Row | None:
        row = get(table, id_)
        return resource(TYPES[table], row) if row else None

    rendered_activities = []
    for a, a_refs in zip(activities, refs, strict=True):
        relationships: Row = {"actor": {"data": user(a["actor_user_id"])}}
        for name, ref_id in a_refs.items():
            if name in REF_TABLES:
                relationships[name] = {"data": one(REF_TABLES[name], ref_id)}
        relationships["attachments"] = {
            "data": [
                resource("attachment", x)
                for x in activity_attachments
                if x["activity_id"] == a["id"]
            ]
        }
        item = resource(a["type"], a, relationships, drop=("type", "refs"))
        item["attributes"].update(item["attributes"].pop("extra") or {})
        rendered_activities.append(item)
    relationships = {
        "reporter": {"data": user(report["reporter_id"])},
        "collaborators": {
            "data": [{"weight": c["weight"], "user": user(c["user_id"])} for c in collaborators]
        },
        "assignee": {
            "data": user(report["assignee_user_id"]) or one("groups", report["assignee_group_id"])
        },
        "program": {"data": one("programs", report["program_id"])},
        "severity": {"data": one("severities", report["severity_id"])},
        "swag": {"data": [resource("swag", s) for s in swags]},
        "attachments": {"data": [resource("attachment", x) for x in attachments]},
        "weakness": {"data": one("weaknesses", report["weakness_id"])},
        "structured_scope": {"data": one("structured_scopes", report["structured_scope_id"])},
        "campaign": {"data": one("campaigns", report["campaign_id"])},
        "activities": {"data": rendered_activities},
        "bounties": {"data": [resource("bounty", b) for b in bounties]},
        "summaries": {"data": [resource("report-summary", s) for s in summaries]},
        "inboxes": {"data": [resource("inbox", i) for i in inboxes]},
        "custom_field_values": {
            "data": [
                resource(
                    "custom-field-value",
                    v,
                    {
                        "custom_field_attribute": {
                            "data": one("custom_field_attributes", v["custom_field_attribute_id"])
                        }
                    },
                )
                for v in values
            ]
        },
    }
    document = {"data": resource("report", report, relationships)}
    return Response(
        orjson.dumps(document), media_type="application/json; charset=utf-8", headers=HEADERS
    )


# The locked read of a write: each part is (table, alias), its columns split off the row in order.
LOCKED = [
    ("reports", "reports"),
    ("programs", "programs"),
    ("severities", "severities"),
    ("weaknesses", "weaknesses"),
    ("structured_scopes", "structured_scopes"),
    ("users", "reporter"),
    ("users", "assignee"),
    ("groups", "groups"),
    ("inboxes", "inboxes"),
    ("users", "actor"),
]
COMMENT_EVENT = "report_comment_created"


def insert_sql(table: str, row: Row, first: int) -> str:
    columns = ", ".join(row)
    values = ", ".join(f"${n}" for n in range(first, first + len(row)))
    return f"INSERT INTO {table} ({columns}) VALUES ({values})"


def split_row(columns: dict[str, list[str]], row: tuple[Any, ...]) -> dict[str, Row]:
    parts: dict[str, Row] = {}
    start = 0
    for table, alias in LOCKED:
        names = columns[table]
        parts[alias] = dict(zip(names, row[start : start + len(names)], strict=True))
        start += len(names)
    return parts


def public_user(row: Row, *, stats: bool = False) -> Row | None:
    """A user as bountybox renders one in activities and payloads (reporters with their
    stats)."""
    if row["id"] is None:
        return None
    picture = row["profile_picture_url"] or "/assets/avatars/default.png"
    attributes = {
        "username": row["username"],
        "name": row["name"],
        "disabled": bool(row["disabled"]),
        "created_at": ts(row["created_at"]),
        "profile_picture": dict.fromkeys(("62x62", "82x82", "110x110", "260x260"), picture),
    }
    if stats:
        attributes.update(reputation=row["reputation"], signal=row["signal"], impact=row["impact"])
    return {"id": str(row["id"]), "type": "user", "attributes": attributes}


def present(type_: str, row: Row) -> Row | None:
    return resource(type_, row) if row["id"] is not None else None


async def create_comment(request: Request) -> Response:
    database: Database = request.app.state.database
    columns = request.app.state.columns
    attributes_in = orjson.loads(await request.body())["data"]["attributes"]
    message = str(attributes_in["message"])
    internal = bool(attributes_in.get("internal", False))
    report_id = int(request.path_params["id"])
    now = dt.datetime.now(dt.UTC)
    at = database.timestamp(now)
    async with database.writing() as fetch:
        token = await admin_token(fetch, database, request)
        if token is None:
            return forbidden()
        selected = ", ".join(f"{alias}.*" for _, alias in LOCKED)
        rows = await fetch(
            f"SELECT {selected}, {KINDS_PRESENT}, {database.ACTIVE_WEBHOOKS} AS active_webhooks"
            " FROM reports JOIN programs ON programs.id = reports.program_id"
            " LEFT OUTER JOIN severities ON severities.id = reports.severity_id"
            " LEFT OUTER JOIN weaknesses ON weaknesses.id = reports.weakness_id"
            " LEFT OUTER JOIN structured_scopes"
            " ON structured_scopes.id = reports.structured_scope_id"
            " LEFT OUTER JOIN users AS reporter ON reporter.id = reports.reporter_id"
            " LEFT OUTER JOIN users AS assignee ON assignee.id = reports.assignee_user_id"
            " LEFT OUTER JOIN groups ON groups.id = reports.assignee_group_id"
            " LEFT OUTER JOIN report_inboxes ON report_inboxes.report_id = reports.id"
            " LEFT OUTER JOIN inboxes ON inboxes.id = report_inboxes.inbox_id"
            " LEFT OUTER JOIN users AS actor ON actor.id = $2"
            f" WHERE reports.id = $1{database.LOCK}",
            report_id,
            token["user_id"],
            raw=True,
        )
        if not rows:
            return forbidden()
        parts = split_row(columns, rows[0])
        report = parts["reports"]
        if report["program_id"] not in token["visible"]:
            return forbidden()
        width = sum(len(columns[table]) for table, _ in LOCKED)
        kinds = {table for table, flag in zip(RARE, rows[0][width:-1], strict=True) if flag}
        hooks = rows[0][-1]
        hooks = orjson.loads(hooks) if isinstance(hooks, str) else hooks or []
        inboxes = [split_row(columns, r)["inboxes"] for r in rows]

        activity: Row = {
            "type": "activity-comment",
            "program_id": report["program_id"],
            "report_id": report_id,
            "actor_user_id": token["user_id"],
            "actor_is_program": False,
            "message": message,
            "message_html": f"<p>{html.escape(message)}</p>\n",
            "internal": internal,
            "extra": "{}",
            "refs": "{}",
            "created_at": at,
            "updated_at": at,
        }
        inserted = await fetch(
            f"{insert_sql('activities', activity, 1)} RETURNING id", *activity.values()
        )
        activity["id"] = inserted[0]["id"]
        touched = ["updated_at", "last_program_activity_at", "last_activity_at"]
        if not internal:
            touched.append("last_public_activity_at")
        await fetch(
            f"UPDATE reports SET {', '.join(f'{c} = $1' for c in touched)} WHERE id = $2",
            at,
            report_id,
        )
        for column in touched:
            report[column] = now

        rendered = resource(
            "activity-comment",
            {**activity, "created_at": now, "updated_at": now, "extra": None},
            {"actor": {"data": public_user(parts["actor"])}, "attachments": {"data": []}},
            drop=("type", "refs", "extra", "actor_is_program"),
        )
        appended: list[tuple[str, Row]] = [
            (
                "audit_log_items",
                {
                    "organization_id": token["organization_id"],
                    "program_id": report["program_id"],
                    "source_user_id": token["user_id"],
                    "event": "teams.reports.activities.create",
                    "source": f"User#{token['user_id']}",
                    "subject": f"Report#{report_id}",
                    "log": f"User#{token['user_id']} performed"
                    f" teams.reports.activities.create on Report#{report_id}",
                    "parameters": orjson.dumps(
                        {"id": str(report_id), "data": attributes_in}
                    ).decode(),
                    "user_agent": request.headers.get("user-agent"),
                    "source_ip": request.client.host if request.client else None,
                    "country": None,
                    "created_at": at,
                },
            )
        ]
        # An empty list of events wants them all.
        subscribed = [
            webhook_id for webhook_id, events in hooks if not events or COMMENT_EVENT in events
        ]
        if subscribed:
            # The payload's report has its bounties, collaborators and custom field values, when
            # the locked read says it has any.
            rare = {
                table: await fetch(RARE[table], report_id, raw=table == "custom_field_values")
                for table in ("bounties", "report_collaborators", "custom_field_values")
                if table in kinds
            }
            values_width = len(columns["custom_field_values"])
            relationships = {
                "reporter": {"data": public_user(parts["reporter"], stats=True)},
                "collaborators": {
                    "data": [
                        {"weight": c["weight"], "user": {"id": str(c["user_id"]), "type": "user"}}
                        for c in rare.get("report_collaborators", [])
                    ]
                },
                "assignee": {
                    "data": public_user(parts["assignee"]) or present("group", parts["groups"])
                },
                "program": {"data": present("program", parts["programs"])},
                "severity": {"data": present("severity", parts["severities"])},
                "weakness": {"data": present("weakness", parts["weaknesses"])},
                "structured_scope": {
                    "data": present("structured-scope", parts["structured_scopes"])
                },
                "bounties": {"data": [resource("bounty", b) for b in rare.get("bounties", [])]},
                "inboxes": {"data": [resource("inbox", i) for i in inboxes if i["id"]]},
                "custom_field_values": {
                    "data": [
                        resource(
                            "custom-field-value",
                            dict(
                                zip(columns["custom_field_values"], v[:values_width], strict=True)
                            ),
                        )
                        for v in rare.get("custom_field_values", [])
                    ]
                },
            }
            payload = {
                "data": {"activity": rendered, "report": resource("report", report, relationships)}
            }
            body = orjson.dumps(payload).decode()
            appended += [
                (
                    "webhook_deliveries",
                    {
                        "webhook_id": webhook_id,
                        "event": COMMENT_EVENT,
                        "guid": str(uuid.uuid4()),
                        "activity_id": activity["id"],
                        "report_id": report_id,
                        "redelivery_of_id": None,
                        "test": False,
                        "body": body,
                        "state": "pending",
                        "attempt_count": 0,
                        "next_attempt_at": at,
                        "created_at": at,
                    },
                )
                for webhook_id in subscribed
            ]
        await database.append(fetch, appended)
        await fetch(database.BUMP)
    return Response(
        orjson.dumps({"data": rendered}),
        201,
        media_type="application/json; charset=utf-8",
        headers=HEADERS,
    )


def make_database(url: str) -> Database:
    if url.startswith("sqlite"):
        return Sqlite(url.split(":///", 1)[1])
    return Postgres(url.replace("postgresql+asyncpg://", "postgresql://"))


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    database = make_database(os.environ["BENCH_DATABASE_URL"])
    await database.open()
    app.state.database = database
    async with database.reading() as fetch:
        app.state.columns = {
            table: [
                r["name"]
                for r in await fetch(
                    "SELECT column_name AS name FROM information_schema.columns"
                    " WHERE table_name = $1 AND table_schema = current_schema()"
                    " ORDER BY ordinal_position"
                    if isinstance(database, Postgres)
                    else "SELECT name FROM pragma_table_info($1) ORDER BY cid",
                    table,
                )
            ]
            for table in {
                "reports",
                *TO_ONES,
                *(table for table, _ in LOCKED),
                "custom_field_values",
                "custom_field_attributes",
            }
        }
    yield
    await database.close()


app = Starlette(
    routes=[
        Route("/v1/reports/{id:int}", get_report),
        Route("/v1/reports/{id:int}/activities", create_comment, methods=["POST"]),
    ],
    lifespan=lifespan,
)
