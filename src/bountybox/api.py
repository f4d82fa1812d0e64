"""The one list of every domain's endpoints, in catalogue order."""

from __future__ import annotations

from starlette.routing import Route

from bountybox.core.http import Endpoint
from bountybox.domains.activities.routes import router as activities
from bountybox.domains.hackers.routes import router as hackers
from bountybox.domains.organizations.routes import router as organizations
from bountybox.domains.programs.routes import router as programs
from bountybox.domains.reports.routes import router as reports
from bountybox.domains.users.routes import router as users
from bountybox.domains.webhooks.routes import router as webhooks

ROUTERS = [activities, organizations, programs, reports, users, webhooks, hackers]


def all_endpoints() -> list[Endpoint]:
    return [endpoint for router in ROUTERS for endpoint in router.endpoints]


def raw_routes() -> list[Route]:
    return [route for router in ROUTERS for route in router.raw_routes]
