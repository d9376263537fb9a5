"""The delivery fields of a job (retries, timeout, overlap, webhook options) through every
entry point: the API (400s in the contract's shape; secrets never returned), the CSV import,
the admin (secrets masked)."""

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from cronhub.testing.factories import JobExecutionFactory, JobFactory
from jobs import rules
from jobs.models import Job
from jobs.tests.test_admin_job_form import form_data
from jobs.tests.test_bulk_upload import upload

URL = "/api/v2/jobs"


@pytest.fixture
def webhook_body(create_body):
    body = {key: value for key, value in create_body.items() if not key.startswith("github_")}
    return {**body, "target_url": "https://hooks.example/run"}


def test_a_new_job_gets_the_defaults_that_keep_todays_behaviour(api, owner, webhook_body):
    response = api(owner).post(URL, webhook_body, format="json")

    assert response.status_code == 201
    job = response.json()["job"]
    assert {key: job[key] for key in ("max_attempts", "retry_backoff_seconds", "timeout_seconds",
                                      "overlap_policy", "webhook_method", "webhook_headers",
                                      "webhook_signing_secret")} == {
        "max_attempts": 1, "retry_backoff_seconds": 10, "timeout_seconds": 30, "overlap_policy": "skip",
        "webhook_method": "", "webhook_headers": {}, "webhook_signing_secret": ""}


def test_the_fields_are_stored_and_secrets_come_back_masked(api, owner, webhook_body):
    body = {**webhook_body, "max_attempts": 4, "retry_backoff_seconds": "30", "timeout_seconds": 120,
            "overlap_policy": "BUFFER_ONE", "webhook_method": "put",
            "webhook_headers": {"Authorization": "Bearer abc", "X-Team": 7},
            "webhook_signing_secret": " whsec_1 "}

    response = api(owner).post(URL, body, format="json")

    assert response.status_code == 201, response.content
    shown = response.json()["job"]
    assert shown["webhook_headers"] == {"Authorization": rules.MASK, "X-Team": rules.MASK}
    assert shown["webhook_signing_secret"] == rules.MASK
    assert "Bearer abc" not in response.content.decode() and "whsec_1" not in response.content.decode()
    job = Job.objects.get(pk=shown["id"])
    assert (job.max_attempts, job.retry_backoff_seconds, job.timeout_seconds, job.overlap_policy,
            job.webhook_method) == (4, 30, 120, "buffer_one", "PUT")
    assert job.webhook_headers == {"Authorization": "Bearer abc", "X-Team": "7"}
    assert job.webhook_signing_secret == "whsec_1"
    listed = api(owner).get(URL).json()["jobs"][0]
    assert listed["webhook_headers"] == {"Authorization": rules.MASK, "X-Team": rules.MASK}


def test_sending_the_masked_values_back_keeps_the_secrets(api, owner):
    job = JobFactory(created_by=owner, webhook_headers={"Authorization": "Bearer abc"},
                     webhook_signing_secret="whsec_1")
    shown = api(owner).get(f"{URL}/{job.pk}").json()
    shown = shown.get("job", shown)

    response = api(owner).put(f"{URL}/{job.pk}", {
        "webhook_headers": {**shown["webhook_headers"], "X-New": "1"},
        "webhook_signing_secret": shown["webhook_signing_secret"], "max_attempts": 2}, format="json")

    assert response.status_code == 200, response.content
    job.refresh_from_db()
    assert job.webhook_headers == {"Authorization": "Bearer abc", "X-New": "1"}
    assert job.webhook_signing_secret == "whsec_1" and job.max_attempts == 2
    cleared = api(owner).put(f"{URL}/{job.pk}", {"webhook_headers": {}, "webhook_signing_secret": ""},
                             format="json")
    assert cleared.status_code == 200
    job.refresh_from_db()
    assert job.webhook_headers == {} and job.webhook_signing_secret == ""


@pytest.mark.parametrize(("field", "value", "message"), [
    ("max_attempts", 0, '"max_attempts" must be a whole number from 1 to 10.'),
    ("max_attempts", 11, '"max_attempts" must be a whole number from 1 to 10.'),
    ("max_attempts", True, '"max_attempts" must be a whole number from 1 to 10.'),
    ("max_attempts", 1.5, '"max_attempts" must be a whole number from 1 to 10.'),
    ("max_attempts", "three", '"max_attempts" must be a whole number from 1 to 10.'),
    ("retry_backoff_seconds", 0, '"retry_backoff_seconds" must be a whole number from 1 to 3600.'),
    ("retry_backoff_seconds", None, '"retry_backoff_seconds" must be a whole number from 1 to 3600.'),
    ("timeout_seconds", 301, '"timeout_seconds" must be a whole number from 1 to 300.'),
    ("timeout_seconds", -1, '"timeout_seconds" must be a whole number from 1 to 300.'),
    ("overlap_policy", "queue", '"overlap_policy" must be one of: skip, allow, buffer_one.'),
    ("overlap_policy", None, '"overlap_policy" must be one of: skip, allow, buffer_one.'),
    ("webhook_method", "HEAD", '"webhook_method" must be one of: GET, POST, PUT, PATCH, DELETE.'),
    ("webhook_method", 5, '"webhook_method" must be one of: GET, POST, PUT, PATCH, DELETE.'),
    ("webhook_headers", ["a"], '"webhook_headers" must be a JSON object of header names to values.'),
    ("webhook_headers", {"Host": "x"},
     '"Host" is set by cronhub or the connection and cannot be configured.'),
    ("webhook_headers", {"content-length": "1"},
     '"content-length" is set by cronhub or the connection and cannot be configured.'),
    ("webhook_headers", {"Idempotency-Key": "1"},
     '"Idempotency-Key" is set by cronhub or the connection and cannot be configured.'),
    ("webhook_headers", {"X-Cronhub-Signature-256": "1"},
     '"X-Cronhub-Signature-256" is set by cronhub or the connection and cannot be configured.'),
    ("webhook_headers", {"Bad Name": "1"}, '"Bad Name" is not a valid header name.'),
    ("webhook_headers", {"X-A": "line\r\nX-Injected: 1"},
     'The value of "X-A" must be printable Latin-1 text of at most 4096 characters, on one line.'),
    ("webhook_headers", {"X-A": {"nested": 1}}, 'The value of "X-A" must be text.'),
    ("webhook_headers", {"X-A": "1", "x-a": "2"}, '"x-a" is given twice.'),
    ("webhook_headers", {"X-A": rules.MASK},
     'The value of "X-A" is masked but no value is stored for it: send the value itself.'),
    ("webhook_signing_secret", 12, '"webhook_signing_secret" must be a string.'),
    ("webhook_signing_secret", rules.MASK, '"webhook_signing_secret" looks masked; send the secret itself.'),
])
def test_bad_values_are_400s_in_the_contract_shape_and_nothing_is_written(api, owner, webhook_body, field,
                                                                          value, message):
    response = api(owner).post(URL, {**webhook_body, field: value}, format="json")

    assert response.status_code == 400
    assert response.json() == {"error": f"Invalid {field}", "message": message}
    assert not Job.objects.exists()
    job = JobFactory(created_by=owner)
    updated = api(owner).put(f"{URL}/{job.pk}", {field: value}, format="json")
    assert updated.status_code == 400 and updated.json()["message"] == message


def test_the_openapi_document_describes_the_new_fields():
    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    job_fields = ("max_attempts", "retry_backoff_seconds", "timeout_seconds", "overlap_policy",
                  "webhook_method", "webhook_headers", "webhook_signing_secret")
    for name in ("Job", "JobCreateRequest", "JobUpdateRequest"):
        assert set(job_fields) <= set(schemas[name]["properties"]), name
    assert {"attempts", "attempt_log", "wait_reason", "next_attempt_at", "rate_limit_wait_seconds"} <= set(
        schemas["Execution"]["properties"])


# --- CSV import --------------------------------------------------------------------------------------------
HEADER = ("Job Name,Target URL,Cron,End Date,PIC Team,Max Attempts,Retry Backoff Seconds,Timeout Seconds,"
          "Overlap Policy,Webhook Method,Webhook Headers,Webhook Signing Secret")


def test_the_csv_import_reads_the_optional_columns(api, owner, team, next_month):
    text = (f"{HEADER}\n"
            f'Ping,https://hooks.example/a,0 9 * * *,{next_month},platform-qa,3,20,60,allow,PATCH,'
            f'"{{""X-Key"": ""k1""}}",sec\n'
            f"Plain,https://hooks.example/b,0 9 * * *,{next_month},platform-qa,,,,,,,\n")

    response = upload(api(owner), text)

    assert response.status_code == 200, response.content
    assert response.json()["created_count"] == 2
    ping, plain = Job.objects.get(name="Ping"), Job.objects.get(name="Plain")
    assert (ping.max_attempts, ping.retry_backoff_seconds, ping.timeout_seconds, ping.overlap_policy,
            ping.webhook_method, ping.webhook_headers, ping.webhook_signing_secret) == (
        3, 20, 60, "allow", "PATCH", {"X-Key": "k1"}, "sec")
    assert (plain.max_attempts, plain.timeout_seconds, plain.overlap_policy, plain.webhook_method) == (
        1, 30, "skip", "")


@pytest.mark.parametrize(("column", "cell", "message"), [
    ("Max Attempts", "0", '"max_attempts" must be a whole number from 1 to 10.'),
    ("Timeout Seconds", "999", '"timeout_seconds" must be a whole number from 1 to 300.'),
    ("Overlap Policy", "sometimes", '"overlap_policy" must be one of: skip, allow, buffer_one.'),
    ("Webhook Method", "TRACE", '"webhook_method" must be one of: GET, POST, PUT, PATCH, DELETE.'),
    ("Webhook Headers", '"{""Host"": ""x""}"', '"Host" is set by cronhub or the connection and cannot be '
                                                "configured."),
    ("Webhook Headers", "not json", None),
])
def test_the_csv_import_refuses_a_bad_cell_on_its_row(api, owner, team, next_month, column, cell, message):
    text = (f"Job Name,Target URL,Cron,End Date,PIC Team,{column}\n"
            f"Bad,https://hooks.example/a,0 9 * * *,{next_month},platform-qa,{cell}\n")

    response = upload(api(owner), text)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["row"] == 2 and error["error"] == f"Invalid {column.lower().replace(' ', '_')}"
    if message:
        assert error["message"] == message
    assert not Job.objects.exists()


# --- admin -------------------------------------------------------------------------------------------------
def test_the_admin_form_shows_secrets_masked_and_keeps_them_when_left_so(staff, team):
    job = JobFactory(name="nightly-web", target_url="https://hooks.example.com/run", metadata={},
                     webhook_headers={"Authorization": "Bearer abc"}, webhook_signing_secret="whsec_1",
                     max_attempts=3, timezone="Asia/Tokyo", cron_expression="0 9 * * 1-5")

    page = staff.get(f"/admin/jobs/job/{job.pk}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Bearer abc" not in html and "whsec_1" not in html
    assert "Authorization" in html and rules.MASK in html
    form = page.context["adminform"].form
    assert form["webhook_signing_secret"].value() == rules.MASK
    response = staff.post(f"/admin/jobs/job/{job.pk}/change/", form_data(
        end_date=job.end_date.isoformat(), max_attempts="5", overlap_policy="skip",
        retry_backoff_seconds="10", timeout_seconds="30", webhook_method="",
        webhook_headers=form["webhook_headers"].value(), webhook_signing_secret=rules.MASK))
    assert response.status_code == 302, response.context["adminform"].form.errors
    job.refresh_from_db()
    assert job.max_attempts == 5
    assert job.webhook_headers == {"Authorization": "Bearer abc"} and job.webhook_signing_secret == "whsec_1"


def test_the_admin_shows_an_executions_attempts_and_its_wait(staff):
    execution = JobExecutionFactory(status="running", attempts=1, wait_reason="retry",
                                    next_attempt_at=timezone.now(), attempt_log=[
                                        {"attempt": 1, "at": "2026-03-02T00:00:00Z", "outcome": "failed",
                                         "status": 503, "error": "Webhook returned status 503",
                                         "retry_at": "2026-03-02T00:00:10Z"}])

    page = staff.get(f"/admin/jobs/jobexecution/{execution.pk}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "1 · 2026-03-02T00:00:00Z · failed · 503 → retry at 2026-03-02T00:00:10Z" in html
    assert "Retry backoff" in html
