"""A parser for the subset of the Apache Lucene query syntax that HackerOne's search parameters
take (hacktivity's `queryString`, later the findings views): fields, AND/OR/NOT (and `&&`, `||`,
`!`, `+`, `-`), parentheses, quoted phrases, `*`/`?` wildcards, inclusive and exclusive ranges
(`[a TO b]`, `{a TO *}`), comparisons (`field:>=10`) and field groups (`field:(a OR b)`).

It only builds a tree; what a field means is decided by whoever compiles the tree (see
`core/lucene_sql.py`). Differences from Lucene's classic parser, chosen for a filter language:
clauses side by side are joined with AND (Lucene defaults to OR), a value after `field:` may hold
further colons (`disclosed_at:2024-01-01T00:00:00Z`), `/` is an ordinary character (no regular
expressions), boosts (`^2`) are accepted and ignored, and fuzzy or proximity searches (`~`) are
refused rather than silently run as exact ones.

    parse('severity_rating:critical AND disclosed_at:>=01-01-1970')
    == And((Term("severity_rating", "critical"), Range("disclosed_at", "01-01-1970", None, True)))
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_LENGTH = 4000
MAX_DEPTH = 32
MAX_CLAUSES = 256

# Characters that end a bare term (unless escaped with a backslash).
_SPECIAL = frozenset('()[]{}:"^~\\')
_WHITESPACE = frozenset(" \t\r\n\f\v\u3000")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_BOOST = re.compile(r"\^\d+(?:\.\d+)?")


class LuceneError(ValueError):
    """A query that cannot be parsed, or a value its field cannot take."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"{message} (at character {position})")
        self.position = position


# ---- the tree ----


@dataclass(frozen=True)
class MatchAll:
    """`*`, `*:*` or an empty query."""


@dataclass(frozen=True)
class Term:
    """`field:value` or `field:"a phrase"`; field None means the default (full-text) fields."""

    field: str | None
    text: str
    phrase: bool = False


@dataclass(frozen=True)
class Wildcard:
    """A term with unescaped `*` or `?`. `pattern` keeps those two as wildcards; a literal `*`,
    `?` or backslash in it is escaped with a backslash."""

    field: str | None
    pattern: str


@dataclass(frozen=True)
class Exists:
    """`field:*`: the field has a value."""

    field: str


@dataclass(frozen=True)
class Range:
    """`[low TO high]` (inclusive), `{low TO high}` (exclusive), mixed brackets, `field:>=low`.
    None is an open end (`*`)."""

    field: str | None
    low: str | None
    high: str | None
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = MatchAll | Term | Wildcard | Exists | Range | Not | And | Or


def parse(query: str) -> Node:
    """The tree of a query string; raises LuceneError with the offending position."""
    if len(query) > MAX_QUERY_LENGTH:
        raise LuceneError(f"The query is longer than {MAX_QUERY_LENGTH} characters.")
    if "\x00" in query:
        raise LuceneError("NUL characters are not allowed.", query.index("\x00"))
    return _Parser(query).parse()


# ---- the parser ----


@dataclass
class _Value:
    """A scanned value: its unescaped text, and the glob pattern when it has wildcards."""

    text: str
    pattern: str | None
    quoted: bool


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.clauses = 0

    # -- scanning helpers --

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def skip_ws(self) -> None:
        while self.peek() and self.peek() in _WHITESPACE:
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_ws()
        return self.pos >= len(self.text)

    def error(self, message: str, position: int | None = None) -> LuceneError:
        return LuceneError(message, self.pos if position is None else position)

    def keyword(self, *words: str) -> str | None:
        """Consumes one of the operator words when it stands alone (`AND` but not `ANDROID`)."""
        self.skip_ws()
        for word in words:
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos):
                after = self.text[end] if end < len(self.text) else ""
                if word.isalpha() and after and after not in _WHITESPACE and after not in "()":
                    continue
                self.pos = end
                return word
        return None

    def is_keyword_ahead(self, *words: str) -> bool:
        saved = self.pos
        found = self.keyword(*words) is not None
        self.pos = saved
        return found

    # -- grammar --

    def parse(self) -> Node:
        if self.at_end():
            return MatchAll()
        node = self.or_expr(None)
        if not self.at_end():
            char = self.peek()
            if char == ")":
                raise self.error("Unbalanced ')'.")
            raise self.error(f"Unexpected '{char}'.")
        return node

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"The query nests deeper than {MAX_DEPTH} levels.")

    def or_expr(self, field: str | None) -> Node:
        children = [self.and_expr(field)]
        while self.keyword("OR", "||"):
            if self.at_end() or self.peek() == ")":
                raise self.error("OR needs a clause on each side.")
            children.append(self.and_expr(field))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, field: str | None) -> Node:
        children = [self.clause(field)]
        while True:
            if self.at_end() or self.peek() == ")" or self.is_keyword_ahead("OR", "||"):
                break
            if self.keyword("AND", "&&") and (self.at_end() or self.peek() == ")"):
                raise self.error("AND needs a clause on each side.")
            children.append(self.clause(field))
        return children[0] if len(children) == 1 else And(tuple(children))

    def clause(self, field: str | None) -> Node:
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise self.error(f"The query has more than {MAX_CLAUSES} clauses.")
        self.skip_ws()
        start = self.pos
        if self.keyword("NOT") or self.peek() in ("!", "-"):
            if self.pos == start:
                self.pos += 1
            self.enter()
            self.skip_ws()
            if not self.peek() or self.peek() == ")":
                raise self.error("NOT needs a clause after it.", start)
            child = self.clause(field)
            self.depth -= 1
            return Not(child)
        if self.peek() == "+":
            self.pos += 1
            if not self.peek() or self.peek() in _WHITESPACE:
                raise self.error("'+' needs a clause right after it.", start)
            return self.clause(field)
        if self.is_keyword_ahead("AND", "OR", "&&", "||"):
            raise self.error("An operator needs a clause before it.")
        return self.primary(field)

    def primary(self, field: str | None) -> Node:
        self.skip_ws()
        char = self.peek()
        if char == "(":
            return self.group(field)
        if char in ("[", "{"):
            return self.range(field)
        if char in (">", "<"):
            return self.comparison(field)
        if char in (")", "]", "}", ":", "^", "~"):
            raise self.error(f"Unexpected '{char}'.")
        start = self.pos
        if self.text.startswith("*:", self.pos):
            # `*:*` matches everything; `*:term` searches the default fields.
            self.pos += 2
            return self.leaf(None, self.value(allow_colon=True))
        name = self.field_name()
        if name is not None:
            return self.field_value(name, start)
        value = self.value()
        return self.leaf(field, value)

    def group(self, field: str | None) -> Node:
        start = self.pos
        self.pos += 1
        self.enter()
        if self.at_end():
            raise self.error("Unbalanced '('.", start)
        if self.peek() == ")":
            raise self.error("Empty parentheses.", start)
        node = self.or_expr(field)
        self.skip_ws()
        if self.peek() != ")":
            raise self.error("Unbalanced '('.", start)
        self.pos += 1
        self.depth -= 1
        self.suffixes()
        return node

    def field_name(self) -> str | None:
        """`name:` directly ahead (no space before the colon) is a field; anything else is not."""
        match = _FIELD_NAME.match(self.text, self.pos)
        if match is None or self.text[match.end() : match.end() + 1] != ":":
            return None
        self.pos = match.end() + 1
        return match.group()

    def field_value(self, name: str, start: int) -> Node:
        self.skip_ws()
        char = self.peek()
        if not char:
            raise self.error(f"The field '{name}' has no value.", start)
        if char == "(":
            return self.group(name)
        if char in ("[", "{"):
            return self.range(name)
        if char in (">", "<"):
            return self.comparison(name)
        if char in (")", "]", "}", "^", "~"):
            raise self.error(f"The field '{name}' has no value.")
        return self.leaf(name, self.value(allow_colon=True))

    def leaf(self, field: str | None, value: _Value) -> Node:
        if value.pattern == "*":
            return Exists(field) if field else MatchAll()
        if value.pattern is not None:
            return Wildcard(field, value.pattern)
        return Term(field, value.text, phrase=value.quoted)

    def range(self, field: str | None) -> Node:
        start = self.pos
        include_low = self.peek() == "["
        self.pos += 1
        self.skip_ws()
        low = self.bound()
        if not self.keyword("TO"):
            raise self.error("A range needs 'TO' between its ends.", start)
        self.skip_ws()
        high = self.bound()
        self.skip_ws()
        closer = self.peek()
        if closer not in ("]", "}"):
            raise self.error("Unclosed range.", start)
        self.pos += 1
        self.suffixes()
        return Range(field, low, high, include_low, closer == "]")

    def bound(self) -> str | None:
        start = self.pos
        value = self.value(allow_colon=True)
        if value.pattern == "*" and not value.quoted:
            return None
        if value.pattern is not None:
            raise self.error("Range ends cannot hold wildcards.", start)
        return value.text

    def comparison(self, field: str | None) -> Node:
        start = self.pos
        operator = self.peek()
        self.pos += 1
        inclusive = self.peek() == "="
        if inclusive:
            self.pos += 1
        value = self.value(allow_colon=True)
        if value.pattern is not None:
            raise self.error(f"'{operator}' needs a value.", start)
        if operator == ">":
            return Range(field, value.text, None, include_low=inclusive)
        return Range(field, None, value.text, include_high=inclusive)

    def value(self, *, allow_colon: bool = False) -> _Value:
        if self.peek() == '"':
            return self.phrase()
        start = self.pos
        text: list[str] = []
        pattern: list[str] = []
        wildcard = False
        while True:
            char = self.peek()
            if not char or char in _WHITESPACE:
                break
            if char == "\\":
                escaped = self.peek(1)
                if not escaped:
                    raise self.error("A backslash at the end of the query escapes nothing.")
                text.append(escaped)
                pattern.append("\\" + escaped if escaped in "*?\\" else escaped)
                self.pos += 2
                continue
            if char == ":" and allow_colon and text:
                pass
            elif char in _SPECIAL:
                break
            wildcard = wildcard or char in "*?"
            pattern.append(char)
            text.append(char)
            self.pos += 1
        if self.pos == start:
            raise self.error("Expected a term.")
        self.suffixes()
        return _Value("".join(text), "".join(pattern) if wildcard else None, quoted=False)

    def phrase(self) -> _Value:
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise self.error("Unclosed quotation mark.", start)
            if char == "\\" and self.peek(1):
                chars.append(self.peek(1))
                self.pos += 2
                continue
            self.pos += 1
            if char == '"':
                break
            chars.append(char)
        self.suffixes()
        return _Value("".join(chars), None, quoted=True)

    def suffixes(self) -> None:
        """Boosts only weigh scores, which a filter has none of; fuzziness would change results."""
        while True:
            if self.peek() == "^":
                match = _BOOST.match(self.text, self.pos)
                if match is None:
                    raise self.error("A boost needs a number: '^2'.")
                self.pos = match.end()
            elif self.peek() == "~":
                raise self.error("Fuzzy and proximity searches ('~') are not supported.")
            else:
                return
