"""The Lucene-subset parser: what each query parses into, and where bad ones are refused."""

from __future__ import annotations

import pytest

from bountybox.core.lucene import (
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_QUERY_LENGTH,
    And,
    Exists,
    LuceneError,
    MatchAll,
    Node,
    Not,
    Or,
    Range,
    Term,
    Wildcard,
    parse,
)


def t(text: str, field: str | None = None, *, phrase: bool = False) -> Term:
    return Term(field, text, phrase=phrase)


VALID: list[tuple[str, Node]] = [
    ("", MatchAll()),
    ("   \t", MatchAll()),
    ("*", MatchAll()),
    ("*:*", MatchAll()),
    ("*:foo", t("foo")),
    ("xss", t("xss")),
    ("title:xss", t("xss", "title")),
    ("title: xss", t("xss", "title")),
    ('title:"stored xss"', t("stored xss", "title", phrase=True)),
    ('"a \\"quoted\\" word"', t('a "quoted" word', phrase=True)),
    ('""', t("", phrase=True)),
    ("a b", And((t("a"), t("b")))),
    ("a AND b", And((t("a"), t("b")))),
    ("a && b", And((t("a"), t("b")))),
    ("a OR b", Or((t("a"), t("b")))),
    ("a || b", Or((t("a"), t("b")))),
    ("a b OR c", Or((And((t("a"), t("b"))), t("c")))),
    ("a OR b c", Or((t("a"), And((t("b"), t("c")))))),
    ("a OR b OR c", Or((t("a"), t("b"), t("c")))),
    ("a AND (b OR c)", And((t("a"), Or((t("b"), t("c")))))),
    ("((a))", t("a")),
    ("NOT a", Not(t("a"))),
    ("-a", Not(t("a"))),
    ("!a", Not(t("a"))),
    ("NOT NOT a", Not(Not(t("a")))),
    ("NOT (a OR b)", Not(Or((t("a"), t("b"))))),
    ("+a -b", And((t("a"), Not(t("b"))))),
    ("a NOT b", And((t("a"), Not(t("b"))))),
    (
        "severity_rating:critical AND disclosed_at:>=01-01-1970",
        And((t("critical", "severity_rating"), Range("disclosed_at", "01-01-1970", None))),
    ),
    ("x:>5", Range("x", "5", None, include_low=False)),
    ("x:>=5", Range("x", "5", None, include_low=True)),
    ("x:<5", Range("x", None, "5", include_high=False)),
    ("x:<=5", Range("x", None, "5", include_high=True)),
    ("x:>-5", Range("x", "-5", None, include_low=False)),
    ("x:[1 TO 5]", Range("x", "1", "5", True, True)),
    ("x:{1 TO 5}", Range("x", "1", "5", False, False)),
    ("x:[1 TO 5}", Range("x", "1", "5", True, False)),
    ("x:{1 TO 5]", Range("x", "1", "5", False, True)),
    ("x:[* TO 5]", Range("x", None, "5")),
    ("x:[1 TO *]", Range("x", "1", None)),
    ('x:["a b" TO "c d"]', Range("x", "a b", "c d")),
    ("d:[2024-01-01T00:00:00Z TO *]", Range("d", "2024-01-01T00:00:00Z", None)),
    ("d:>=2024-01-01T10:00:00Z", Range("d", "2024-01-01T10:00:00Z", None)),
    ("d:2024-01-01T00:00:00Z", t("2024-01-01T00:00:00Z", "d")),
    ("[1 TO 2]", Range(None, "1", "2")),
    ("team:dept-of-defense", t("dept-of-defense", "team")),
    ("team:a+b", t("a+b", "team")),
    ("url:https://a.test/x", t("https://a.test/x", "url")),
    ('url:"https://a.test/x?y=1"', t("https://a.test/x?y=1", "url", phrase=True)),
    ("url:https://a.test/x?y=1", Wildcard("url", "https://a.test/x?y=1")),
    ("team:(a OR b)", Or((t("a", "team"), t("b", "team")))),
    ("team:(a b)", And((t("a", "team"), t("b", "team")))),
    ("team:(a OR other:b)", Or((t("a", "team"), t("b", "other")))),
    ("team:(-a)", Not(t("a", "team"))),
    ("n:(>5 OR [1 TO 2])", Or((Range("n", "5", None, False), Range("n", "1", "2")))),
    ("title:xs*", Wildcard("title", "xs*")),
    ("title:x?s", Wildcard("title", "x?s")),
    ("xs*", Wildcard(None, "xs*")),
    ("cve_ids:*", Exists("cve_ids")),
    ("title:xs\\*", t("xs*", "title")),
    ("title:a\\*b*", Wildcard("title", "a\\*b*")),
    ("a\\:b", t("a:b")),
    ("a\\ b", t("a b")),
    ("a^2", t("a")),
    ("a^2.5 b", And((t("a"), t("b")))),
    ("(a OR b)^3 c", And((Or((t("a"), t("b"))), t("c")))),
    ('"a b"^2', t("a b", phrase=True)),
    ("ANDROID", t("ANDROID")),
    ("ORACLE NOTE", And((t("ORACLE"), t("NOTE")))),
    ("and or not", And((t("and"), t("or"), t("not")))),
    ("a AND(b)", And((t("a"), t("b")))),
    ("field.sub:v", t("v", "field.sub")),
    ("x:a:b", t("a:b", "x")),
    ("title:välue", t("välue", "title")),
]


@pytest.mark.parametrize(("query", "expected"), VALID)
def test_valid_queries_parse_into_their_tree(query: str, expected: Node) -> None:
    assert parse(query) == expected


INVALID: list[tuple[str, str, int | None]] = [
    ("(", "Unbalanced '('", 0),
    ("(a", "Unbalanced '('", 0),
    ("a)", "Unbalanced ')'", 1),
    ("a OR (b", "Unbalanced '('", 5),
    ("()", "Empty parentheses", 0),
    ("a AND", "AND needs a clause on each side", 5),
    ("a &&", "AND needs a clause on each side", 4),
    ("OR b", "An operator needs a clause before it", 0),
    ("a OR", "OR needs a clause on each side", 4),
    ("a OR )", "OR needs a clause on each side", None),
    ("a AND AND b", "An operator needs a clause before it", None),
    ("NOT", "NOT needs a clause after it", 0),
    ("a -", "NOT needs a clause after it", 2),
    ("+", "'+' needs a clause right after it", 0),
    ("+ a", "'+' needs a clause right after it", 0),
    ("x:", "The field 'x' has no value", 0),
    ("x: )", "The field 'x' has no value", None),
    ('x:"abc', "Unclosed quotation mark", 2),
    ('"abc', "Unclosed quotation mark", 0),
    ("a~", "Fuzzy and proximity searches", 1),
    ("a~2", "Fuzzy and proximity searches", 1),
    ('"a b"~3', "Fuzzy and proximity searches", 5),
    ("a^", "A boost needs a number", 1),
    ("a^x", "A boost needs a number", 1),
    ("x:[1 5]", "A range needs 'TO' between its ends", 2),
    ("x:[1 TO 5", "Unclosed range", 2),
    ("x:[1 TO ]", "Expected a term", 8),
    ("ünïcode:välue", "Unexpected ':'", 7),
    ("x:[1* TO 5]", "Range ends cannot hold wildcards", 3),
    ("x:>", "Expected a term", None),
    ("x:>*", "'>' needs a value", 2),
    ("a\\", "A backslash at the end of the query escapes nothing", 1),
    (":a", "Unexpected ':'", 0),
    ("a ]", "Unexpected ']'", 2),
    ("^2", "Unexpected '^'", 0),
    ("a\x00", "NUL characters are not allowed", 1),
    ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), "deeper than", None),
    ("NOT " * (MAX_DEPTH + 1) + "a", "deeper than", None),
    ("a " * (MAX_CLAUSES + 1), "more than", None),
    ("a" * (MAX_QUERY_LENGTH + 1), "longer than", None),
]


@pytest.mark.parametrize(("query", "message", "position"), INVALID)
def test_invalid_queries_are_refused_with_a_position(
    query: str, message: str, position: int | None
) -> None:
    with pytest.raises(LuceneError) as raised:
        parse(query)
    assert message in str(raised.value)
    if position is not None:
        assert raised.value.position == position


def test_there_are_at_least_forty_cases_of_each_kind() -> None:
    assert len(VALID) >= 40
    assert len(INVALID) >= 30
