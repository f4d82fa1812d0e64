"""The endpoint layer. `@router.endpoint("GET", "/v1/reports/{id}")` declares a handler; the layer
around it does content negotiation, authentication, rate limiting, body parsing and validation, the
one transaction per request (committed before the response is sent, rolled back on any error), error
mapping and orjson rendering. Handlers receive a Context and return a JSON document (or a Response).
Starlette routing sits underneath; nothing here knows about any domain."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette._utils import get_route_path
from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from bountybox.config import Settings
from bountybox.core.audit import audit_item, audit_scope, event_name, write_at_commit
from bountybox.core.auth import Actor, TokenCache, TokenKind, authenticate, parse_basic
from bountybox.core.cache import Key as CacheKey
from bountybox.core.cache import ResponseCache
from bountybox.core.clock import Clock
from bountybox.core.errors import (
    AppError,
    BadRequest,
    InvalidParameter,
    NotAcceptable,
    NotFound,
    Unauthenticated,
    Unavailable,
    Unprocessable,
)
from bountybox.core.jsonapi.links import page_links
from bountybox.core.jsonapi.query import Page, Params, parse_page, parse_query
from bountybox.core.jsonapi.render import Json, document
from bountybox.core.ratelimit import Budget, RateLimiter
from bountybox.core.storage import Storage
from bountybox.db.feed import VersionFeed

log = logging.getLogger("bountybox")

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
ACCEPTABLE = (
    "application/json",
    "application/vnd.api+json",
    "application/javascript",
    "*/*",
    "application/*",
)
COMMON_HEADERS = {
    "Cache-Control": "max-age=0, private, must-revalidate",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
ERROR_HEADERS = {**COMMON_HEADERS, "Cache-Control": "no-cache"}

Handler = Callable[..., Awaitable[Any]]
H = TypeVar("H", bound=Handler)


@dataclass
class AppState:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    limiter: RateLimiter
    clock: Clock
    storage: Storage
    secret: str
    cache: ResponseCache
    tokens: TokenCache
    # The data version pushed by PostgreSQL (db/feed.py); None on SQLite and in sandboxes.
    feed: VersionFeed | None = None


@dataclass
class Context:
    """Everything a handler may use for one request."""

    request: Request
    session: AsyncSession
    actor: Actor
    clock: Clock
    settings: Settings
    params: Params
    pairs: list[tuple[str, str]]
    storage: Storage
    secret: str
    post_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Side effects outside the database (files, network) run once the transaction commits."""
        self.post_commit.append(action)

    @property
    def root_url(self) -> str:
        """Scheme, host and port the client used, for absolute links."""
        return str(self.request.base_url).rstrip("/")

    @property
    def base_url(self) -> str:
        return str(self.request.url.replace(query=""))

    def url_for_path(self, path: str) -> str:
        return str(self.request.url.replace(path=path, query=""))

    def page(self, *, max_size: int = 100, size_alias: str | None = None) -> Page:
        return parse_page(self.params, max_size=max_size, size_alias=size_alias)

    def list_document(
        self, data: list[Json], page: Page, total: int | None, *, meta: Json | None = None
    ) -> Json:
        return document(data, links=page_links(self.base_url, self.pairs, page, total), meta=meta)

    @property
    def client_ip(self) -> str | None:
        return self.request.client.host if self.request.client else None


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    budget: Budget
    body: type[BaseModel] | None
    body_optional: bool
    status: int
    auth: TokenKind
    summary: str
    # The encoded response is kept per token and URL while the data is unchanged (core/cache.py):
    # only for responses that depend on nothing but the database, the request and the token.
    cached: bool = False

    @property
    def audit_event(self) -> str:
        return event_name(self.method, self.path)


RawHandler = Callable[[Request], Awaitable[Response]]


@dataclass
class Router:
    endpoints: list[Endpoint] = field(default_factory=list)
    raw_routes: list[Route] = field(default_factory=list)

    def raw(self, method: str, path: str) -> Callable[[RawHandler], RawHandler]:
        """A plain Starlette route outside the API layer (no token, no JSON): signed downloads."""

        def register(handler: RawHandler) -> RawHandler:
            self.raw_routes.append(Route(path, handler, methods=[method]))
            return handler

        return register

    def endpoint(
        self,
        method: str,
        path: str,
        *,
        body: type[BaseModel] | None = None,
        body_optional: bool = False,
        status: int = 200,
        budget: Budget | None = None,
        auth: TokenKind = TokenKind.ORGANIZATION,
        cached: bool = False,
    ) -> Callable[[H], H]:
        def register(handler: H) -> H:
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=path,
                    handler=handler,
                    budget=budget or (Budget.READS if method == "GET" else Budget.WRITES),
                    body=body,
                    body_optional=body_optional,
                    status=status,
                    auth=auth,
                    cached=cached,
                    summary=(handler.__doc__ or "").strip().splitlines()[0]
                    if handler.__doc__
                    else "",
                )
            )
            return handler

        return register


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return encoded_response(orjson.dumps(payload), status, headers)


def encoded_response(body: bytes, status: int, headers: dict[str, str] | None) -> Response:
    return Response(body, status_code=status, media_type=JSON_MEDIA_TYPE, headers=headers)


def error_response(error: AppError) -> Response:
    return json_response(error.body(), error.status, {**ERROR_HEADERS, **error.headers})


def check_accept(request: Request) -> None:
    accept = request.headers.get("accept")
    if not accept:
        return
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ACCEPTABLE or media == "":
            return
    raise NotAcceptable("The API serves application/json only.")


async def read_json(request: Request, limit: int, *, optional: bool = False) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip() and optional:
        return {}
    if not raw.strip():
        raise InvalidParameter("data", "The request body is empty; a JSON document is required.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("The request body is not valid JSON.") from None
    if b"\\u0000" in raw:
        reject_nul(data, "data")
    return data


def reject_nul(value: Any, parameter: str) -> None:
    """PostgreSQL cannot store U+0000 in text; refuse it up front on both databases."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidParameter(parameter, "NUL characters are not allowed.")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(item, str(key))
    elif isinstance(value, list):
        for item in value:
            reject_nul(item, parameter)


class PayloadTooLarge(AppError):
    status = 413
    title = "Payload Too Large"


def validation_error(exc: ValidationError) -> InvalidParameter:
    errors = exc.errors()
    # An attribute the endpoint does not know is the most telling complaint (strict bodies).
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    names = [str(p) for p in first.get("loc", ()) if isinstance(p, str)]
    # HackerOne's wording exactly: "The parameter 'severity_rating' is invalid."
    return InvalidParameter(names[-1] if names else "data")


def parse_body(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def client_ip(request: Request, settings: Settings) -> str | None:
    host = request.client.host if request.client else None
    if host and host in settings.trusted_proxies:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return host


def database_error(exc: Exception) -> AppError | None:
    """Database trouble that is not a bug: unreachable or busy (503), or a write that lost a race
    against a concurrent one (422)."""
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == "22021":
        return InvalidParameter("data", "The request holds characters the database cannot store.")
    if isinstance(exc, IntegrityError):
        return Unprocessable("The change conflicts with a concurrent change; retry the request.")
    unreachable = isinstance(
        exc, OperationalError | InterfaceError | ConnectionError | TimeoutError
    )
    if unreachable or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return Unavailable(
            "The database is unavailable; retry shortly.", headers={"Retry-After": "1"}
        )
    return None


def exception_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, AppError):
        return error_response(exc)
    mapped = database_error(exc)
    if mapped is not None:
        log.warning("%s on %s %s: %s", mapped.status, request.method, request.url.path, exc)
        return error_response(mapped)
    return internal_error(request)


def internal_error(request: Request) -> Response:
    error_id = uuid.uuid4().hex
    log.exception("unhandled error %s on %s %s", error_id, request.method, request.url.path)
    return json_response(
        {
            "errors": [
                {"status": 500, "title": "Internal Server Error", "detail": f"Error id {error_id}."}
            ]
        },
        500,
        {**ERROR_HEADERS, "X-Request-Id": error_id},
    )


def transaction_options(session: AsyncSession, request: Request) -> dict[str, Any]:
    """Writes: SQLite takes the write lock up front, so writers queue instead of failing. Reads on
    PostgreSQL run without BEGIN and COMMIT: at READ COMMITTED every statement of a transaction
    takes its own snapshot anyway, so the transaction adds two round trips and no consistency.
    (A read that tried to write would fail its test: tests/conftest.py refuses writes there.)"""
    if request.method != "GET":
        return {"sqlite_begin": "IMMEDIATE"}
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return {"isolation_level": "AUTOCOMMIT"}
    return {}


async def admit(
    state: AppState, endpoint: Endpoint, request: Request, actor: Actor
) -> tuple[CacheKey | None, bytes | None]:
    """What every request passes once its actor is known: the token's kind, the rate limit, and
    the cached response when the endpoint keeps one (its key, and its body when current)."""
    if actor.kind != endpoint.auth:
        raise Unauthenticated("This API token cannot be used on this endpoint.")
    identifier = (
        parse_basic(request.headers.get("authorization"))[0] if state.limiter.exempt else None
    )
    await state.limiter.hit(endpoint.budget, str(actor.token_id), identifier=identifier)
    if not (endpoint.cached and state.cache.enabled):
        return None, None
    key = (actor.token_id, str(request.url))
    return key, state.cache.get(key, actor.data_version)


async def run_endpoint(request: Request, endpoint: Endpoint) -> Response:
    state: AppState = request.app.state.bountybox
    try:
        check_accept(request)
        authorization = request.headers.get("authorization")
        ip = client_ip(request, state.settings)
        # A read while the database is known unchanged: its token's actor from memory, and its
        # document too when it is cached (writes always read their token in their transaction).
        actor = state.tokens.actor(authorization, ip) if request.method == "GET" else None
        if actor is not None:
            cache_key, body = await admit(state, endpoint, request, actor)
            if body is not None:
                return encoded_response(body, endpoint.status, COMMON_HEADERS)
        async with state.sessionmaker() as session, session.begin():
            await session.connection(execution_options=transaction_options(session, request))
            if actor is None:
                actor = await authenticate(session, authorization, ip, state.tokens)
                cache_key, body = await admit(state, endpoint, request, actor)
                if body is not None:
                    return encoded_response(body, endpoint.status, COMMON_HEADERS)
            kwargs: dict[str, Any] = dict(request.path_params)
            data: Any = None
            if endpoint.body is not None:
                data = await read_json(
                    request, state.settings.max_body_bytes, optional=endpoint.body_optional
                )
                kwargs["body"] = parse_body(endpoint.body, data)
            params, pairs = parse_query(request.url.query)
            ctx = Context(
                request=request,
                session=session,
                actor=actor,
                clock=state.clock,
                settings=state.settings,
                params=params,
                pairs=pairs,
                storage=state.storage,
                secret=state.secret,
            )
            if request.method == "GET":
                result = await endpoint.handler(ctx, **kwargs)
            else:
                with audit_scope() as scope:
                    result = await endpoint.handler(ctx, **kwargs)
                item = audit_item(
                    scope,
                    actor=actor,
                    event=endpoint.audit_event,
                    parameters={**request.path_params, **(data or {})},
                    source_ip=ctx.client_ip,
                    user_agent=request.headers.get("user-agent"),
                    at=state.clock.now(),
                )
                await write_at_commit(session, item)
        for action in ctx.post_commit:
            try:
                await action()
            except Exception:
                log.exception(
                    "after-commit action failed on %s %s", request.method, request.url.path
                )
        if isinstance(result, Response):
            return result
        body = orjson.dumps(result)
        if cache_key is not None:
            state.cache.put(cache_key, actor.data_version, body)
        return encoded_response(body, endpoint.status, COMMON_HEADERS)
    except Exception as exc:
        return exception_response(request, exc)


async def unrouted(request: Request) -> Response:
    """Unknown paths: 401 without a valid token (and always under /v1/hackers/, as HackerOne
    does), 404 otherwise."""
    state: AppState = request.app.state.bountybox
    try:
        if request.url.path.startswith("/v1/hackers/"):
            raise Unauthenticated("Unknown path.")
        check_accept(request)
        async with state.sessionmaker() as session, session.begin():
            await authenticate(
                session, request.headers.get("authorization"), client_ip(request, state.settings)
            )
        raise NotFound("The requested resource could not be found.")
    except Exception as exc:
        return exception_response(request, exc)


def build_routes(endpoints: list[Endpoint], raw_routes: list[Route]) -> list[BaseRoute]:
    """One Starlette route per path; a method a path does not serve answers like an unknown path."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for endpoint in endpoints:
        methods = by_path.setdefault(endpoint.path, {})
        if endpoint.method in methods:
            raise ValueError(f"duplicate endpoint {endpoint.method} {endpoint.path}")
        methods[endpoint.method] = endpoint

    def dispatcher(methods: dict[str, Endpoint]) -> Callable[[Request], Awaitable[Response]]:
        async def dispatch(request: Request) -> Response:
            endpoint = methods.get(request.method)
            if endpoint is None:
                return await unrouted(request)
            return await run_endpoint(request, endpoint)

        return dispatch

    every_method = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    routes: list[BaseRoute] = [*raw_routes]
    # Literal paths before templated ones: /v1/reports/attachments must not match /v1/reports/{id}.
    ordered = sorted(by_path.items(), key=lambda item: item[0].count("{"))
    routes.append(
        RouteTable([Route(path, dispatcher(m), methods=every_method) for path, m in ordered])
    )
    routes.append(
        Route(
            "/{path:path}",
            unrouted,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        )
    )
    return routes


class RouteTable(BaseRoute):
    """The API's routes, looked up by the shape of the path (its number of segments and its first
    two) instead of tried one after the other: Starlette matched /v1/reports/{id} against 50
    patterns before it, 0.1 ms of every report read. Within a shape, routes keep their order."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self.by_shape: dict[tuple[int, str, str], list[Route]] = {}
        for route in routes:
            self.by_shape.setdefault(self.shape(route.path), []).append(route)

    @staticmethod
    def shape(path: str) -> tuple[int, str, str]:
        parts = path.split("/")
        # Templated first segments ("/{x}") are not used: every API path starts with literals.
        return len(parts), parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            path = get_route_path(scope)
            for route in self.by_shape.get(self.shape(path), ()):
                match, child = route.matches(scope)
                if match is Match.FULL:
                    return match, {**child, "bountybox.route": route}
        # A method a route does not serve (HEAD) falls through to the unknown-path route.
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["bountybox.route"].handle(scope, receive, send)
