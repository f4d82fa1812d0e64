from __future__ import annotations

import io
import logging
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from bountybox.domains.reports import pdf as pdf_module
from bountybox.domains.reports.pdf import find_fonts, markdown_blocks, report_pdf

TITLE = "Stored XSS in the billing address form"
SENTENCE = "The billing address field renders unescaped HTML on the invoice page."
PUBLIC_COMMENT = "Thanks, we reproduced this and are working on a fix."
INTERNAL_COMMENT = "Internal: route this to the payments squad before Friday."
VULNERABILITY_INFORMATION = f"""## Summary

{SENTENCE}

## Steps to reproduce

1. Log in as any customer
2. Set the billing address to `<img src=x onerror=alert(document.domain)>`
3. Open **Invoices**

- affected: invoices
- not affected: receipts

```html
<img src=x onerror=alert(1)>
```

| Browser | Result |
|---------|--------|
| Firefox | fires  |

> Note from the reporter

See [the docs](https://docs.example.com/billing) for details.
"""


def make_user(ident: str, username: str) -> dict[str, Any]:
    return {"id": ident, "type": "user", "attributes": {"username": username, "name": username}}


def make_activity(
    ident: str,
    message: str | None,
    *,
    created_at: str,
    internal: bool = False,
    activity_type: str = "activity-comment",
    actor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": ident,
        "type": activity_type,
        "attributes": {
            "message": message,
            "created_at": created_at,
            "updated_at": created_at,
            "internal": internal,
        },
        "relationships": {"actor": {"data": actor}},
    }


def make_report(
    *,
    title: str | None = TITLE,
    vulnerability_information: str | None = VULNERABILITY_INFORMATION,
    activities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A report resource object shaped like `data` of GET /v1/reports/{id}; activities come
    newest first, as the API lists them."""
    member = make_user("1339", "member-example")
    if activities is None:
        activities = [
            make_activity(
                "1342",
                "Bounty awarded, thank you!",
                created_at="2024-02-05T12:00:00.000Z",
                activity_type="activity-bounty-awarded",
                actor={"id": "7", "type": "program", "attributes": {"handle": "acme"}},
            ),
            make_activity(
                "1341", PUBLIC_COMMENT, created_at="2024-02-03T10:00:00.000Z", actor=member
            ),
            make_activity(
                "1340",
                INTERNAL_COMMENT,
                created_at="2024-02-03T09:00:00.000Z",
                internal=True,
                actor=member,
            ),
            make_activity(
                "1339",
                "Report submitted.",
                created_at="2024-02-02T04:05:06.000Z",
                activity_type="activity-report-submitted",
                actor=None,
            ),
        ]
    return {
        "id": "1337",
        "type": "report",
        "attributes": {
            "title": title,
            "main_state": "open",
            "state": "triaged",
            "created_at": "2024-02-02T04:05:06.000Z",
            "submitted_at": "2024-02-02T04:05:06.000Z",
            "triaged_at": "2024-02-03T10:00:00.000Z",
            "closed_at": None,
            "vulnerability_information": vulnerability_information,
        },
        "relationships": {
            "program": {"data": {"id": "7", "type": "program", "attributes": {"handle": "acme"}}},
            "reporter": {"data": make_user("1337", "api-example")},
            "assignee": {"data": {"id": "3", "type": "group", "attributes": {"name": "AppSec"}}},
            "severity": {
                "data": {
                    "id": "57",
                    "type": "severity",
                    "attributes": {
                        "rating": "high",
                        "score": 8.7,
                        "cvss_vector_string": "CVSS:3.1/AV:A/AC:L/PR:L/UI:R/S:C/C:L/I:H/A:H",
                    },
                }
            },
            "weakness": {
                "data": {
                    "id": "1",
                    "type": "weakness",
                    "attributes": {
                        "name": "Cross-site Scripting (XSS) - Stored",
                        "external_id": "cwe-79",
                    },
                }
            },
            "structured_scope": {
                "data": {
                    "id": "57",
                    "type": "structured-scope",
                    "attributes": {"asset_identifier": "billing.acme.example", "asset_type": "URL"},
                }
            },
            "attachments": {
                "data": [
                    {
                        "id": "1",
                        "type": "attachment",
                        "attributes": {"file_name": "poc.png", "file_size": 12345},
                    }
                ]
            },
            "activities": {"data": activities},
        },
    }


def pdf_text(data: bytes) -> str:
    """All text of the document with runs of whitespace collapsed, so wrapped lines read as
    one sentence."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def render(report: dict[str, Any], pdf_type: str = "full") -> str:
    data = report_pdf(report, pdf_type)
    assert data.startswith(b"%PDF")
    return pdf_text(data)


@pytest.mark.parametrize("pdf_type", ["reporter", "full", "triage"])
def test_every_pdf_type_shows_the_report(pdf_type: str) -> None:
    data = report_pdf(make_report(), pdf_type)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert TITLE in text
    assert SENTENCE in text
    assert PUBLIC_COMMENT in text
    for fact in ["#1337", "acme", "api-example", "triaged", "High (8.7)", "CWE-79"]:
        assert fact in text
    assert "CVSS:3.1/AV:A/AC:L/PR:L/UI:R/S:C/C:L/I:H/A:H" in text
    assert "billing.acme.example" in text
    assert "2024-02-03 10:00 UTC" in text
    assert "poc.png" in text


def test_reporter_pdf_leaves_out_internal_activity_and_the_assignee() -> None:
    text = render(make_report(), "reporter")
    assert INTERNAL_COMMENT not in text
    assert "Internal:" not in text
    assert "AppSec" not in text
    assert "Triage export" not in text


@pytest.mark.parametrize("pdf_type", ["full", "triage"])
def test_full_and_triage_pdfs_include_internal_activity(pdf_type: str) -> None:
    text = render(make_report(), pdf_type)
    assert INTERNAL_COMMENT in text
    assert "AppSec" in text


def test_triage_pdf_says_it_is_a_triage_export() -> None:
    assert render(make_report(), "triage").startswith("Triage export")
    assert "Triage export" not in render(make_report(), "full")


def test_reporter_pdf_leaves_out_activities_not_marked_public() -> None:
    activity = make_activity("1", "Unflagged note", created_at="2024-02-03T09:00:00.000Z")
    del activity["attributes"]["internal"]
    report = make_report(activities=[activity])
    assert "Unflagged note" not in render(report, "reporter")
    assert "Unflagged note" in render(report, "full")


def test_activities_are_listed_oldest_first_with_type_and_actor() -> None:
    text = render(make_report(), "full")
    positions = [
        text.index("Report submitted · system · 2024-02-02 04:05 UTC"),
        text.index("Comment · member-example · 2024-02-03 09:00 UTC · internal"),
        text.index("Comment · member-example · 2024-02-03 10:00 UTC"),
        text.index("Bounty awarded · acme · 2024-02-05 12:00 UTC"),
    ]
    assert positions == sorted(positions)


def test_vulnerability_information_is_printed_as_plain_text() -> None:
    text = render(make_report(), "reporter")
    assert "Steps to reproduce" in text
    assert "1. Log in as any customer" in text
    assert "<img src=x onerror=alert(document.domain)>" in text
    assert "Open Invoices" in text
    assert "• affected: invoices" in text or "- affected: invoices" in text
    assert "<img src=x onerror=alert(1)>" in text
    assert "Browser | Result" in text
    assert "> Note from the reporter" in text
    assert "the docs (https://docs.example.com/billing)" in text


def test_unknown_pdf_type_is_refused() -> None:
    with pytest.raises(ValueError, match="summary"):
        report_pdf(make_report(), "summary")


def test_unicode_text_does_not_crash(caplog: pytest.LogCaptureFixture) -> None:
    unicode = "Ünïcødé — 漢字 🚀 עברית العربية \u202e\u200b\x00\x07 \ud800 e\u0301"
    report = make_report(
        title=f"Title {unicode}",
        vulnerability_information=f"# {unicode}\n\n{unicode}\n\n```\n{unicode}\n```",
        activities=[
            make_activity(
                "1",
                unicode,
                created_at="2024-02-03T09:00:00.000Z",
                actor=make_user("2", f"user-{unicode}"),
            )
        ],
    )
    with caplog.at_level(logging.WARNING):
        for pdf_type in ["reporter", "full", "triage"]:
            text = render(report, pdf_type)
    assert "missing the following glyphs" not in caplog.text
    if find_fonts() is not None:
        assert "Ünïcødé" in text


def test_core_font_fallback_replaces_what_latin1_cannot_show(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pdf_module, "find_fonts", lambda: None)
    report = make_report(
        title="Ünïcødé — 漢字 🚀",
        vulnerability_information="“Quoted” • bullet — dash … " + "Z" * 500,
    )
    text = render(report, "full")
    assert "Ünïcødé - ?? ?" in text
    assert '"Quoted" - bullet - dash ...' in text
    assert SENTENCE not in text
    assert PUBLIC_COMMENT in text


def test_long_unbroken_strings_wrap_instead_of_failing() -> None:
    word = "A" * 500
    url = "https://example.com/" + "x" * 480
    report = make_report(
        title=word,
        vulnerability_information=f"{word}\n\n- {url}\n\n```\n{word}\n```\n\n[{word}]({url})",
        activities=[make_activity("1", word, created_at="2024-02-03T09:00:00.000Z", actor=None)],
    )
    report["relationships"]["structured_scope"]["data"]["attributes"]["asset_identifier"] = url
    text = render(report, "full")
    assert re.sub(r"\s", "", text).count(word) >= 4


def test_deeply_nested_markdown_does_not_run_out_of_page_width() -> None:
    nested_list = "\n".join("  " * level + f"- level {level}" for level in range(40))
    nested_quote = ">" * 40 + " deep quote " + "Q" * 300
    moderate_list = "\n".join("  " * level + f"- item {level}" for level in range(12))
    source = f"{moderate_list}\n\nbetween\n\n{nested_list}\n\n{nested_quote}\n\nthe end"
    text = render(make_report(vulnerability_information=source), "full")
    for words in ["item 11", "between", "level 39", "deep quote", "the end"]:
        assert words in text


def test_empty_and_missing_fields_are_skipped() -> None:
    bare = {"id": "9", "type": "report", "attributes": {}, "relationships": {}}
    text = render(bare, "full")
    assert "(untitled report)" in text
    assert "#9" in text
    assert "(no activity)" in text

    nulls = make_report(title=None, vulnerability_information=None, activities=[])
    nulls["relationships"]["assignee"] = {"data": None}
    nulls["relationships"]["severity"] = {"data": None}
    nulls["relationships"]["weakness"] = {"data": None}
    del nulls["relationships"]["structured_scope"]
    text = render(nulls, "triage")
    assert "Assignee" not in text
    assert "Severity" not in text

    odd = make_report(
        activities=[
            make_activity("1", None, created_at="not a date", actor=None),
            make_activity("2", "", created_at="2024-02-03T09:00:00", actor={"type": "user"}),
        ]
    )
    odd["relationships"]["activities"]["data"].append("not an object")
    assert "not a date" in render(odd, "full")


def test_same_report_gives_the_same_bytes() -> None:
    assert report_pdf(make_report(), "full") == report_pdf(make_report(), "full")


def test_long_reports_span_several_pages() -> None:
    paragraphs = "\n\n".join(f"Paragraph {n}. " + "word " * 80 for n in range(60))
    data = report_pdf(make_report(vulnerability_information=paragraphs), "full")
    assert len(PdfReader(io.BytesIO(data)).pages) > 3
    assert "Paragraph 59." in pdf_text(data)


def test_markdown_too_deep_to_parse_falls_back_to_plain_paragraphs() -> None:
    source = ">" * 30 + " deep\n\n\n\nafter"
    assert [(b.kind, b.text) for b in markdown_blocks(source)] == [
        ("text", ">" * 30 + " deep"),
        ("text", "after"),
    ]


def test_markdown_blocks_keep_list_markers_and_code() -> None:
    blocks = markdown_blocks("# Head\n\n3. three\n4. four\n\n- bullet\n\n```\ncode  here\n```")
    assert [(b.kind, b.marker, b.text) for b in blocks] == [
        ("heading", "", "Head"),
        ("text", "3.", "three"),
        ("text", "4.", "four"),
        ("text", "•", "bullet"),
        ("code", "", "code  here"),
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300))
def test_any_text_renders(text: str) -> None:
    report = make_report(
        title=text,
        vulnerability_information=text,
        activities=[make_activity("1", text, created_at="2024-02-03T09:00:00.000Z")],
    )
    assert report_pdf(report, "full").startswith(b"%PDF")
