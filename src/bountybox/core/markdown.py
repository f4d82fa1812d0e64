"""Markdown to safe HTML.

Report text, comments and program policies are written by people we do not trust, and clients
show the `*_html` attributes inside their own pages. So the source is parsed with raw HTML
disabled, and whatever the renderer produces is then run through an allow-list sanitizer (nh3)
anyway: a renderer bug or an odd link destination must not become script in a reader's browser.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Final
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token

# Texts above this size are rendered on every call instead of being cached: the cache is bounded
# by entry count, so large entries would let a few huge reports pin a lot of memory.
CACHEABLE_CHARS: Final = 16 * 1024
CACHE_SIZE: Final = 4096

LINK_REL: Final = "nofollow noopener noreferrer"
LINK_SCHEMES: Final = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES: Final = frozenset({"http", "https"})

ALLOWED_TAGS: Final = frozenset(
    {
        "p", "br", "hr",
        "h1", "h2", "h3", "h4", "h5", "h6",
        "strong", "em", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li",
        "a", "img",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: Final = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title"}),
    "ol": frozenset({"start"}),
}
# Dropped together with everything inside them, not just unwrapped, so no stray script source
# or style sheet ends up as visible text.
CLEAN_CONTENT_TAGS: Final = frozenset({"script", "style"})

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# Browsers ignore ASCII whitespace and control characters inside a scheme ("java\tscript:").
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")


def _url_allowed(url: str, schemes: frozenset[str]) -> bool:
    """Relative URLs have no scheme and stay on the reader's own site, so they pass.

    The percent-decoded form is checked too: "java%09script:" is a harmless relative path to a
    browser, but nothing legitimate looks like that, and a consumer that decodes URLs before use
    (some clients render `*_html` outside a browser) would see a script link.
    """
    for candidate in (url, unquote(url)):
        match = _SCHEME.match(_IGNORED_IN_SCHEME.sub("", candidate))
        if match is not None and match.group(1).lower() not in schemes:
            return False
    return True


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # nh3 already limits schemes for every URL attribute; this narrows <img src> further, since
    # a mailto: image makes no sense, and re-checks href as a second line of defence.
    if tag == "img" and attribute == "src":
        return value if _url_allowed(value, IMAGE_SCHEMES) else None
    if tag == "a" and attribute == "href":
        return value if _url_allowed(value, LINK_SCHEMES) else None
    return value


_TOO_DEEP: Final = "bountybox_too_deep"


class _DepthReportingBlockParser(ParserBlock):
    """markdown-it stops following blocks nested past `maxNesting` (a guard against runaway
    recursion) and silently drops the rest of the text. Dropped words would let a writer hide
    text from whoever reads the rendering, so the parse is flagged and the caller falls back to
    showing the text plainly."""

    def tokenize(self, state: StateBlock, startLine: int, endLine: int) -> None:
        if state.level >= state.md.options.maxNesting:
            state.env[_TOO_DEEP] = True
        super().tokenize(state, startLine, endLine)


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)
_block_parser = _DepthReportingBlockParser()
_block_parser.ruler = _markdown.block.ruler
_markdown.block = _block_parser


def markdown_tokens(text: str) -> list[Token] | None:
    """The token stream of text as bountybox reads Markdown (CommonMark, tables,
    strikethrough, no raw HTML), or None when it nests too deeply to be parsed completely."""
    env: dict[str, object] = {}
    tokens = _markdown.parse(text, env)
    return None if env.get(_TOO_DEEP) else tokens


def _plain_html(text: str) -> str:
    paragraphs = (part.strip("\n") for part in re.split(r"\n\s*\n", text))
    return "".join(
        "<p>" + html.escape(part, quote=False).replace("\n", "<br>\n") + "</p>\n"
        for part in paragraphs
        if part
    )


_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=CLEAN_CONTENT_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel=LINK_REL,
    generic_attribute_prefixes=frozenset(),
    url_schemes=LINK_SCHEMES,
    allowed_classes={},
    filter_style_properties=frozenset(),
)


def sanitize_html(fragment: str) -> str:
    """Reduce any HTML fragment to the allow-list that rendered Markdown may contain."""
    return _cleaner.clean(fragment)


def _render(text: str) -> str:
    tokens = markdown_tokens(text)
    if tokens is None:
        return sanitize_html(_plain_html(text))
    return sanitize_html(_markdown.renderer.render(tokens, _markdown.options, {}))


_render_cached = lru_cache(maxsize=CACHE_SIZE)(_render)


def render_markdown(text: str | None) -> str | None:
    """Render user-written Markdown (CommonMark, tables, strikethrough) as sanitized HTML."""
    if text is None:
        return None
    if len(text) > CACHEABLE_CHARS:
        return _render(text)
    return _render_cached(text)


def html_of(stored: str | None, text: str | None) -> str | None:
    """The HTML of a text whose rendering is stored when it is written (report texts, activity
    messages): the stored HTML, or, for rows written before it was stored, the text rendered now."""
    return stored if stored is not None else render_markdown(text)
