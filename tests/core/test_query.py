"""Unit tests of the query-string layer: Rack-style nested parameters, typed scalars (dates,
booleans, integers), page-number pagination with its 10,000-row cap, and pagination links.
No database and no HTTP: these call bountybox.core.jsonapi directly."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bountybox.core.errors import InvalidParameter
from bountybox.core.jsonapi.links import page_links
from bountybox.core.jsonapi.query import (
    Page,
    Params,
    parse_bool,
    parse_datetime,
    parse_int,
    parse_page,
    parse_query,
)

UTC = dt.UTC
BASE = "http://testserver/v1/reports"
PROPERTY = settings(
    max_examples=300, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Overrides the conftest fixture: these tests never touch the database."""


def params_of(query: str) -> Params:
    return parse_query(query)[0]


# ---- Rack-style parsing -------------------------------------------------------------------------


def test_empty_brackets_collect_repeated_values_into_a_list() -> None:
    assert params_of("filter[program][]=a&filter[program][]=b") == {
        "filter": {"program": ["a", "b"]}
    }


def test_a_single_empty_bracket_value_is_still_a_list() -> None:
    assert params_of("filter[program][]=a") == {"filter": {"program": ["a"]}}


def test_indexed_brackets_become_a_list_ordered_by_index_not_by_arrival() -> None:
    assert params_of("filter[program][1]=b&filter[program][0]=a") == {
        "filter": {"program": ["a", "b"]}
    }
    # Numeric order, not string order: 10 comes after 2.
    assert params_of("s[10]=z&s[2]=w&s[0]=x&s[1]=y") == {"s": ["x", "y", "w", "z"]}


def test_indexed_form_matches_the_empty_bracket_form() -> None:
    assert params_of("filter[state][0]=new&filter[state][1]=triaged") == params_of(
        "filter[state][]=new&filter[state][]=triaged"
    )


def test_scalar_bracket_key_is_a_nested_string() -> None:
    assert params_of("filter[keyword]=xss&sort=-reports.created_at") == {
        "filter": {"keyword": "xss"},
        "sort": "-reports.created_at",
    }


def test_later_scalar_value_wins() -> None:
    assert params_of("filter[keyword]=a&filter[keyword]=b") == {"filter": {"keyword": "b"}}


def test_arrays_of_hashes_start_a_new_element_when_a_key_repeats() -> None:
    query = (
        "filter[custom_fields][][id__eq]=1&filter[custom_fields][][value__eq]=x%25"
        "&filter[custom_fields][][id__eq]=2&filter[custom_fields][][value__eq]=y_"
    )
    assert params_of(query) == {
        "filter": {
            "custom_fields": [
                {"id__eq": "1", "value__eq": "x%"},
                {"id__eq": "2", "value__eq": "y_"},
            ]
        }
    }


def test_indexed_arrays_of_hashes_group_by_index() -> None:
    query = (
        "filter[custom_fields][1][id__eq]=2&filter[custom_fields][0][id__eq]=1"
        "&filter[custom_fields][0][value__eq]=a&filter[custom_fields][1][value__eq]=b"
    )
    assert params_of(query) == {
        "filter": {
            "custom_fields": [
                {"id__eq": "1", "value__eq": "a"},
                {"id__eq": "2", "value__eq": "b"},
            ]
        }
    }


def test_percent_encoded_brackets_parse_like_raw_brackets() -> None:
    raw = "filter[program][]=a&filter[program][]=b&page[number]=2"
    encoded = "filter%5Bprogram%5D%5B%5D=a&filter%5Bprogram%5D%5B%5D=b&page%5Bnumber%5D=2"
    lower = "filter%5bprogram%5d%5b%5d=a&filter%5bprogram%5d%5b%5d=b&page%5bnumber%5d=2"
    assert params_of(raw) == params_of(encoded) == params_of(lower)
    assert params_of(encoded) == {"filter": {"program": ["a", "b"]}, "page": {"number": "2"}}


def test_mixed_raw_and_encoded_brackets_land_in_the_same_list() -> None:
    assert params_of("filter%5Bprogram%5D%5B%5D=a&filter[program][]=b") == {
        "filter": {"program": ["a", "b"]}
    }


def test_blank_values_are_kept_as_empty_strings() -> None:
    assert params_of("x=&y&filter[program][]=&page[size]=") == {
        "x": "",
        "y": "",
        "filter": {"program": [""]},
        "page": {"size": ""},
    }


def test_plus_and_percent_escapes_are_decoded_in_values() -> None:
    params = params_of("filter[created_at__gt]=2017-02-11T16:00:44%2B00:00&filter[keyword]=a+b")
    assert params["filter"] == {
        "created_at__gt": "2017-02-11T16:00:44+00:00",
        "keyword": "a b",
    }


def test_flat_pairs_keep_the_original_order_and_decoded_keys() -> None:
    _, pairs = parse_query("b=2&filter%5Bprogram%5D%5B%5D=x&a=1&filter[program][]=y")
    assert pairs == [
        ("b", "2"),
        ("filter[program][]", "x"),
        ("a", "1"),
        ("filter[program][]", "y"),
    ]


@pytest.mark.parametrize(
    "query",
    ["a]=1", "a[b=1", "[a]=1", "a[b]c=1", "a[[b]]=1", "=1", "&&&", "a[]=1&a[x]=2", "a[x]=1&a[]=2"],
)
def test_odd_keys_do_not_raise(query: str) -> None:
    params, pairs = parse_query(query)
    assert isinstance(params, dict)
    assert isinstance(pairs, list)


def test_keys_that_are_not_rack_shaped_are_kept_verbatim() -> None:
    assert params_of("a[b]c=1&[x]=2") == {"a[b]c": "1", "[x]": "2"}


def test_empty_query_string_is_empty() -> None:
    assert parse_query("") == ({}, [])


def test_very_deeply_nested_keys_do_not_exhaust_the_stack() -> None:
    query = "a" + "[b]" * 600 + "=1"
    try:
        params, _ = parse_query(query)
    except InvalidParameter:
        return
    assert "a" in params


@PROPERTY
@given(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=127)))
@example("filter[a][][b]=1&filter[a][][b][]=2&filter[a][0]=3&filter[a][x][]=4")
@example("a[0]=1&a[]=2&a[0][b]=3&a=4&a[1][]=5")
def test_parse_query_never_raises_on_arbitrary_ascii_text(query: str) -> None:
    _, pairs = parse_query(query)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)


@PROPERTY
@given(st.text())
@example("filter[program][%C2%B2]=a")
@example("\u00b2=1")
def test_parse_query_raises_nothing_but_invalid_parameter(query: str) -> None:
    try:
        _, pairs = parse_query(query)
    except InvalidParameter:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)


@PROPERTY
@given(st.text(alphabet="ab01[]=&%5BD+", max_size=60))
def test_parse_query_never_raises_on_bracket_heavy_text(query: str) -> None:
    if "%00" not in query:
        parse_query(query)


@PROPERTY
@given(st.text(alphabet="ab[]=&", max_size=60))
def test_parse_query_returns_a_hash_for_non_numeric_keys(query: str) -> None:
    params, _ = parse_query(query)
    assert isinstance(params, dict)


@pytest.mark.parametrize("query", ["0=a", "0=a&1=b", "0[x]=a"])
def test_numeric_top_level_keys_stay_a_hash(query: str) -> None:
    params, _ = parse_query(query)
    assert isinstance(params, dict)
    assert parse_page(params) == Page(1, 25)


@PROPERTY
@given(
    st.lists(
        st.text(
            st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
            min_size=1,
            max_size=10,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_empty_bracket_lists_round_trip_through_urlencoding(values: list[str]) -> None:
    query = urlencode([("filter[program][]", v) for v in values])
    assert params_of(query) == {"filter": {"program": values}}


# ---- typed scalars ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-12-04T15:38:00Z", dt.datetime(2017, 12, 4, 15, 38, tzinfo=UTC)),
        ("2017-12-04T15:38:00z", dt.datetime(2017, 12, 4, 15, 38, tzinfo=UTC)),
        ("2017-12-04T15:38:00.000Z", dt.datetime(2017, 12, 4, 15, 38, tzinfo=UTC)),
        ("2017-12-04T15:38:00.123Z", dt.datetime(2017, 12, 4, 15, 38, 0, 123000, tzinfo=UTC)),
        ("2017-12-04T15:38:00+00:00", dt.datetime(2017, 12, 4, 15, 38, tzinfo=UTC)),
        ("2017-02-11T16:00:44-10:00", dt.datetime(2017, 2, 12, 2, 0, 44, tzinfo=UTC)),
        ("2017-02-11T16:00:44+05:30", dt.datetime(2017, 2, 11, 10, 30, 44, tzinfo=UTC)),
        # `+00:00` sent unencoded: the query parser turns `+` into a space.
        ("2017-12-04T15:38:00 00:00", dt.datetime(2017, 12, 4, 15, 38, tzinfo=UTC)),
        ("2017-12-04T15:38:00.000 02:00", dt.datetime(2017, 12, 4, 13, 38, tzinfo=UTC)),
        ("2017-12-04T15:38 00:00", dt.datetime(2017, 12, 4, 15, 38, tzinfo=UTC)),
        ("2017-12-04T15:38:00", dt.datetime(2017, 12, 4, 15, 38, tzinfo=UTC)),
        ("2017-12-04", dt.datetime(2017, 12, 4, tzinfo=UTC)),
        ("  2017-12-04T15:38:00Z  ", dt.datetime(2017, 12, 4, 15, 38, tzinfo=UTC)),
    ],
)
def test_parse_datetime_accepts_iso_8601_forms_and_returns_utc(
    text: str, expected: dt.datetime
) -> None:
    parsed = parse_datetime(text, "filter[created_at__gt]")
    assert parsed == expected
    assert parsed.utcoffset() == dt.timedelta(0)


def test_an_unencoded_plus_offset_survives_the_query_parser() -> None:
    params = params_of("filter[created_at__gt]=2017-12-04T15:38:00+00:00")
    value = params["filter"]["created_at__gt"]
    assert value == "2017-12-04T15:38:00 00:00"
    assert parse_datetime(value, "filter[created_at__gt]") == dt.datetime(
        2017, 12, 4, 15, 38, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "yesterday",
        "2017-13-01",
        "2017-02-30T00:00:00Z",
        "2017-12-04T25:00:00Z",
        "2017-12-04T15:38:00+24:00",
        "2017-12-04T15:38:00ZZ",
        "1512401880",
        "2017-12-04T15:38:00Z; DROP TABLE reports",
        "2017-12-04T15:38:00" + "0" * 60,
        "2" * 65,
        None,
        12,
        ["2017-12-04"],
        {"a": "2017-12-04"},
    ],
)
def test_parse_datetime_rejects_junk_naming_the_parameter(value: object) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_datetime(value, "filter[created_at__gt]")
    assert caught.value.parameter == "filter[created_at__gt]"
    assert caught.value.status == 400
    assert caught.value.body()["errors"][0]["source"] == {"parameter": "filter[created_at__gt]"}


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00+10:00"])
def test_parse_datetime_rejects_out_of_range_instants_as_invalid_parameter(value: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_datetime(value, "filter[created_at__gt]")
    assert caught.value.parameter == "filter[created_at__gt]"


@PROPERTY
@given(st.text(max_size=80))
@example("2017-12-04T15:38:00 00:00")
@example("2017-12-04T15:38:00\x00Z")
def test_parse_datetime_raises_nothing_but_invalid_parameter(value: str) -> None:
    parameter: str | None = None
    try:
        parsed = parse_datetime(value, "p")
    except InvalidParameter as error:
        parameter = error.parameter
    else:
        assert parsed.tzinfo is not None
        assert parsed.utcoffset() == dt.timedelta(0)
        return
    assert parameter == "p"


@PROPERTY
@given(
    st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [UTC, dt.timezone(dt.timedelta(hours=-10)), dt.timezone(dt.timedelta(hours=5.5))]
        ),
    )
)
def test_parse_datetime_round_trips_isoformat(moment: dt.datetime) -> None:
    assert parse_datetime(moment.isoformat(), "p") == moment


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("false", False), ("False", False), ("0", False)],
)
def test_parse_bool_accepts_true_false_and_digits(value: str, expected: bool) -> None:
    assert parse_bool(value, "filter[hacker_published]") is expected


@pytest.mark.parametrize("value", ["", "yes", "no", "t", "2", None, ["true"]])
def test_parse_bool_rejects_anything_else(value: object) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_bool(value, "filter[hacker_published]")
    assert caught.value.parameter == "filter[hacker_published]"


@pytest.mark.parametrize(
    ("value", "expected"), [("0", 0), ("42", 42), (" 7 ", 7), ("-3", -3), (9, 9)]
)
def test_parse_int_accepts_decimal_integers(value: object, expected: int) -> None:
    assert parse_int(value, "filter[id__gt]") == expected


@pytest.mark.parametrize(
    "value",
    ["", "1.5", "1e3", "0x10", "abc", "9" * 20, str(2**63), True, None, ["1"], 2**64],
)
def test_parse_int_rejects_non_integers_and_overflow(value: object) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_int(value, "filter[id__gt]")
    assert caught.value.parameter == "filter[id__gt]"


def test_parse_int_enforces_the_minimum() -> None:
    assert parse_int("0", "x", minimum=0) == 0
    with pytest.raises(InvalidParameter):
        parse_int("-1", "x", minimum=0)


# ---- parse_page ---------------------------------------------------------------------------------


def test_page_defaults_to_number_1_size_25() -> None:
    assert parse_page({}) == Page(number=1, size=25)
    assert parse_page(params_of("page[number]=&page[size]=")) == Page(number=1, size=25)


def test_page_number_and_size_are_read() -> None:
    page = parse_page(params_of("page[number]=3&page[size]=10"))
    assert page == Page(number=3, size=10)
    assert page.offset == 20


def test_page_parameters_may_arrive_percent_encoded() -> None:
    assert parse_page(params_of("page%5Bnumber%5D=2&page%5Bsize%5D=5")) == Page(2, 5)


@pytest.mark.parametrize("size", ["1", "100"])
def test_page_size_bounds_are_inclusive(size: str) -> None:
    assert parse_page({"page": {"size": size}}).size == int(size)


@pytest.mark.parametrize("size", ["0", "101", "1000", "-1", "-25", "abc", "2.5", "1e2", "9" * 30])
def test_page_size_out_of_range_or_non_numeric_is_invalid_page_size(size: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_page({"page": {"size": size}})
    assert caught.value.parameter == "page[size]"


@pytest.mark.parametrize("number", ["0", "-1", "abc", "1.0", "9" * 30])
def test_bad_page_number_is_invalid_page_number(number: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_page({"page": {"number": number}})
    assert caught.value.parameter == "page[number]"


def test_page_must_be_a_hash() -> None:
    for query in ("page=2", "page[]=2"):
        with pytest.raises(InvalidParameter) as caught:
            parse_page(params_of(query))
        assert caught.value.parameter == "page"


def test_nested_page_number_is_invalid() -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_page(params_of("page[number][]=2"))
    assert caught.value.parameter == "page[number]"


def test_a_smaller_max_size_is_enforced() -> None:
    assert parse_page({"page": {"size": "50"}}, max_size=50).size == 50
    with pytest.raises(InvalidParameter) as caught:
        parse_page({"page": {"size": "51"}}, max_size=50)
    assert caught.value.parameter == "page[size]"
    assert "50" in (caught.value.detail or "")


def test_offsets_below_ten_thousand_rows_are_reachable() -> None:
    assert parse_page({"page": {"number": "400", "size": "25"}}) == Page(400, 25)
    assert parse_page({"page": {"number": "100", "size": "100"}}) == Page(100, 100)
    assert parse_page({"page": {"number": "10000", "size": "1"}}) == Page(10000, 1)


@pytest.mark.parametrize(
    ("number", "size"), [("401", "25"), ("101", "100"), ("10001", "1"), ("9" * 18, "25")]
)
def test_offsets_at_or_past_ten_thousand_rows_are_refused(number: str, size: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_page({"page": {"number": number, "size": size}})
    assert caught.value.parameter == "page[number]"
    assert "filter[id__gt]" in (caught.value.detail or "")


def test_the_offset_cap_applies_to_the_default_page_size() -> None:
    assert parse_page({"page": {"number": "400"}}) == Page(400, 25)
    with pytest.raises(InvalidParameter):
        parse_page({"page": {"number": "401"}})


def test_first_is_an_alias_of_page_size_where_enabled() -> None:
    assert parse_page({"first": "10"}, size_alias="first") == Page(1, 10)
    assert parse_page({"first": ""}, size_alias="first") == Page(1, 25)
    # page[size] wins over the alias.
    assert parse_page({"first": "10", "page": {"size": "5"}}, size_alias="first").size == 5
    # Without the alias enabled, `first` means nothing.
    assert parse_page({"first": "10"}) == Page(1, 25)


@pytest.mark.parametrize("first", ["0", "101", "x"])
def test_a_bad_first_alias_is_invalid(first: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_page({"first": first}, size_alias="first")


# ---- page_links ---------------------------------------------------------------------------------


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def test_links_are_empty_when_one_page_holds_everything() -> None:
    assert page_links(BASE, [], Page(1, 25), 0) == {}
    assert page_links(BASE, [], Page(1, 25), 25) == {}
    assert page_links(BASE, [("page[size]", "100")], Page(1, 100), 100) == {}


def test_first_of_several_pages_has_self_first_next_last_but_no_prev() -> None:
    pairs = [("filter[program][]", "acme"), ("page[size]", "2")]
    links = page_links(BASE, pairs, Page(1, 2), 5)
    assert set(links) == {"self", "first", "next", "last"}
    prefix = f"{BASE}?filter%5Bprogram%5D%5B%5D=acme&page%5Bsize%5D=2&page%5Bnumber%5D="
    assert links == {
        "self": prefix + "1",
        "first": prefix + "1",
        "next": prefix + "2",
        "last": prefix + "3",
    }


def test_middle_page_has_prev_and_next() -> None:
    pairs = [("page[size]", "2"), ("page[number]", "2")]
    links = page_links(BASE, pairs, Page(2, 2), 5)
    assert [dict(query_of(links[k]))["page[number]"] for k in links] == ["2", "1", "1", "3", "3"]
    assert list(links) == ["self", "first", "prev", "next", "last"]


def test_last_page_has_prev_but_no_next() -> None:
    links = page_links(BASE, [("page[number]", "3"), ("page[size]", "2")], Page(3, 2), 5)
    assert "next" not in links
    assert dict(query_of(links["prev"]))["page[number]"] == "2"
    assert dict(query_of(links["last"]))["page[number]"] == "3"
    assert dict(query_of(links["self"]))["page[number]"] == "3"


def test_a_page_past_the_end_points_prev_at_the_last_page() -> None:
    links = page_links(BASE, [("page[number]", "9"), ("page[size]", "2")], Page(9, 2), 5)
    assert "next" not in links
    assert dict(query_of(links["prev"]))["page[number]"] == "3"


def test_links_are_absolute_with_percent_encoded_brackets() -> None:
    pairs = [("filter[program][]", "acme"), ("page[size]", "1")]
    links = page_links(BASE, pairs, Page(1, 1), 2)
    for url in links.values():
        assert url.startswith("http://testserver/v1/reports?")
        assert "[" not in url
        assert "]" not in url
        assert "%5B" in url


def test_links_keep_every_original_parameter_in_order_and_replace_page_number() -> None:
    pairs = [
        ("filter[program][]", "a"),
        ("filter[program][]", "b"),
        ("page[number]", "2"),
        ("sort", "-reports.created_at"),
        ("filter[keyword]", "sql injection & more"),
        ("filter[custom_fields][][value__eq]", "x%"),
        ("empty", ""),
        ("page[size]", "1"),
    ]
    links = page_links(BASE, pairs, Page(2, 1), 3)
    for name, number in [("self", "2"), ("first", "1"), ("prev", "1"), ("next", "3")]:
        kept = [p for p in pairs if p[0] != "page[number]"]
        assert query_of(links[name]) == [*kept, ("page[number]", number)], name


def test_links_round_trip_through_parse_query() -> None:
    _, pairs = parse_query("filter%5Bprogram%5D%5B%5D=acme&page%5Bsize%5D=1&page%5Bnumber%5D=1")
    links = page_links(BASE, pairs, Page(1, 1), 2)
    params, _ = parse_query(urlsplit(links["next"]).query)
    assert params == {"filter": {"program": ["acme"]}, "page": {"size": "1", "number": "2"}}
