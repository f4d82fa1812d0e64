"""The PDF export of a report (`GET /v1/reports/{id}/pdf`), drawn from the rendered JSON:API
resource object so it shows exactly what the API shows.

Report text is plain Markdown written by anyone, in any script, with URLs and payloads that have
no spaces in them; the export has to print all of it without crashing. A Unicode TrueType font is
used when the system has one, and any character the chosen font cannot draw becomes "?".
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from fpdf import FPDF, Align, XPos, YPos
from fpdf.fonts import TTFFont
from markdown_it.token import Token

from bountybox.core.markdown import markdown_tokens


class PdfType(StrEnum):
    REPORTER = "reporter"
    FULL = "full"
    TRIAGE = "triage"


@dataclass(frozen=True)
class FontFiles:
    regular: Path
    bold: Path | None
    mono: Path | None


FONT_ROOTS: Final = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path("/System/Library/Fonts/Supplemental"),
)
# (regular, bold) pairs, best coverage first.
SANS_FONTS: Final = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ("FreeSans.ttf", "FreeSansBold.ttf"),
    ("Arial Unicode.ttf", None),
)
MONO_FONTS: Final = (
    "DejaVuSansMono.ttf",
    "NotoSansMono-Regular.ttf",
    "LiberationMono-Regular.ttf",
    "FreeMono.ttf",
)


def _fonts_by_name(roots: Iterable[Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in roots:
        for directory, _, files in os.walk(root):
            for name in files:
                found.setdefault(name, Path(directory) / name)
    return found


def _fontconfig_sans() -> Path | None:
    """Whatever fontconfig picks for sans-serif, when it is a TrueType file fpdf2 can embed."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        result = subprocess.run(
            [fc_match, "--format=%{file}", "sans-serif"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(result.stdout.strip())
    return path if path.suffix.lower() == ".ttf" and path.is_file() else None


@lru_cache(maxsize=1)
def find_fonts() -> FontFiles | None:
    """The Unicode fonts to embed, looked up once per process; None means core Helvetica."""
    found = _fonts_by_name(FONT_ROOTS)
    mono = next((found[name] for name in MONO_FONTS if name in found), None)
    for regular, bold in SANS_FONTS:
        if regular in found:
            return FontFiles(found[regular], found.get(bold) if bold else None, mono)
    fallback = _fontconfig_sans()
    return FontFiles(fallback, None, mono) if fallback else None


# --- Markdown as plain text -------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One paragraph-like piece of rendered Markdown."""

    kind: Literal["heading", "text", "code", "rule"]
    text: str = ""
    depth: int = 0
    marker: str = ""
    level: int = 0
    bold: bool = False


@dataclass
class _ListState:
    ordered: bool
    next_number: int
    delimiter: str


@dataclass
class _Walk:
    blocks: list[Block] = field(default_factory=list)
    lists: list[_ListState] = field(default_factory=list)
    quote_depth: int = 0
    marker: str = ""
    row: list[str] = field(default_factory=list)
    in_head: bool = False

    @property
    def depth(self) -> int:
        return len(self.lists)

    def add(self, kind: Literal["text", "code"], text: str, *, bold: bool = False) -> None:
        # Quoted text is marked the way plain-text mail does it; code cannot take a prefix
        # without changing its meaning, so it is indented instead.
        depth = self.depth
        if kind == "text" and self.quote_depth:
            text = ">" * self.quote_depth + " " + text
        elif kind == "code":
            depth += self.quote_depth
        self.blocks.append(Block(kind, text, depth, self.marker, bold=bold))
        self.marker = ""


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    links: list[tuple[str, int]] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "link_open":
            links.append((str(child.attrGet("href") or ""), len(parts)))
        elif child.type == "link_close" and links:
            href, start = links.pop()
            label = "".join(parts[start:])
            # A printed page cannot be clicked, so the destination is spelled out unless the
            # label already is the destination (autolinks).
            if href and href not in (label, f"mailto:{label}"):
                parts.append(f" ({href})")
        elif child.type == "image":
            parts.append(f"[image: {child.content} ({child.attrGet('src') or ''})]")
    return "".join(parts)


def markdown_blocks(source: str) -> list[Block]:
    """Markdown as printable blocks: headings, paragraphs with their list markers and quote
    marks, code kept verbatim, table rows with cells separated by " | "."""
    tokens = markdown_tokens(source)
    if tokens is None:
        # Too deeply nested to parse completely: every word matters more than the layout.
        parts = (part.strip("\n") for part in re.split(r"\n\s*\n", source))
        return [Block("text", part) for part in parts if part.strip()]
    walk = _Walk()
    for index, token in enumerate(tokens):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            ordered = kind == "ordered_list_open"
            start = int(str(token.attrGet("start") or 1)) if ordered else 0
            walk.lists.append(_ListState(ordered, start, token.markup or "."))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            walk.lists.pop()
        elif kind == "list_item_open":
            state = walk.lists[-1]
            walk.marker = f"{state.next_number}{state.delimiter}" if state.ordered else "•"
            state.next_number += 1
        elif kind == "list_item_close" and walk.marker:
            walk.add("text", "")
        elif kind == "blockquote_open":
            walk.quote_depth += 1
        elif kind == "blockquote_close":
            walk.quote_depth -= 1
        elif kind in ("fence", "code_block"):
            walk.add("code", token.content.rstrip("\n"))
        elif kind == "hr":
            walk.blocks.append(Block("rule", depth=walk.depth))
        elif kind == "thead_open":
            walk.in_head = True
        elif kind == "thead_close":
            walk.in_head = False
        elif kind == "tr_open":
            walk.row = []
        elif kind == "tr_close":
            walk.add("text", " | ".join(walk.row), bold=walk.in_head)
        elif kind == "inline":
            parent = tokens[index - 1]
            text = _inline_text(token)
            if parent.type == "heading_open":
                level = int(parent.tag[1:])
                walk.blocks.append(Block("heading", text, walk.depth, walk.marker, level=level))
                walk.marker = ""
            elif parent.type in ("th_open", "td_open"):
                walk.row.append(text)
            else:
                walk.add("text", text)
    return walk.blocks


# --- Reading the resource object --------------------------------------------------------------


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _format_time(value: Any) -> str:
    parsed = _parse_time(value)
    try:
        return parsed.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if parsed else _text(value)
    except OverflowError:  # an offset that pushes year 1 or 9999 past the calendar's end
        return _text(value)


def _party_name(data: Any) -> str:
    """A user, group or program as people know it."""
    attributes = _dig(data, "attributes")
    for key in ("username", "handle", "name"):
        name = _dig(attributes, key)
        if name:
            return str(name)
    ident = _dig(data, "id")
    return f"{_text(_dig(data, 'type')) or 'unknown'} {ident}" if ident else ""


def _activity_label(activity_type: str) -> str:
    label = activity_type.removeprefix("activity-").replace("-", " ").strip()
    return label[:1].upper() + label[1:] if label else "Activity"


def _activity_order(activity: Any) -> tuple[dt.datetime, int, str]:
    created = _parse_time(_dig(activity, "attributes", "created_at"))
    ident = _text(_dig(activity, "id"))
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    return (created or floor, int(ident) if ident.isdigit() else 0, ident)


def _visible_activities(report: dict[str, Any], pdf_type: PdfType) -> list[dict[str, Any]]:
    activities = _dig(report, "relationships", "activities", "data")
    if not isinstance(activities, list):
        return []
    rows = [a for a in activities if isinstance(a, dict)]
    if pdf_type is PdfType.REPORTER:
        # Only activities explicitly marked public reach the reporter's copy.
        rows = [a for a in rows if _dig(a, "attributes", "internal") is False]
    return sorted(rows, key=_activity_order)


# --- Drawing ----------------------------------------------------------------------------------

PAGE_MARGIN: Final = 18.0
LABEL_WIDTH: Final = 32.0
INDENT_STEP: Final = 5.0
MAX_DEPTH: Final = 6
BODY_SIZE: Final = 10.0
HEADING_SIZES: Final = {1: 14.0, 2: 13.0, 3: 12.0}
# Stand-ins for common typography when the core font (Latin-1 only) is all there is.
ASCII_STAND_INS: Final = {
    "\N{BULLET}": "-",
    "\N{EM DASH}": "-",
    "\N{EN DASH}": "-",
    "\N{LEFT SINGLE QUOTATION MARK}": "'",
    "\N{RIGHT SINGLE QUOTATION MARK}": "'",
    "\N{LEFT DOUBLE QUOTATION MARK}": '"',
    "\N{RIGHT DOUBLE QUOTATION MARK}": '"',
    "\N{HORIZONTAL ELLIPSIS}": "...",
    "\N{RIGHTWARDS ARROW}": "->",
    "\N{LEFTWARDS ARROW}": "<-",
    "\N{LESS-THAN OR EQUAL TO}": "<=",
    "\N{GREATER-THAN OR EQUAL TO}": ">=",
    "\N{NOT EQUAL TO}": "!=",
}

Style = Literal["", "B"]


class _Document(FPDF):
    def __init__(self, fonts: FontFiles | None, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
        self.set_auto_page_break(True, margin=PAGE_MARGIN)
        # Report text may contain "{nb}", which fpdf2 would otherwise replace with a page count.
        self.alias_nb_pages("")
        self.coverage: dict[tuple[str, str], Callable[[str], bool]] = {}
        if fonts is None:
            self.body_family, self.mono_family = "helvetica", "courier"
            core: list[tuple[str, Style]] = [("helvetica", ""), ("helvetica", "B"), ("courier", "")]
            for key in core:
                self.coverage[key] = _latin1
        else:
            self.body_family = "body"
            self.mono_family = "mono" if fonts.mono else "body"
            self._add_font("body", "", fonts.regular)
            self._add_font("body", "B", fonts.bold or fonts.regular)
            if fonts.mono:
                self._add_font("mono", "", fonts.mono)

    def _add_font(self, family: str, style: Style, path: Path) -> None:
        self.add_font(family, style, str(path))
        font = self.fonts[f"{family.lower()}{style}"]
        cmap = frozenset(font.cmap) if isinstance(font, TTFFont) else frozenset()
        self.coverage[(family, style)] = lambda char: ord(char) in cmap

    def use(self, family: str, style: Style = "", size: float = BODY_SIZE) -> None:
        """Switch font; unlike set_font, the size goes back to the body size unless given."""
        self.set_font(family, style, size)

    def clean(self, text: str) -> str:
        """Text the current font can draw, with controls and unprintable characters removed."""
        # Read from fpdf2's own state: it restores the font after drawing a footer mid-page.
        covers = self.coverage.get((self.font_family, self.font_style), _latin1)
        text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
        out: list[str] = []
        for char in text:
            if char == "\n":
                out.append(char)
            elif char == "\t":
                out.append("    ")
            elif covers(char) and unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn"):
                out.append(char)
            elif unicodedata.category(char) in ("Zl", "Zp"):
                out.append("\n")
            elif unicodedata.category(char) in ("Cc", "Cf"):
                continue
            else:
                stand_in = ASCII_STAND_INS.get(char, "?")
                out.append(stand_in if all(covers(c) for c in stand_in) else "?")
        return "".join(out)

    def footer(self) -> None:
        self.set_y(-12)
        self.use(self.body_family, size=8)
        self.set_text_color(120)
        self.cell(0, 5, self.clean(f"{self.footer_text} · page {self.page_no()}"), align="R")
        self.set_text_color(0)

    def paragraph(
        self, text: str, *, indent: float = 0.0, marker: str = "", fill: bool = False
    ) -> None:
        height = self.font_size_pt * 0.5
        self.set_x(self.l_margin + indent)
        if marker:
            marker = self.clean(marker)
            self.cell(self.get_string_width(marker) + 1.5, height, marker)
        self.wrapped(text, height, fill=fill)

    def heading(self, text: str, size: float) -> None:
        self.ln(2)
        self.use(self.body_family, "B", size)
        self.paragraph(text)
        self.ln(1)
        self.use(self.body_family)

    def field(self, label: str, value: str) -> None:
        self.use(self.body_family, "B")
        self.cell(LABEL_WIDTH, BODY_SIZE * 0.5, self.clean(label))
        self.use(self.body_family)
        self.wrapped(value, BODY_SIZE * 0.5)

    def wrapped(self, text: str, height: float, *, fill: bool = False) -> None:
        """Text from the current x to the right margin; words too long for a line are broken."""
        # Left-aligned: fpdf2 justifies by default, which spreads a short line across the page
        # when the word after it is too long to join it.
        self.multi_cell(
            0,
            height,
            self.clean(text),
            align=Align.L,
            fill=fill,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def rule(self, indent: float = 0.0) -> None:
        self.ln(1)
        self.set_draw_color(180)
        self.line(self.l_margin + indent, self.y, self.w - self.r_margin, self.y)
        self.set_draw_color(0)
        self.ln(2)

    def markdown(self, source: str, indent: float = 0.0) -> None:
        for block in markdown_blocks(source):
            left = indent + min(block.depth, MAX_DEPTH) * INDENT_STEP
            if block.kind == "rule":
                self.rule(left)
            elif block.kind == "heading":
                size = HEADING_SIZES.get(block.level, 11.0)
                self.use(self.body_family, "B", size)
                self.paragraph(block.text, indent=left, marker=block.marker)
                self.ln(1)
            elif block.kind == "code":
                self.use(self.mono_family, size=9)
                self.set_fill_color(242)
                self.paragraph(block.text, indent=left, marker=block.marker, fill=True)
                self.ln(1.5)
            else:
                self.use(self.body_family, "B" if block.bold else "")
                self.paragraph(block.text, indent=left, marker=block.marker)
                self.ln(1.5)
        self.use(self.body_family)


def _latin1(char: str) -> bool:
    return ord(char) < 256


def _severity(report: dict[str, Any]) -> list[tuple[str, str]]:
    attributes = _dig(report, "relationships", "severity", "data", "attributes")
    if not isinstance(attributes, dict):
        return []
    rating = _text(attributes.get("rating")).capitalize()
    score = attributes.get("score")
    summary = f"{rating} ({score})" if rating and score is not None else rating or _text(score)
    rows = [("Severity", summary)]
    if attributes.get("cvss_vector_string"):
        rows.append(("CVSS vector", _text(attributes["cvss_vector_string"])))
    return rows


def _weakness(report: dict[str, Any]) -> str:
    attributes = _dig(report, "relationships", "weakness", "data", "attributes")
    name = _text(_dig(attributes, "name"))
    external_id = _text(_dig(attributes, "external_id")).upper()
    return f"{name} ({external_id})" if name and external_id else name or external_id


def _asset(report: dict[str, Any]) -> str:
    attributes = _dig(report, "relationships", "structured_scope", "data", "attributes")
    identifier = _text(_dig(attributes, "asset_identifier"))
    asset_type = _text(_dig(attributes, "asset_type"))
    return f"{identifier} ({asset_type})" if identifier and asset_type else identifier


def _summary_rows(report: dict[str, Any], pdf_type: PdfType) -> list[tuple[str, str]]:
    attributes = _dig(report, "attributes")
    relationships = _dig(report, "relationships")
    rows = [
        ("Report", f"#{_text(_dig(report, 'id'))}"),
        ("Program", _text(_dig(relationships, "program", "data", "attributes", "handle"))),
        ("Reporter", _party_name(_dig(relationships, "reporter", "data"))),
    ]
    if pdf_type is not PdfType.REPORTER:
        rows.append(("Assignee", _party_name(_dig(relationships, "assignee", "data"))))
    rows.append(("State", _text(_dig(attributes, "state"))))
    for label, key in [
        ("Created", "created_at"),
        ("Submitted", "submitted_at"),
        ("Triaged", "triaged_at"),
        ("Closed", "closed_at"),
        ("Disclosed", "disclosed_at"),
    ]:
        rows.append((label, _format_time(_dig(attributes, key))))
    rows += _severity(report)
    rows += [("Weakness", _weakness(report)), ("Asset", _asset(report))]
    return [(label, value) for label, value in rows if value]


def _attachment_names(attachments: Any) -> list[str]:
    if not isinstance(attachments, list):
        return []
    names = []
    for attachment in attachments:
        name = _text(_dig(attachment, "attributes", "file_name"))
        size = _dig(attachment, "attributes", "file_size")
        if name:
            names.append(f"{name} ({size} bytes)" if isinstance(size, int) else name)
    return names


def _creation_date(report: dict[str, Any], activities: Sequence[dict[str, Any]]) -> dt.datetime:
    """The newest timestamp the export shows, so the same report state gives the same file."""
    times = [_parse_time(_dig(report, "attributes", "created_at"))]
    times += [_parse_time(_dig(a, "attributes", "created_at")) for a in activities]
    known = [t for t in times if t is not None]
    return max(known) if known else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def report_pdf(report: dict[str, Any], pdf_type: str) -> bytes:
    """The report resource object (the `data` of `GET /v1/reports/{id}`) as a PDF document.

    "reporter" leaves out internal activities and the assignee; "full" and "triage" include
    them, and "triage" says on its first line that it is a triage export.
    """
    kind = PdfType(pdf_type)
    activities = _visible_activities(report, kind)
    report_id = _text(_dig(report, "id"))
    title = _text(_dig(report, "attributes", "title")) or "(untitled report)"

    pdf = _Document(find_fonts(), footer_text=f"Report #{report_id}")
    pdf.set_creation_date(_creation_date(report, activities))
    pdf.set_creator("bountybox")
    pdf.add_page()
    pdf.use(pdf.body_family)
    pdf.set_title(pdf.clean(title))
    pdf.set_subject(pdf.clean(f"Report #{report_id}"))

    if kind is PdfType.TRIAGE:
        pdf.use(pdf.body_family, "B", 9)
        pdf.set_text_color(160, 0, 0)
        pdf.paragraph("Triage export: includes internal activity. Do not share with the reporter.")
        pdf.set_text_color(0)
        pdf.ln(2)

    pdf.use(pdf.body_family, "B", 16)
    pdf.paragraph(title)
    pdf.ln(3)
    for label, value in _summary_rows(report, kind):
        pdf.field(label, value)

    pdf.heading("Vulnerability information", 13)
    information = _text(_dig(report, "attributes", "vulnerability_information"))
    pdf.markdown(information or "(none)")

    attachments = _attachment_names(_dig(report, "relationships", "attachments", "data"))
    if attachments:
        pdf.heading("Attachments", 13)
        for name in attachments:
            pdf.paragraph(name, marker="•")

    pdf.heading("Activity", 13)
    if not activities:
        pdf.paragraph("(no activity)")
    for activity in activities:
        attributes = _dig(activity, "attributes")
        header = [
            _activity_label(_text(_dig(activity, "type"))),
            _party_name(_dig(activity, "relationships", "actor", "data")) or "system",
            _format_time(_dig(attributes, "created_at")),
        ]
        if _dig(attributes, "internal"):
            header.append("internal")
        pdf.rule()
        pdf.use(pdf.body_family, "B")
        pdf.paragraph(" · ".join(part for part in header if part))
        pdf.use(pdf.body_family)
        for key, label in [("bounty_amount", "Bounty"), ("bonus_amount", "Bonus")]:
            if _dig(attributes, key) is not None:
                pdf.paragraph(f"{label}: {_text(_dig(attributes, key))}", indent=INDENT_STEP)
        message = _text(_dig(attributes, "message"))
        if message:
            pdf.ln(1)
            pdf.markdown(message, indent=INDENT_STEP)
        for name in _attachment_names(_dig(activity, "relationships", "attachments", "data")):
            pdf.paragraph(f"Attachment: {name}", indent=INDENT_STEP)
    return bytes(pdf.output())
