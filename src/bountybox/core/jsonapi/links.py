"""Absolute pagination links that repeat every parameter of the request, with the brackets
percent-encoded as HackerOne sends them (`filter%5Bprogram%5D%5B%5D=acme&page%5Bnumber%5D=2`)."""

from __future__ import annotations

from urllib.parse import urlencode

from bountybox.core.jsonapi.query import Page
from bountybox.core.jsonapi.render import Json


def page_links(base_url: str, pairs: list[tuple[str, str]], page: Page, total: int | None) -> Json:
    """`{}` when one page holds everything; else self, first, prev, next and last as they apply.
    An unknown total (None: more rows than were counted) gives `next` and no `last`."""
    last = max(1, -(-total // page.size)) if total is not None else None
    if last == 1 and page.number == 1:
        return {}
    kept = [(k, v) for k, v in pairs if k != "page[number]"]

    def url(number: int) -> str:
        return f"{base_url}?{urlencode([*kept, ('page[number]', str(number))])}"

    links: Json = {"self": url(page.number), "first": url(1)}
    if page.number > 1:
        links["prev"] = url(page.number - 1 if last is None else min(page.number - 1, last))
    if last is None or page.number < last:
        links["next"] = url(page.number + 1)
    if last is not None:
        links["last"] = url(last)
    return links
