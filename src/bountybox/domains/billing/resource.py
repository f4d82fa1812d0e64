"""Payment transactions as HackerOne lists them: flat objects (not JSON:API) with integer ids, one
per payment (a bounty, its bonus and fee together), each with the running balance after it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bountybox.core.jsonapi.render import Json, money, ts
from bountybox.db.models import LedgerTransaction, Program, User

KIND_TYPES = {
    "top_up": "deposit",
    "bounty": "payment",
    "bonus": "payment",
    "fee": "payment",
    "retest": "payment",
}


def render_transactions(
    rows: Sequence[LedgerTransaction],
    program: Program,
    users: dict[int, User],
    *,
    since: dt.datetime,
) -> list[Json]:
    """`rows` are the program's ledger up to the end of the period, oldest first."""
    groups: list[list[LedgerTransaction]] = []
    by_bounty: dict[int, list[LedgerTransaction]] = {}
    for row in rows:
        if row.bounty_id is not None:
            if row.bounty_id not in by_bounty:
                by_bounty[row.bounty_id] = []
                groups.append(by_bounty[row.bounty_id])
            by_bounty[row.bounty_id].append(row)
        else:
            groups.append([row])
    running = 0
    items: list[Json] = []
    for group in groups:
        total = sum(r.amount_cents for r in group)
        running += total
        first = group[0]
        if first.created_at < since:
            continue
        award = -sum(r.amount_cents for r in group if r.kind in ("bounty", "bonus", "retest"))
        fee = -sum(r.amount_cents for r in group if r.kind == "fee")
        user = users.get(next((r.user_id for r in group if r.user_id), 0))
        relationships: Json = {
            "team": {
                "data": {"id": program.id, "type": "team"},
                "attributes": {"handle": program.handle},
                "links": {"self": f"/{program.handle}"},
            }
        }
        if first.report_id is not None:
            relationships["report"] = {
                "data": {"id": first.report_id, "type": "report"},
                "links": {"self": f"/reports/{first.report_id}"},
            }
        if user is not None:
            relationships["user"] = {
                "data": {"id": user.id, "type": "user"},
                "attributes": {"username": user.username},
                "links": {"self": f"/{user.username}"},
            }
        items.append(
            {
                "id": first.id,
                "activity_date": ts(first.created_at),
                "activity_description": first.description,
                "bounty_award": money(award),
                "bounty_fee": money(fee),
                "debit_or_credit_amount": money(total),
                "balance": money(running),
                "payment_transaction_type": KIND_TYPES.get(first.kind, first.kind),
                "relationships": relationships,
            }
        )
    return items
