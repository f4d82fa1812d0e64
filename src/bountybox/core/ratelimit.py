"""Per-token request budgets (reads, report reads, writes), shared across processes through Redis
when BOUNTYBOX_REDIS_URL is set, kept in process memory otherwise."""

from __future__ import annotations

import math
import time
from enum import StrEnum

from limits import parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from bountybox.config import Settings
from bountybox.core.errors import RateLimited


class Budget(StrEnum):
    READS = "reads"
    REPORT_READS = "report_reads"
    # GET /hackers/programs/{handle}/structured_scopes: 50 per minute on HackerOne.
    SCOPE_READS = "scope_reads"
    WRITES = "writes"


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        self.namespace = settings.rate_limit_namespace
        uri = f"async+{settings.redis_url}" if settings.redis_url else "async+memory://"
        self.storage = storage_from_string(uri)
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)
        self.limits = {
            Budget.READS: parse(settings.rate_limit_reads),
            Budget.REPORT_READS: parse(settings.rate_limit_report_reads),
            Budget.SCOPE_READS: parse(settings.rate_limit_scope_reads),
            Budget.WRITES: parse(settings.rate_limit_writes),
        }
        # Benchmark and load-test tokens: still counted, so the limiter's cost is measured with
        # everything else, but against a budget no client reaches.
        self.exempt = frozenset(settings.rate_limit_exempt_tokens)
        self.lifted = parse(f"{10**12} per 1 second")

    async def hit(self, budget: Budget, key: str, *, identifier: str | None = None) -> None:
        """`identifier` is the token's identifier, checked against the exempt tokens."""
        if not self.enabled:
            return
        item = self.lifted if identifier in self.exempt else self.limits[budget]
        if await self.strategy.hit(item, self.namespace, budget.value, key):
            return
        stats = await self.strategy.get_window_stats(item, self.namespace, budget.value, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"Rate limit exceeded: {item.amount} {budget.value.replace('_', ' ')} "
            f"per {item.get_expiry()} seconds. Retry after {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )

    async def reset(self) -> None:
        await self.storage.reset()  # type: ignore[misc]
