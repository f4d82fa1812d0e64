"""Server entry point: Granian calls make_app() in each worker process."""

from __future__ import annotations

import logging

from starlette.applications import Starlette

from bountybox.app import create_app
from bountybox.config import Settings


def make_app() -> Starlette:
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper())
    return create_app(settings)
