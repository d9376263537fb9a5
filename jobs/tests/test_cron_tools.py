"""POST /jobs/validate-cron, /jobs/cron-preview and /jobs/cron-description, and the
sample cron cases (fixtures/cron_examples.json) passed through the API."""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone

EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "cron_examples.json"


def _examples(kind):
    return [pytest.param(case, id=case["id"]) for case in json.loads(EXAMPLES.read_text())[kind]]


def post(client, path, body):
    return client.post(f"/api/v2/jobs/{path}", body, format="json")


# --- validate-cron ---------------------------------------------------------------------------


def test_a_valid_expression_is_valid_with_a_description(api, viewer):
    response = post(api(viewer), "validate-cron", {"expression": "0 9 * * 1-5"})
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["message"] == "Valid cron expression"
    assert body["description"]


def test_an_invalid_expression_is_200_valid_false(api, viewer):
    response = post(api(viewer), "validate-cron", {"expression": "* * * *"})
    assert response.status_code == 200
    assert response.json() == {
        "valid": False,
        "error": "Invalid cron expression",
        "message": ("Cron expression must have exactly 5 fields (minute hour day month day-of-week)."),
    }


def test_an_empty_expression_names_the_requirement(api, viewer):
    body = post(api(viewer), "validate-cron", {"expression": "  "}).json()
    assert body["message"] == "Cron expression is required."


def test_cron_expression_is_accepted_as_an_alias(api, viewer):
    assert post(api(viewer), "validate-cron", {"cron_expression": "0 3 * * *"}).json()["valid"] is True


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ("{bad", "application/json", {"error": "Invalid JSON"}),
        ("[1]", "application/json", {"error": "Invalid payload", "message": "JSON body must be an object."}),
        ('{"expression": "* * * * *"}', "text/plain", {"error": "Content-Type must be application/json"}),
    ],
)
def test_bad_bodies_are_400s_not_500s(api, viewer, raw, content_type, expected):
    response = api(viewer).post("/api/v2/jobs/validate-cron", raw, content_type=content_type)
    assert response.status_code == 400
    assert response.json() == expected


def test_validate_cron_needs_a_token(api, db):
    assert post(api(), "validate-cron", {"expression": "* * * * *"}).status_code == 401


@pytest.mark.parametrize("case", _examples("invalid"))
def test_every_refused_sample_expression_is_refused_by_validate_cron_and_job_create(
    api, owner, create_body, case
):
    verdict = post(api(owner), "validate-cron", {"expression": case["expr"]}).json()
    assert verdict["valid"] is False and verdict["error"] == "Invalid cron expression"
    assert verdict["message"].strip()
    response = api(owner).post(
        "/api/v2/jobs", {**create_body, "cron_expression": case["expr"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid cron expression"


# --- cron-preview -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _examples("valid"))
def test_every_sample_schedule_previews_its_expected_fire_times(api, viewer, case):
    response = post(
        api(viewer),
        "cron-preview",
        {"expression": case["expr"], "count": 5, "timezone": case["tz"], "from": case["start"]},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["timezone"] == case["tz"]
    assert body["next_runs"] == case["expected_next"]
    assert body["count"] == len(case["expected_next"])


def test_a_client_sending_only_expression_and_count_gets_runs_after_now_in_the_scheduler_zone(api, viewer):
    before = timezone.now()
    body = post(api(viewer), "cron-preview", {"expression": "*/5 * * * *", "count": 3}).json()
    assert body["timezone"] == "Asia/Tokyo" and body["count"] == 3
    runs = [dt.datetime.fromisoformat(run) for run in body["next_runs"]]
    assert all(run.utcoffset() == dt.timedelta(hours=9) for run in runs)
    assert before < runs[0] <= before + dt.timedelta(minutes=5)
    assert runs[1] - runs[0] == dt.timedelta(minutes=5)


@pytest.mark.parametrize(("count", "expected"), [(None, 5), (0, 5), ("3", 3), (50, 20), (-1, 0)])
def test_count_defaults_clamps_and_accepts_numeric_strings(api, viewer, count, expected):
    body = {"expression": "* * * * *"}
    if count is not None:
        body["count"] = count
    assert post(api(viewer), "cron-preview", body).json()["count"] == expected


def test_a_non_numeric_count_is_a_400(api, viewer):
    response = post(api(viewer), "cron-preview", {"expression": "* * * * *", "count": "abc"})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid payload"


def test_preview_starts_strictly_after_from(api, viewer):
    body = post(
        api(viewer),
        "cron-preview",
        {"expression": "0 9 * * *", "count": 1, "timezone": "UTC", "from": "2025-06-15T09:00:00Z"},
    ).json()
    assert body["next_runs"] == ["2025-06-16T09:00:00+00:00"]


def test_an_invalid_expression_is_a_400_in_preview(api, viewer):
    response = post(api(viewer), "cron-preview", {"expression": "0 0 * * 8"})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid cron expression"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("timezone", "Mars/Base", "Invalid timezone"),
        ("from", "yesterday-ish", "Invalid payload"),
        ("from", 12, "Invalid payload"),
    ],
)
def test_bad_time_zone_or_start_is_a_400(api, viewer, field, value, error):
    response = post(api(viewer), "cron-preview", {"expression": "* * * * *", field: value})
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_cron_description_is_the_safe_extension_for_the_unused_client_call(api, viewer):
    assert post(api(viewer), "cron-description", {"expression": "0 9 * * 1"}).json()["description"]
    assert post(api(viewer), "cron-description", {"expression": "bad"}).status_code == 400


@pytest.mark.parametrize(
    "body", [{"cron_expression": False}, {"expression": 5}, {"expression": ["* * * * *"]}]
)
def test_an_expression_that_is_not_text_is_a_400(api, viewer, body):
    response = post(api(viewer), "validate-cron", body)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid payload"


def test_a_null_expression_is_simply_invalid(api, viewer):
    body = post(api(viewer), "validate-cron", {"expression": None}).json()
    assert body == {
        "valid": False,
        "error": "Invalid cron expression",
        "message": "Cron expression is required.",
    }
