"""The outbound-URL guard checks resolved addresses, at connect time and on every hop."""

import pytest

from integrations import http, urlguard
from integrations.urlguard import OutboundURLRefused, address_refusal, check_url


@pytest.mark.parametrize("address", [
    "169.254.169.254", "169.254.0.1", "fd00:ec2::254", "100.100.100.200", "168.63.129.16",
    "fe80::1", "0.0.0.0", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "224.0.0.1",
])
def test_link_local_and_metadata_addresses_are_always_refused(address):
    assert address_refusal(address, block_private=False) == "link-local or cloud metadata address"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.5.4", "192.168.1.1", "100.64.0.9",
                                     "::1", "fd12:3456::1", "::ffff:10.0.0.1"])
def test_private_and_loopback_addresses_are_refused_only_when_blocked(address):
    assert address_refusal(address, block_private=False) is None
    assert address_refusal(address, block_private=True) == (
        "private or loopback address (WEBHOOK_BLOCK_PRIVATE=true)")


@pytest.mark.parametrize("address", ["140.82.112.6", "2606:50c0:8000::154"])
def test_public_addresses_pass(address):
    assert address_refusal(address, block_private=True) is None


def test_the_metadata_address_is_refused_in_a_url():
    with pytest.raises(OutboundURLRefused, match="169.254.169.254: link-local or cloud metadata"):
        check_url("http://169.254.169.254/latest/meta-data/", block_private=False)


def test_a_decimal_spelling_of_the_metadata_address_is_refused():
    with pytest.raises(OutboundURLRefused, match=r"2852039166 \(169.254.169.254\)"):
        check_url("http://2852039166/latest/", block_private=False)


def test_a_dns_alias_of_the_metadata_address_is_refused(monkeypatch):
    monkeypatch.setattr(urlguard, "resolve_host", lambda host, port: ["169.254.169.254"])

    with pytest.raises(OutboundURLRefused,
                       match=r"metadata\.example\.test \(169\.254\.169\.254\): link-local or cloud metadata"):
        check_url("https://metadata.example.test/", block_private=False)


def test_a_name_is_refused_when_any_of_its_addresses_is_forbidden(monkeypatch):
    monkeypatch.setattr(urlguard, "resolve_host", lambda host, port: ["140.82.112.6", "169.254.169.254"])

    with pytest.raises(OutboundURLRefused):
        check_url("https://mixed.example.test/", block_private=False)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://10.0.0.5/hook", "http://localhost/x"])
def test_loopback_and_private_urls_are_refused_when_blocked(url):
    with pytest.raises(OutboundURLRefused, match="private or loopback"):
        check_url(url, block_private=True)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "http:///nohost"])
def test_only_http_and_https_urls_with_a_host_are_allowed(url):
    with pytest.raises(OutboundURLRefused):
        check_url(url, block_private=False)


def test_the_connection_goes_to_the_address_the_guard_checked(webhook_server, monkeypatch):
    monkeypatch.setattr(urlguard, "resolve_host", lambda host, port: ["127.0.0.1"])

    response = http.request("GET", f"http://hooks.example.test:{webhook_server.port}/ping")

    assert response.status == 200
    assert webhook_server.requests[0].headers["host"] == f"hooks.example.test:{webhook_server.port}"


def test_a_name_that_rebinds_to_the_metadata_address_after_the_check_is_refused_at_connect(
        webhook_server, monkeypatch):
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])  # first the pre-check, then the connection
    monkeypatch.setattr(urlguard, "resolve_host", lambda host, port: next(answers))

    with pytest.raises(http.OutboundError, match="169.254.169.254") as caught:
        http.request("GET", f"http://rebind.example.test:{webhook_server.port}/ping")

    assert caught.value.refused is True
    assert webhook_server.requests == []
