"""GET /api/v2/jobs: the body without parameters is the one clients always had; the optional
page/limit/search/category/pic_team/is_active narrow it."""

import json

import orjson
import pytest

from cronhub.testing.factories import JobFactory
from jobs.api.listing import job_list_json
from jobs.tests.job_list_reference import NOW, REFERENCE, create_reference_jobs

# The list reads columns with per-database SQL (instants as text, case-insensitive search).
pytestmark = pytest.mark.dbcompat


# Fields added to the job body after the reference was captured (additive: the delivery
# options of retries, timeout, overlap and webhook requests). Everything else is unchanged.
ADDED_FIELDS = ("overlap_policy", "max_attempts", "retry_backoff_seconds", "timeout_seconds",
                "webhook_method", "webhook_headers", "webhook_signing_secret")


def without_added(body: dict) -> dict:
    return {**body, "jobs": [{k: v for k, v in job.items() if k not in ADDED_FIELDS} for job in body["jobs"]]}


def test_the_whole_list_is_the_body_of_the_first_implementation_plus_the_added_fields(db):
    create_reference_jobs()
    body = orjson.loads(job_list_json(NOW))
    reference = orjson.loads(REFERENCE.read_bytes())
    assert without_added(body) == reference
    for job, old in zip(body["jobs"], reference["jobs"], strict=True):
        # the old fields keep their order; the added ones follow them, all present
        assert [k for k in job if k not in ADDED_FIELDS] == list(old)
        assert set(job) - set(old) == set(ADDED_FIELDS)


def test_without_parameters_the_api_answers_the_whole_list(api, viewer):
    create_reference_jobs()
    body = without_added(api(viewer).get("/api/v2/jobs").json())
    reference = orjson.loads(REFERENCE.read_bytes())
    assert set(body) == {"count", "jobs"}
    assert body["count"] == reference["count"] == 10
    strip = [{k: v for k, v in job.items() if k != "next_execution_at"} for job in reference["jobs"]]
    assert [{k: v for k, v in job.items() if k != "next_execution_at"} for job in body["jobs"]] == strip


def test_metadata_beyond_the_fast_encoder_is_still_listed(api, viewer):
    JobFactory(name="huge", metadata={"n": 2**70, "deep": [[[[1]]]]})
    jobs = api(viewer).get("/api/v2/jobs").json()["jobs"]
    assert jobs[0]["metadata"] == {"n": 2**70, "deep": [[[[1]]]]}


@pytest.fixture
def ten(db, owner):
    jobs = []
    for index in range(10):
        jobs.append(JobFactory(name=f"{'alpha' if index % 2 else 'beta'}-{index}", category=f"c{index % 3}",
                               pic_team="mobile" if index < 4 else "platform-qa", is_active=index != 9,
                               created_by=owner))
    return jobs


def names(response):
    assert response.status_code == 200, response.content
    return [job["name"] for job in response.json()["jobs"]]


def test_page_and_limit_give_one_page_with_the_total(api, viewer, ten):
    client = api(viewer)
    everything = names(client.get("/api/v2/jobs"))
    first = client.get("/api/v2/jobs?page=1&limit=4").json()
    assert {k: first[k] for k in ("count", "total", "page", "limit", "total_pages")} == {
        "count": 4, "total": 10, "page": 1, "limit": 4, "total_pages": 3}
    pages = [names(client.get(f"/api/v2/jobs?page={page}&limit=4")) for page in (1, 2, 3)]
    assert sum(pages, []) == everything
    assert names(client.get("/api/v2/jobs?page=4&limit=4")) == []
    assert client.get("/api/v2/jobs?limit=3").json()["page"] == 1
    assert client.get("/api/v2/jobs?page=1").json()["limit"] == 50


@pytest.mark.parametrize(("query", "expected"), [
    ("search=ALPHA", {"alpha-1", "alpha-3", "alpha-5", "alpha-7", "alpha-9"}),
    ("category=c1", {"alpha-1", "beta-4", "alpha-7"}),
    ("pic_team=mobile", {"beta-0", "alpha-1", "beta-2", "alpha-3"}),
    ("is_active=false", {"alpha-9"}),
    ("is_active=true&pic_team=mobile&search=beta", {"beta-0", "beta-2"}),
])
def test_filters(api, viewer, ten, query, expected):
    body = api(viewer).get(f"/api/v2/jobs?{query}").json()
    assert {job["name"] for job in body["jobs"]} == expected
    assert body["count"] == len(expected)
    assert "total" not in body  # not paged: the filtered list whole


def test_filters_and_paging_together(api, viewer, ten):
    body = api(viewer).get("/api/v2/jobs?search=alpha&page=2&limit=2").json()
    assert body["total"] == 5 and body["total_pages"] == 3 and body["count"] == 2


@pytest.mark.parametrize("query", ["page=0", "limit=0", "limit=1001", "page=x", "is_active=maybe"])
def test_bad_parameters_are_400_in_the_contract_shape(api, viewer, query):
    response = api(viewer).get(f"/api/v2/jobs?{query}")
    assert response.status_code in (400, 422), response.content
    assert "detail" in json.loads(response.content) or "error" in json.loads(response.content)
