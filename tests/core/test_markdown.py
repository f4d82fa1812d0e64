from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from bountybox.core.markdown import CACHEABLE_CHARS, render_markdown, sanitize_html

# The test keeps its own copy of the allow-lists, so widening the module's by accident fails here.
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
URL_SCHEMES = {"href": {"http", "https", "mailto"}, "src": {"http", "https"}}
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "style", "meta", "base"}
FORBIDDEN_TAGS |= {"form", "input", "button", "link", "frame", "frameset", "template", "body"}
REL = "nofollow noopener noreferrer"

# A second, regex-based reading of the tags, independent of html.parser: attribute values are
# skipped as whole quoted strings, so text inside a title cannot count as an attribute.
ATTRIBUTE = r"""\s+([^\s/>="']+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
TAG = re.compile(rf"<[a-zA-Z][^\s/>]*((?:{ATTRIBUTE})*)\s*/?>")
SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")

XSS_CORPUS = [
    # script tags in every casing and some mangled forms
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<script src=//evil.example/x.js></script>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "<b><i><script>alert(1)</i></b>",
    "`<script>alert(1)</script>`",
    "```\n</code></pre><script>alert(1)</script>\n```",
    # event handlers
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<img src=x onerror=alert(1)//",
    "<img src='https://ok.example/a.png' onload='alert(1)'>",
    "<a href='https://ok.example' onmouseover='alert(1)'>x</a>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<body onload=alert(1)>",
    "<frameset onload=alert(1)>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    # script URLs in raw HTML, plain and obfuscated
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript&colon;alert(1)">x</a>',
    '<a href="javascript&#58;alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="java&#x0A;script:alert(1)">x</a>',
    '<a href="jav\tascript:alert(1)">x</a>',
    '<a href=" &#14; javascript:alert(1)">x</a>',
    '<a href="%6Aavascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="javascript:alert(1)"',
    '<img src="javascript:alert(1)">',
    '<img src="jav&#x0D;ascript:alert(1)">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    # script URLs in Markdown link, image, reference and autolink syntax
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x]( javascript:alert(1) )",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2Zz4=)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    '![x](https://ok.example/a.png" onerror="alert(1))',
    '[x](https://ok.example "t\\" onmouseover=\\"alert(1)")',
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "![x][img]\n\n[img]: vbscript:msgbox(1)",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    # tags that carry script or navigation of their own
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<template><script>alert(1)</script></template>",
    "<xmp><script>alert(1)</script></xmp>",
    '<div style="width: expression(alert(1))">x</div>',
    '<p style="background-image:url(javascript:alert(1))">x</p>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<link rel=stylesheet href="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<form><input type=submit formaction=javascript:alert(1)></form>",
    "<isindex action=javascript:alert(1) type=image>",
    '<table background="javascript:alert(1)"><td>x</td></table>',
    # comments
    "<!-- <script>alert(1)</script> -->",
    "<!--><img src=x onerror=alert(1)>-->",
    "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    # nesting deep enough that the text is shown plainly instead of parsed
    ">" * 30 + " <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    "\n".join("  " * n + f"- <svg onload=alert({n})>" for n in range(30)),
]
# Every tag that survives sanitizing, with handlers and a style attached.
XSS_CORPUS += [
    f'<{tag} onclick="alert(1)" onmouseover=alert(1) style="x:expression(alert(1))">x</{tag}>'
    for tag in sorted(ALLOWED_TAGS)
]

RENDERERS: dict[str, Callable[[str], str | None]] = {
    "markdown": render_markdown,
    "sanitizer": sanitize_html,
}


class Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def url_scheme(value: str) -> str | None:
    """The scheme a lenient consumer would see: entities and percent-escapes decoded, ASCII
    whitespace and control characters dropped."""
    decoded = unquote(html.unescape(value))
    match = SCHEME.match(re.sub(r"[\x00-\x20\x7f]+", "", decoded).lower())
    return match.group(1) if match else None


def assert_safe(output: str) -> None:
    assert "<script" not in output.lower()
    for match in TAG.finditer(output):
        names = re.findall(ATTRIBUTE, match.group(1))
        assert not [name for name in names if name.lower().startswith("on")]
    inspector = Inspector()
    inspector.feed(output)
    inspector.close()
    assert inspector.comments == []
    for tag, attrs in inspector.tags:
        assert tag not in FORBIDDEN_TAGS
        assert tag in ALLOWED_TAGS
        for name, value in attrs:
            assert not name.startswith("on")
            assert name != "style"
            assert name in ALLOWED_ATTRIBUTES.get(tag, set())
            if name in URL_SCHEMES:
                assert value is not None
                scheme = url_scheme(value)
                assert scheme not in {"javascript", "vbscript", "data"}
                assert scheme is None or scheme in URL_SCHEMES[name]
        if tag == "a":
            assert dict(attrs).get("rel") == REL


def test_the_corpus_is_large_enough() -> None:
    assert len(XSS_CORPUS) >= 40


@pytest.mark.parametrize(
    "unsafe",
    [
        "<script>alert(1)</script>",
        '<p title="a" onclick="alert(1)">x</p>',
        '<a href="x" rel="nofollow noopener noreferrer" ONMOUSEOVER=alert(1)>x</a>',
        '<a href="java&#x09;script:alert(1)" rel="nofollow noopener noreferrer">x</a>',
        '<a href="%6Aavascript:alert(1)" rel="nofollow noopener noreferrer">x</a>',
        '<img src="data:image/png;base64,AAAA">',
        '<img src="mailto:a@example.com">',
        '<a href="https://example.com">no rel</a>',
        "<iframe></iframe>",
        "<div>not allowed</div>",
        '<p style="color:red">x</p>',
        "<!-- comment -->",
    ],
)
def test_the_checker_rejects_unsafe_html(unsafe: str) -> None:
    with pytest.raises(AssertionError):
        assert_safe(unsafe)


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_payload_is_neutralized(renderer: str, payload: str) -> None:
    output = RENDERERS[renderer](payload)
    assert output is not None
    assert_safe(output)


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_payload_inside_markdown_structure_is_neutralized(payload: str) -> None:
    text = f"# Heading {payload}\n\n- item {payload}\n\n> quote {payload}\n\n*{payload}*"
    output = render_markdown(text)
    assert output is not None
    assert_safe(output)


def test_none_renders_as_none() -> None:
    assert render_markdown(None) is None


def test_empty_text_renders_as_empty_html() -> None:
    assert render_markdown("") == ""


def test_headings_render_at_their_level() -> None:
    assert render_markdown("# One\n\n### Three") == "<h1>One</h1>\n<h3>Three</h3>\n"


def test_lists_render_as_lists() -> None:
    output = render_markdown("- a\n- b\n\n3. c\n4. d")
    assert output == (
        '<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>\n'
    )


def test_code_block_content_is_escaped() -> None:
    output = render_markdown("```html\n<b onclick=x>bold</b> & more\n```")
    assert output == "<pre><code>&lt;b onclick=x&gt;bold&lt;/b&gt; &amp; more\n</code></pre>\n"


def test_inline_code_content_is_escaped() -> None:
    assert render_markdown("run `<script>`") == "<p>run <code>&lt;script&gt;</code></p>\n"


def test_raw_html_is_shown_as_text() -> None:
    assert render_markdown("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_tables_render() -> None:
    output = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |")
    assert output is not None
    assert "<table>" in output
    assert "<th>a</th>" in output
    assert "<td>2</td>" in output
    assert "style" not in output


def test_emphasis_strikethrough_quote_and_rule_render() -> None:
    output = render_markdown("*em* **strong** ~~gone~~\n\n> quoted\n\n---")
    assert output == (
        "<p><em>em</em> <strong>strong</strong> <s>gone</s></p>\n"
        "<blockquote>\n<p>quoted</p>\n</blockquote>\n<hr>\n"
    )


def test_links_get_rel_nofollow() -> None:
    output = render_markdown("[site](https://example.com/a?b=1&c=2)")
    assert output == (
        '<p><a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">'
        "site</a></p>\n"
    )


def test_autolinks_and_mailto_links_are_kept() -> None:
    output = render_markdown("<https://example.com> [mail](mailto:security@example.com)")
    assert output is not None
    assert 'href="https://example.com"' in output
    assert 'href="mailto:security@example.com"' in output
    assert_safe(output)


def test_bare_urls_are_not_linkified() -> None:
    assert render_markdown("see https://example.com") == "<p>see https://example.com</p>\n"


def test_https_and_http_images_are_kept() -> None:
    output = render_markdown("![poc](https://example.com/poc.png) ![old](http://example.com/o.gif)")
    assert output == (
        '<p><img src="https://example.com/poc.png" alt="poc"> '
        '<img src="http://example.com/o.gif" alt="old"></p>\n'
    )


def test_mailto_image_loses_its_source() -> None:
    assert render_markdown("![m](mailto:a@example.com)") == '<p><img alt="m"></p>\n'


def test_relative_links_are_kept() -> None:
    output = render_markdown("[report](/reports/1)")
    assert output == '<p><a href="/reports/1" rel="nofollow noopener noreferrer">report</a></p>\n'


def test_text_nested_too_deeply_to_parse_keeps_every_word() -> None:
    nested = "\n".join("  " * n + f"- level {n}" for n in range(30))
    output = render_markdown(f"{nested}\n\nafter & <b>")
    assert output is not None
    assert "level 29" in output
    assert output.endswith("<p>after &amp; &lt;b&gt;</p>\n")
    assert_safe(output)


def test_nesting_the_parser_follows_is_still_rendered_as_markdown() -> None:
    output = render_markdown(">" * 19 + " deep")
    assert output == "<blockquote>\n" * 19 + "<p>deep</p>\n" + "</blockquote>\n" * 19


def test_rendering_is_stable_across_calls() -> None:
    text = "# Cached\n\nsame text"
    assert render_markdown(text) == render_markdown(text) == "<h1>Cached</h1>\n<p>same text</p>\n"


def test_texts_too_large_to_cache_still_render() -> None:
    text = "word " * (CACHEABLE_CHARS // 5 + 10) + "\n\n<script>alert(1)</script>"
    output = render_markdown(text)
    assert output is not None
    assert output.startswith("<p>word word")
    assert_safe(output)
