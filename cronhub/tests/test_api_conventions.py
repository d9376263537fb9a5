"""API-wide conventions: formats, query parsing, trailing slashes, JSON 404s."""

import datetime as dt

import pytest

from cronhub.api.errors import ApiError
from cronhub.api.formats import (
    iso_offset,
    iso_z,
    iso_z_micro,
    iso_z_millis,
    iso_zoned,
    query_bool,
    query_int,
    query_range,
)

MOMENT = dt.datetime(2025, 12, 18, 6, 49, 31, 105845, tzinfo=dt.UTC)


def test_every_timestamp_spelling_carries_an_offset_and_keeps_its_precision():
    assert iso_z(MOMENT) == "2025-12-18T06:49:31.105845Z"
    assert iso_z(MOMENT.replace(microsecond=0)) == "2025-12-18T06:49:31Z"
    assert iso_z_millis(MOMENT) == "2025-12-18T06:49:31.105Z"
    assert iso_z_micro(MOMENT.replace(microsecond=0)) == "2025-12-18T06:49:31.000000Z"
    assert iso_offset(MOMENT) == "2025-12-18T06:49:31.105845Z"
    assert iso_zoned(MOMENT, "Asia/Tokyo") == "2025-12-18T15:49:31+09:00"
    assert iso_z(None) is None


@pytest.mark.parametrize(("raw", "expected"), [("TRUE", True), ("on", True), ("0", False), ("n", False)])
def test_query_booleans_accept_the_documented_spellings(raw, expected):
    assert query_bool({"unread_only": raw}, "unread_only") is expected


def test_an_unreadable_query_boolean_is_a_400_naming_the_parameter():
    with pytest.raises(ApiError) as caught:
        query_bool({"unread_only": "maybe"}, "unread_only")
    assert caught.value.status_code == 400
    assert caught.value.body["detail"][0]["loc"] == ["query", "unread_only"]
    assert caught.value.body["detail"][0]["type"] == "bool_parsing"


def test_query_integers_are_bounded():
    assert query_int({"limit": "50"}, "limit", 20, minimum=1, maximum=200) == 50
    with pytest.raises(ApiError) as caught:
        query_int({"limit": "0"}, "limit", 20, minimum=1, maximum=200)
    assert caught.value.body["detail"][0]["ctx"] == {"ge": 1}


def test_a_date_only_to_covers_its_whole_day_and_z_is_accepted():
    start, end = query_range({"from": "2025-01-01T10:00:00Z", "to": "2025-01-01"})
    assert start == dt.datetime(2025, 1, 1, 10, tzinfo=dt.UTC)
    assert end == dt.datetime(2025, 1, 2, tzinfo=dt.UTC)


@pytest.mark.parametrize(("params", "error"), [
    ({"from": "bad"}, "Invalid date"),
    ({"from": "2025-02-01", "to": "2025-01-01"}, "Invalid date range"),
])
def test_bad_ranges_are_400s(params, error):
    with pytest.raises(ApiError) as caught:
        query_range(params)
    assert caught.value.status_code == 400 and caught.value.body["error"] == error


def test_a_trailing_slash_under_the_api_redirects_with_307_without_auth(client):
    response = client.post("/api/v2/jobs/?x=1", data="{}", content_type="application/json")
    assert response.status_code == 307
    assert response["Location"] == "http://testserver/api/v2/jobs?x=1"
    assert response.content == b""


def test_an_unknown_api_path_is_a_json_404(client, db):
    response = client.get("/api/v2/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
