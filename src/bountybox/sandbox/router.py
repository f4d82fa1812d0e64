"""The control plane's small endpoint layer: `@router.operation("POST", "/_sandbox/reset")` declares
a handler; around it the bearer token is checked, the JSON body parsed and validated, errors are
rendered as the API renders them, and the result is sent as JSON (204 when a handler returns
nothing). No API token, rate limit or audit trail: this is the operator's interface."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bountybox.core.errors import AppError, InvalidParameter, NotFound
from bountybox.core.http import (
    COMMON_HEADERS,
    AppState,
    exception_response,
    json_response,
    read_json,
)
from bountybox.sandbox.state import Sandbox

# Inline packs can be large.
MAX_BODY_BYTES = 64 * 1024 * 1024

Handler = Callable[..., Awaitable[Any]]
H = TypeVar("H", bound=Handler)


class MethodNotAllowed(AppError):
    status = 405
    title = "Method Not Allowed"


@dataclass
class SandboxContext:
    request: Request
    sandbox: Sandbox
    state: AppState


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    body: type[BaseModel] | None
    status: int
    summary: str


@dataclass
class SandboxRouter:
    operations: list[Operation] = field(default_factory=list)

    def operation(
        self, method: str, path: str, *, body: type[BaseModel] | None = None, status: int = 200
    ) -> Callable[[H], H]:
        def register(handler: H) -> H:
            summary = (handler.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
            self.operations.append(Operation(method, path, handler, body, status, summary))
            return handler

        return register

    def routes(self) -> list[Route]:
        """One route per path, and a catch-all that answers 404 (after the token check)."""
        by_path: dict[str, dict[str, Operation]] = {}
        for op in self.operations:
            by_path.setdefault(op.path, {})[op.method] = op
        every_method = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        ordered = sorted(by_path.items(), key=lambda item: item[0].count("{"))
        routes = [Route(path, _dispatcher(ops), methods=every_method) for path, ops in ordered]
        routes.append(Route("/_sandbox/{rest:path}", _dispatcher({}), methods=every_method))
        routes.append(Route("/_sandbox", _dispatcher({}), methods=every_method))
        return routes


def _dispatcher(ops: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
    async def dispatch(request: Request) -> Response:
        try:
            sandbox: Sandbox = request.app.state.sandbox
            sandbox.authorize(request.headers.get("authorization"))
            if not ops:
                raise NotFound("The sandbox has no such operation; see docs/sandbox.md.")
            op = ops.get(request.method)
            if op is None:
                raise MethodNotAllowed(
                    f"{request.method} is not served here.", headers={"Allow": ", ".join(ops)}
                )
            return await _run(request, op, sandbox)
        except Exception as exc:
            return exception_response(request, exc)

    return dispatch


async def _run(request: Request, op: Operation, sandbox: Sandbox) -> Response:
    kwargs: dict[str, Any] = dict(request.path_params)
    if op.body is not None:
        data = await read_json(request, MAX_BODY_BYTES, optional=True)
        kwargs["body"] = validated(op.body, data)
    ctx = SandboxContext(request, sandbox, request.app.state.bountybox)
    result = await op.handler(ctx, **kwargs)
    if result is None:
        return Response(status_code=204, headers=COMMON_HEADERS)
    return json_response(result, op.status, COMMON_HEADERS)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: Any) -> M:
    """The body as `model`; the first problem names its place in the body (a.b.0.c)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "data"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidParameter(where, f"{where}: {message}") from None
