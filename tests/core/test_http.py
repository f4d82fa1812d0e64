"""The endpoint layer through HTTP (httpx over the ASGI app): authentication and the IP allow-list,
content negotiation, routing of unknown paths and methods, body parsing and validation, error
bodies, headers, and that bad input never writes, never answers 500 and never logs a traceback."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.routing import Match, NoMatchFound, Route

from bountybox.api import all_endpoints
from bountybox.app import create_app
from bountybox.config import Settings
from bountybox.core.clock import Clock
from bountybox.core.http import RouteTable, build_routes
from bountybox.db.models import Activity, Organization, Program, Report
from bountybox.domains.organizations.service import revoke_api_token
from tests.builders import Token, make_org, make_program, make_report, make_token, make_user

ON_POSTGRESQL = bool(os.environ.get("BOUNTYBOX_TEST_DATABASE_URL"))
JSON_TYPE = "application/json; charset=utf-8"
MIB = 1024 * 1024


@dataclass
class World:
    org: Organization
    program: Program
    report: Report
    token: Token


@pytest.fixture
async def world(session: AsyncSession) -> World:
    org = await make_org(session)
    program = await make_program(session, org, handle="acme")
    report = await make_report(session, program, reporter=await make_user(session))
    token = await make_token(session, org)
    return World(org=org, program=program, report=report, token=token)


def basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def assert_error(
    response: httpx.Response,
    status: int,
    *,
    title: str | None = None,
    parameter: str | None = None,
    context: object = None,
) -> dict[str, Any]:
    assert response.status_code == status, (context, response.text)
    assert response.headers["content-type"] == JSON_TYPE
    assert response.headers["cache-control"] == "no-cache"
    body = response.json()
    assert isinstance(body["errors"], list)
    assert len(body["errors"]) == 1
    error: dict[str, Any] = body["errors"][0]
    assert error["status"] == status
    if title is not None:
        assert error["title"] == title, context
    if parameter is not None:
        assert error["source"] == {"parameter": parameter}, context
    return error


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


async def row_counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        reports = await conn.scalar(select(func.count()).select_from(Report))
        activities = await conn.scalar(select(func.count()).select_from(Activity))
    return int(reports or 0), int(activities or 0)


@contextlib.asynccontextmanager
async def client_for(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


# ---- success basics -----------------------------------------------------------------------------


async def test_a_valid_token_gets_200_with_json_and_hackerone_headers(
    world: World, client: httpx.AsyncClient
) -> None:
    response = await client.get("/v1/me/programs", headers=world.token.header)

    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_TYPE
    assert response.headers["cache-control"] == "max-age=0, private, must-revalidate"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert [p["attributes"]["handle"] for p in response.json()["data"]] == ["acme"]


async def test_the_basic_scheme_name_is_case_insensitive(
    world: World, client: httpx.AsyncClient
) -> None:
    raw = world.token.header["Authorization"].removeprefix("Basic ")
    for scheme in ("basic", "BASIC"):
        response = await client.get("/v1/me/programs", headers={"Authorization": f"{scheme} {raw}"})
        assert response.status_code == 200, scheme


# ---- authentication -----------------------------------------------------------------------------


def _good(token: Token) -> bytes:
    return f"{token.identifier}:{token.value}".encode()


BAD_AUTHORIZATION: dict[str, Callable[[Token], dict[str, str]]] = {
    "missing": lambda _: {},
    "empty": lambda _: {"Authorization": ""},
    "bearer": lambda t: {"Authorization": f"Bearer {t.value}"},
    "token-scheme": lambda t: {"Authorization": f"Token {base64.b64encode(_good(t)).decode()}"},
    "scheme-only": lambda _: {"Authorization": "Basic"},
    "not-base64": lambda _: {"Authorization": "Basic !!!not-base64!!!"},
    "truncated-base64": lambda t: {
        "Authorization": "Basic " + base64.b64encode(_good(t)).decode()[:-3]
    },
    "not-utf8": lambda _: basic(b"\xff\xfe:\xfd"),
    "no-colon": lambda t: basic(t.identifier.encode()),
    "empty-identifier": lambda t: basic(f":{t.value}".encode()),
    "empty-secret": lambda t: basic(f"{t.identifier}:".encode()),
    "unknown-identifier": lambda t: basic(f"nobody:{t.value}".encode()),
    "wrong-secret": lambda t: basic(f"{t.identifier}:{t.value}x".encode()),
    "secret-of-another-identifier": lambda t: basic(f"{t.identifier}x:{t.value}".encode()),
}


async def test_bad_credentials_get_401_with_an_errors_body(
    world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    for case, make_headers in BAD_AUTHORIZATION.items():
        headers = make_headers(world.token)
        for path in ("/v1/me/programs", f"/v1/reports/{world.report.id}"):
            response = await client.get(path, headers=headers)
            assert_error(response, 401, title="Unauthorized", context=(case, path))

    assert_no_traceback(caplog)


async def test_a_bad_token_on_a_write_gets_401_and_writes_nothing(
    world: World, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    before = await row_counts(engine)

    response = await client.post(
        f"/v1/reports/{world.report.id}/activities",
        headers=basic(f"{world.token.identifier}:wrong".encode()),
        json=comment_body(),
    )

    assert_error(response, 401)
    assert await row_counts(engine) == before


async def test_revoked_token_gets_401(
    world: World, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/v1/me/programs", headers=world.token.header)).status_code == 200

    await revoke_api_token(session=session, clock=Clock(), identifier=world.token.identifier)
    await session.commit()

    for path in ("/v1/me/programs", f"/v1/reports/{world.report.id}", "/v1/unknown"):
        response = await client.get(path, headers=world.token.header)
        assert_error(response, 401, title="Unauthorized")


async def test_a_nul_byte_in_the_identifier_gets_401(
    world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get(
        "/v1/me/programs", headers=basic(f"a\x00b:{world.token.value}".encode())
    )

    assert_error(response, 401)
    assert_no_traceback(caplog)


# ---- IP allow-list ------------------------------------------------------------------------------


ALLOWLISTS: list[tuple[list[str], int]] = [
    (["10.0.0.0/8"], 403),
    (["127.0.0.2"], 403),
    (["::1/128"], 403),
    (["not-a-network"], 403),
    (["127.0.0.0/8"], 200),
    (["127.0.0.1"], 200),
    (["127.0.0.1/32"], 200),
    (["10.0.0.0/8", "127.0.0.1/32"], 200),
    (["not-a-network", "127.0.0.0/8"], 200),
    ([], 200),
]


async def test_the_organization_ip_allow_list_decides_between_200_and_403(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    # The ASGI transport's client address is 127.0.0.1.
    for allowlist, status in ALLOWLISTS:
        org = await make_org(session, allowlist=allowlist)
        await make_program(session, org)
        token = await make_token(session, org)

        response = await client.get("/v1/me/programs", headers=token.header)

        if status == 200:
            assert response.status_code == 200, (allowlist, response.text)
        else:
            assert_error(response, 403, context=allowlist)


async def test_outside_the_allow_list_every_path_is_403_but_a_bad_secret_is_still_401(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    org = await make_org(session, allowlist=["10.0.0.0/8"])
    program = await make_program(session, org)
    report = await make_report(session, program, reporter=await make_user(session))
    token = await make_token(session, org)

    for path in ("/v1/me/programs", f"/v1/reports/{report.id}", "/v1/nope", "/reports"):
        assert_error(await client.get(path, headers=token.header), 403)
    wrong = basic(f"{token.identifier}:wrong".encode())
    assert_error(await client.get("/v1/me/programs", headers=wrong), 401)


async def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    session: AsyncSession, settings: Settings, engine: AsyncEngine, clock: Clock
) -> None:
    org = await make_org(session, allowlist=["10.0.0.0/8"])
    token = await make_token(session, org)
    forwarded = {**token.header, "X-Forwarded-For": "192.0.2.1, 10.1.2.3"}

    trusting = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    async with client_for(create_app(trusting, engine=engine, clock=clock)) as client:
        assert (await client.get("/v1/me/programs", headers=forwarded)).status_code == 200
        # The last hop is the one the proxy saw; a spoofed first hop does not help.
        spoofed = {**token.header, "X-Forwarded-For": "10.1.2.3, 192.0.2.1"}
        assert_error(await client.get("/v1/me/programs", headers=spoofed), 403)

    async with client_for(create_app(settings, engine=engine, clock=clock)) as client:
        assert_error(await client.get("/v1/me/programs", headers=forwarded), 403)


# ---- content negotiation ------------------------------------------------------------------------


JSON_ACCEPTS = [
    "application/json",
    "application/json; charset=utf-8",
    "application/vnd.api+json",
    "application/javascript",
    "application/*",
    "*/*",
    "APPLICATION/JSON",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "text/html, application/json;q=0.1",
    "application/json, text/javascript, */*; q=0.01",
]


async def test_accept_headers_that_allow_json_are_served(
    world: World, client: httpx.AsyncClient
) -> None:
    for accept in JSON_ACCEPTS:
        response = await client.get(
            "/v1/me/programs", headers={**world.token.header, "Accept": accept}
        )
        assert response.status_code == 200, accept
        assert response.headers["content-type"] == JSON_TYPE


async def test_an_absent_accept_header_is_served(world: World, client: httpx.AsyncClient) -> None:
    request = client.build_request("GET", "/v1/me/programs", headers=world.token.header)
    del request.headers["accept"]
    assert "accept" not in request.headers

    response = await client.send(request)

    assert response.status_code == 200


async def test_accept_headers_that_exclude_json_get_406(
    world: World, client: httpx.AsyncClient
) -> None:
    for accept in ["text/html", "application/xml", "text/plain, text/html;q=0.9", "image/png"]:
        response = await client.get(
            "/v1/me/programs", headers={**world.token.header, "Accept": accept}
        )
        assert_error(response, 406, title="Not Acceptable", context=accept)
    # Content negotiation comes first, so it answers even without a token.
    assert_error(await client.get("/v1/me/programs", headers={"Accept": "text/html"}), 406)


# ---- routing ------------------------------------------------------------------------------------


UNKNOWN_PATHS = [
    "/reports",
    "/me/programs",
    "/",
    "/v2/reports",
    "/v1",
    "/v1/",
    "/v1/nope",
    "/v1/reports/1/nope",
    "/v1/programs/1/nope/2",
    "/v1/me",
]


async def test_unknown_paths_are_404_with_a_token_and_401_without(
    world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    for path in UNKNOWN_PATHS:
        with_token = await client.get(path, headers=world.token.header)
        assert_error(with_token, 404, title="Not Found", context=path)
        assert_error(await client.get(path), 401, context=path)
        posted = await client.post(path, headers=world.token.header, content=b"{}")
        assert_error(posted, 404, context=path)
    assert_no_traceback(caplog)


async def test_unknown_hacker_paths_are_always_401(world: World, client: httpx.AsyncClient) -> None:
    for path in ["/v1/hackers/me/reports", "/v1/hackers/programs", "/v1/hackers/any/thing"]:
        assert_error(await client.get(path, headers=world.token.header), 401, context=path)
        assert_error(await client.get(path), 401, context=path)
        assert_error(await client.delete(path, headers=world.token.header), 401, context=path)


WRONG_METHODS = [
    ("DELETE", "/v1/reports"),
    ("PUT", "/v1/reports"),
    ("PATCH", "/v1/me/programs"),
    ("POST", "/v1/me/programs"),
    ("DELETE", "/v1/reports/{id}"),
    ("PUT", "/v1/reports/{id}"),
    ("GET", "/v1/reports/{id}/state_changes"),
    ("GET", "/v1/reports/{id}/activities"),
]


async def test_a_wrong_method_on_a_known_path_is_404(
    world: World, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    before = await row_counts(engine)

    for method, path in WRONG_METHODS:
        url = path.format(id=world.report.id)
        response = await client.request(method, url, headers=world.token.header, content=b"{}")
        assert_error(response, 404, context=(method, url))
        assert_error(await client.request(method, url), 401, context=(method, url))

    assert await row_counts(engine) == before


@pytest.mark.parametrize("path", ["/v1/me/programs", "/v1/nope"])
async def test_options_is_a_wrong_method_too(
    path: str, world: World, client: httpx.AsyncClient
) -> None:
    assert_error(await client.options(path, headers=world.token.header), 404)


# ---- request bodies -----------------------------------------------------------------------------


def report_body(**attributes: Any) -> dict[str, Any]:
    base = {
        "team_handle": "acme",
        "title": "XSS",
        "vulnerability_information": "steps",
        "impact": "bad",
        "source": "import",
    }
    return {"data": {"type": "report", "attributes": {**base, **attributes}}}


def comment_body(**attributes: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "activity-comment",
            "attributes": {"message": "hello", "internal": True, **attributes},
        }
    }


REPORTS = "/v1/reports"
COMMENTS = "/v1/reports/{id}/activities"
STATE_CHANGES = "/v1/reports/{id}/state_changes"

BAD_BODIES: list[tuple[str, str, bytes, str, str | None]] = [
    # (id, path, body, title, source.parameter)
    ("malformed-json", REPORTS, b'{"data": {', "Bad Request", None),
    ("trailing-garbage", REPORTS, b'{"data": {}} x', "Bad Request", None),
    ("invalid-utf8", REPORTS, b'{"data": "\xff\xfe"}', "Bad Request", None),
    ("deeply-nested", REPORTS, b"[" * 5000 + b"]" * 5000, "Bad Request", None),
    ("huge-integer", REPORTS, b'{"data": 1' + b"0" * 400 + b"}", "Bad Request", None),
    ("empty-body", REPORTS, b"", "Invalid Parameter", "data"),
    ("whitespace-body", REPORTS, b"  \n ", "Invalid Parameter", "data"),
    ("top-level-array", REPORTS, b"[]", "Invalid Parameter", "data"),
    ("top-level-null", REPORTS, b"null", "Invalid Parameter", "data"),
    ("top-level-string", REPORTS, b'"report"', "Invalid Parameter", "data"),
    ("data-is-a-list", REPORTS, b'{"data": []}', "Invalid Parameter", "data"),
    ("data-missing", REPORTS, b'{"report": {}}', "Invalid Parameter", "data"),
    ("attributes-missing", REPORTS, b'{"data": {"type": "report"}}', "Invalid Parameter", None),
    (
        "title-is-a-number",
        REPORTS,
        orjson.dumps(report_body(title=5)),
        "Invalid Parameter",
        "title",
    ),
    (
        "title-is-blank",
        REPORTS,
        orjson.dumps(report_body(title="  ")),
        "Invalid Parameter",
        "title",
    ),
    (
        "team-handle-missing",
        REPORTS,
        orjson.dumps({"data": {"type": "report", "attributes": {"title": "t"}}}),
        "Invalid Parameter",
        "team_handle",
    ),
    (
        "severity-rating-unknown",
        REPORTS,
        orjson.dumps(report_body(severity_rating="urgent")),
        "Invalid Parameter",
        "severity_rating",
    ),
    (
        "weakness-id-is-text",
        REPORTS,
        orjson.dumps(report_body(weakness_id="abc")),
        "Invalid Parameter",
        "weakness_id",
    ),
    (
        "weakness-id-past-bigint",
        REPORTS,
        orjson.dumps(report_body(weakness_id=2**63)),
        "Invalid Parameter",
        "weakness_id",
    ),
    (
        "wrong-type",
        REPORTS,
        orjson.dumps({"data": {**report_body()["data"], "type": "bug"}}),
        "Invalid Parameter",
        "type",
    ),
    (
        "internal-is-a-string",
        COMMENTS,
        orjson.dumps(comment_body(internal="yes")),
        "Invalid Parameter",
        "internal",
    ),
    (
        "internal-is-a-number",
        COMMENTS,
        orjson.dumps(comment_body(internal=1)),
        "Invalid Parameter",
        "internal",
    ),
    (
        "message-is-a-number",
        COMMENTS,
        orjson.dumps(comment_body(message=5)),
        "Invalid Parameter",
        "message",
    ),
    (
        "message-is-empty",
        COMMENTS,
        orjson.dumps(comment_body(message="")),
        "Invalid Parameter",
        "message",
    ),
    (
        "attachment-ids-not-ids",
        COMMENTS,
        orjson.dumps(comment_body(attachment_ids=["x"])),
        "Invalid Parameter",
        "attachment_ids",
    ),
    (
        "comment-type-missing",
        COMMENTS,
        orjson.dumps({"data": {"attributes": {"message": "m", "internal": True}}}),
        "Invalid Parameter",
        "type",
    ),
    (
        "comment-malformed-json",
        COMMENTS,
        b'{"data": {"type": "activity-comment", "attributes": {"message": "m",}}}',
        "Bad Request",
        None,
    ),
    (
        "state-unknown",
        STATE_CHANGES,
        orjson.dumps({"data": {"type": "state-change", "attributes": {"state": "bogus"}}}),
        "Invalid Parameter",
        "state",
    ),
    (
        "state-is-a-list",
        STATE_CHANGES,
        orjson.dumps({"data": {"type": "state-change", "attributes": {"state": ["triaged"]}}}),
        "Invalid Parameter",
        "state",
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "title", "parameter"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_BODIES],
)
async def test_bad_bodies_get_400_naming_the_parameter_and_write_nothing(
    path: str,
    body: bytes,
    title: str,
    parameter: str | None,
    world: World,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = await row_counts(engine)

    response = await client.post(
        path.format(id=world.report.id),
        content=body,
        headers={**world.token.header, "Content-Type": "application/json"},
    )

    error = assert_error(response, 400, title=title, parameter=parameter)
    if title == "Invalid Parameter":
        assert "source" in error
        assert error["detail"]
    assert await row_counts(engine) == before
    assert_no_traceback(caplog)


async def test_valid_bodies_write_so_the_bad_body_cases_are_meaningful(
    world: World, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    reports, activities = await row_counts(engine)

    comment = await client.post(
        COMMENTS.format(id=world.report.id), json=comment_body(), headers=world.token.header
    )
    assert comment.status_code == 201, comment.text
    assert comment.headers["content-type"] == JSON_TYPE
    assert await row_counts(engine) == (reports, activities + 1)

    created = await client.post(REPORTS, json=report_body(), headers=world.token.header)
    assert created.status_code == 201, created.text
    assert (await row_counts(engine))[0] == reports + 1


async def test_a_valid_body_for_an_unknown_report_is_invalid_report_id(
    world: World, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    before = await row_counts(engine)

    for rid in ("999999", "abc", "9" * 30, "-1"):
        response = await client.post(
            COMMENTS.format(id=rid), json=comment_body(), headers=world.token.header
        )
        assert_error(response, 400, title="Invalid Parameter", parameter="report_id")

    assert await row_counts(engine) == before


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
async def test_a_body_over_the_limit_gets_413_and_writes_nothing(
    declared: bool,
    world: World,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = orjson.dumps(comment_body(message="x" * (2 * MIB)))
    assert len(payload) > 2 * MIB
    before = await row_counts(engine)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    response = await client.post(
        COMMENTS.format(id=world.report.id),
        content=payload if declared else chunks(),
        headers={**world.token.header, "Content-Type": "application/json"},
    )

    assert_error(response, 413, title="Payload Too Large")
    assert await row_counts(engine) == before
    assert_no_traceback(caplog)


async def test_a_body_just_under_the_limit_is_parsed(
    world: World, client: httpx.AsyncClient
) -> None:
    # A 60 KiB message: within both the 1 MiB body limit and the message length limit.
    response = await client.post(
        COMMENTS.format(id=world.report.id),
        json=comment_body(message="y" * 60_000),
        headers=world.token.header,
    )

    assert response.status_code == 201


async def test_a_get_with_a_json_content_type_and_no_body_works(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = {**world.token.header, "Content-Type": "application/json"}

    listed = await client.get("/v1/me/programs", headers=headers)
    single = await client.get(f"/v1/reports/{world.report.id}", headers=headers)
    with_body = await client.request(
        "GET", f"/v1/reports/{world.report.id}", headers=headers, content=b"{not json"
    )

    assert listed.status_code == 200
    assert single.status_code == 200
    assert with_body.status_code == 200
    assert single.json()["data"]["id"] == str(world.report.id)


async def test_a_nul_character_in_a_comment_is_not_a_server_error(
    world: World, client: httpx.AsyncClient, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    before = await row_counts(engine)

    response = await client.post(
        COMMENTS.format(id=world.report.id),
        json=comment_body(message="a\x00b"),
        headers=world.token.header,
    )

    assert response.status_code in (201, 400), response.text
    if response.status_code == 400:
        assert_error(response, 400, parameter="message")
        assert await row_counts(engine) == before
    assert_no_traceback(caplog)


# ---- query strings through HTTP -----------------------------------------------------------------


BAD_PAGES = [
    ("page[size]=101", "page[size]"),
    ("page[size]=0", "page[size]"),
    ("page%5Bsize%5D=-1", "page[size]"),
    ("page[size]=ten", "page[size]"),
    ("page[number]=0", "page[number]"),
    ("page[number]=401", "page[number]"),
    ("page[number]=101&page[size]=100", "page[number]"),
    ("page=2", "page"),
]


async def test_bad_page_parameters_get_400_naming_the_parameter(
    world: World, client: httpx.AsyncClient
) -> None:
    for query, parameter in BAD_PAGES:
        response = await client.get(f"/v1/me/programs?{query}", headers=world.token.header)
        assert_error(response, 400, title="Invalid Parameter", parameter=parameter, context=query)


async def test_page_400_is_still_reachable(world: World, client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me/programs?page[number]=400", headers=world.token.header)

    assert response.status_code == 200
    assert response.json()["data"] == []


async def test_pagination_links_are_absolute_encoded_and_keep_every_parameter(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    org = await make_org(session)
    for handle in ("p1", "p2", "p3"):
        await make_program(session, org, handle=handle)
    token = await make_token(session, org)

    response = await client.get(
        "/v1/me/programs?page[size]=1&page[number]=2&extra=a+b", headers=token.header
    )

    body = response.json()
    assert [p["attributes"]["handle"] for p in body["data"]] == ["p2"]
    prefix = "http://testserver/v1/me/programs?page%5Bsize%5D=1&extra=a+b&page%5Bnumber%5D="
    assert body["links"] == {
        "self": prefix + "2",
        "first": prefix + "1",
        "prev": prefix + "1",
        "next": prefix + "3",
        "last": prefix + "3",
    }
    last = await client.get(body["links"]["last"], headers=token.header)
    assert "next" not in last.json()["links"]
    assert [p["attributes"]["handle"] for p in last.json()["data"]] == ["p3"]


async def test_a_single_page_has_empty_links(world: World, client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me/programs?page[size]=100", headers=world.token.header)

    assert response.json()["links"] == {}


async def test_report_filters_parse_rack_forms_through_http(
    world: World, client: httpx.AsyncClient
) -> None:
    queries = [
        "filter[program][]=acme",
        "filter%5Bprogram%5D%5B%5D=acme",
        "filter[program][0]=acme",
        "filter[program][]=acme&filter[created_at__gt]=2017-12-04T15:38:00+00:00",
        "filter[program][]=acme&filter[created_at__gt]=2017-12-04T15:38:00%2B00:00",
        "filter[program][]=acme&filter[created_at__lt]=2099-01-01",
        "filter[program][]=acme&filter[custom_fields][][id__eq]=1"
        "&filter[custom_fields][][value__eq]=x%25",
    ]
    for query in queries:
        response = await client.get(f"/v1/reports?{query}", headers=world.token.header)
        assert response.status_code == 200, (query, response.text)
    found = await client.get(f"/v1/reports?{queries[3]}", headers=world.token.header)
    assert [r["id"] for r in found.json()["data"]] == [str(world.report.id)]


async def test_a_bad_date_filter_gets_400_naming_it(
    world: World, client: httpx.AsyncClient
) -> None:
    for value in ["yesterday", "2" * 100, "2017-02-30", "%00"]:
        response = await client.get(
            f"/v1/reports?filter[program][]=acme&filter[created_at__gt]={value}",
            headers=world.token.header,
        )
        assert_error(response, 400, parameter="filter[created_at__gt]", context=value)
    listed = await client.get(
        "/v1/reports?filter[program][]=acme&filter[created_at__gt][]=2017-12-04",
        headers=world.token.header,
    )
    assert_error(listed, 400, parameter="filter[created_at__gt]")


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00%2B10:00"])
async def test_an_out_of_range_date_filter_gets_400(
    value: str, world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get(
        f"/v1/reports?filter[program][]=acme&filter[created_at__gt]={value}",
        headers=world.token.header,
    )

    assert_error(response, 400, parameter="filter[created_at__gt]")
    assert_no_traceback(caplog)


@pytest.mark.parametrize("query", ["0=x", "filter[program][%C2%B2]=acme", "%C2%B2=1"])
async def test_odd_numeric_keys_are_not_a_server_error(
    query: str, world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    for path in ("/v1/me/programs", "/v1/reports"):
        response = await client.get(f"{path}?{query}", headers=world.token.header)
        assert response.status_code in (200, 400), (path, response.text)
    assert_no_traceback(caplog)


async def test_deeply_nested_query_keys_are_not_a_server_error(
    world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    query = "filter" + "[a]" * 600 + "=1"

    response = await client.get(f"/v1/me/programs?{query}", headers=world.token.header)

    assert response.status_code in (200, 400), response.text
    assert_no_traceback(caplog)


async def test_a_nul_character_in_a_query_value_is_not_a_server_error(
    world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/v1/reports?filter[program][]=ac%00me", headers=world.token.header)

    assert response.status_code in (200, 400), response.text
    assert_no_traceback(caplog)


def test_the_route_table_finds_what_trying_every_route_in_order_finds() -> None:
    """Every endpoint's path, with any value in its parameters, reaches the route that trying the
    routes one after the other (literal paths first) reaches; a shape no endpoint has reaches
    none, so the unknown-path route answers it."""
    (table,) = [r for r in build_routes(all_endpoints(), []) if isinstance(r, RouteTable)]
    in_order: list[Route] = table.routes
    paths = {e.path for e in all_endpoints()}
    samples = [p.replace("{", "").replace("}", "") for p in paths]  # {id} -> "id", a value
    samples += [p.replace("{id}", "attachments") for p in paths]
    samples += ["/v1/reports/1/", "/v1/nothing/here", "/v1", "/"]
    for path in samples:
        for method in ("GET", "POST", "HEAD"):
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            expected = next((r for r in in_order if r.matches(scope)[0] is Match.FULL), None)
            match, child = table.matches(scope)
            found = child.get("bountybox.route") if match is Match.FULL else None
            assert found is expected, (method, path)


def test_the_route_table_builds_paths_like_the_routes_it_holds() -> None:
    """Reverse routing (`url_path_for`) reaches through the table as Starlette's router reaches
    through a list: the first route that can build the path builds it."""
    (table,) = [r for r in build_routes(all_endpoints(), []) if isinstance(r, RouteTable)]
    name = table.routes[0].name
    first = table.routes[[r.param_convertors.keys() for r in table.routes].index({"id"})]
    assert table.url_path_for(name, id="7") == first.url_path_for(name, id="7")
    with pytest.raises(NoMatchFound):
        table.url_path_for("no-such-route")
