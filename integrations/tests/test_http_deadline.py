"""One total deadline per outbound call, however slowly the target answers.

The read timeout (30 s here) is far longer than the drip's gap between bytes, so
only the call's total deadline can end these calls early.
"""

from __future__ import annotations

import time

import pytest

from cronhub.testing.servers import RecordingServer
from integrations import github, http


@pytest.fixture(autouse=True)
def long_read_timeout(settings):
    settings.OUTBOUND_READ_TIMEOUT = 30


def test_a_dripping_target_cannot_hold_a_call_past_its_total_deadline(drip_server):
    started = time.monotonic()

    with pytest.raises(http.OutboundError) as failure:
        http.request("GET", drip_server.url_for("/hook"), deadline=2)

    elapsed = time.monotonic() - started
    assert str(failure.value) == (
        f"No complete response from 127.0.0.1:{drip_server.port} within 2 s (total timeout)")
    [sent] = drip_server.wait_hung_up()
    assert sent < drip_server.length  # the client hung up long before the body was complete
    assert drip_server.completed == 0
    assert elapsed < drip_server.length * drip_server.interval / 4  # generous: the drip lasts 60 s


def test_a_target_that_accepts_and_never_answers_is_given_up_at_the_total_deadline(silent_server):
    with pytest.raises(http.OutboundError, match=r"within 2 s \(total timeout\)"):
        http.request("POST", silent_server.url_for("/hook"), json={"a": 1}, deadline=2)

    assert silent_server.connections == 1


def test_a_call_without_its_own_deadline_uses_the_configured_total(settings, drip_server):
    settings.OUTBOUND_TOTAL_TIMEOUT = 2

    assert http.call_deadline_seconds() == 2
    with pytest.raises(http.OutboundError, match=r"within 2 s \(total timeout\)"):
        http.request("GET", drip_server.url_for("/hook"))
    assert drip_server.completed == 0


def test_a_redirect_chain_counts_against_one_deadline(webhook_server):
    # Five hops of 0.8 s each: every hop alone is quick, together they exceed 2 s.
    for hop in range(1, 6):
        webhook_server.reply(path=f"/r{hop}", status=307, headers={"Location": f"/r{hop + 1}"}, delay=0.8)
    webhook_server.reply(path="/r6", status=200, body="arrived")

    with pytest.raises(http.OutboundError, match=r"within 2 s \(total timeout\)"):
        http.request("GET", webhook_server.url_for("/r1"), deadline=2)

    assert "/r6" not in [r.path for r in webhook_server.requests]


def test_a_shared_deadline_bounds_several_requests_together(webhook_server):
    webhook_server.reply(delay=0.8)
    deadline = http.Deadline(2)

    http.request("GET", webhook_server.url_for("/a"), deadline=deadline)
    http.request("GET", webhook_server.url_for("/b"), deadline=deadline)
    with pytest.raises(http.OutboundError, match=r"within 2 s \(total timeout\)"):
        http.request("GET", webhook_server.url_for("/c"), deadline=deadline)


def test_a_kept_alive_connection_gets_the_next_calls_full_deadline():
    # The first call spends most of its deadline on the shared connection; the next call
    # on that connection must not inherit what was left of it.
    with RecordingServer() as server:
        server.reply(body="ok", delay=1.2)
        assert http.request("GET", server.url_for("/first"), deadline=1.5).status == 200
        assert http.request("GET", server.url_for("/second"), deadline=3).status == 200


def test_a_per_read_timeout_shorter_than_the_deadline_still_applies(settings, webhook_server):
    settings.OUTBOUND_READ_TIMEOUT = 0.5
    webhook_server.reply(delay=3)

    with pytest.raises(http.OutboundError, match=r"within 0.5 s \(read timeout\)"):
        http.request("GET", webhook_server.url_for("/slow"), deadline=10)


def test_a_github_dispatch_shares_one_deadline_across_its_workflow_name_fallbacks(fake_github):
    # Every name answers 404 after 0.8 s: each request alone is quick, the three together
    # outlast the dispatch's 2 s, so it ends with the deadline instead of the last 404.
    base = "/repos/acme/api/actions/workflows"
    fake_github.reply(path=f"{base}/ci/dispatches", status=404, body={"message": "Not Found"}, delay=0.8)
    fake_github.reply(path=f"{base}/ci.yml/dispatches", status=404, body={"message": "Not Found"}, delay=0.8)
    fake_github.reply(path=f"{base}/ci.yaml/dispatches", status=404, body={"message": "Not Found"}, delay=0.8)

    result = github.workflow_dispatch(owner="acme", repo="api", workflow="ci", ref="main", inputs={},
                                      token=fake_github.TOKEN, deadline=2)

    assert result.status is None
    assert result.error.endswith("within 2 s (total timeout)")
