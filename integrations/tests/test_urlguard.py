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


# --- IPv6 spellings of refused IPv4 addresses -------------------------------------------------
# Every way an IPv6 address can carry an IPv4 one (IPv4-compatible, IPv4-mapped, IPv4-translated,
# NAT64 well-known and local-use prefixes, 6to4) is judged as that IPv4 address.

@pytest.mark.parametrize("address", [
    "::a9fe:a9fe",             # IPv4-compatible 169.254.169.254
    "::169.254.169.254",
    "::ffff:0:a9fe:a9fe",      # IPv4-translated (SIIT)
    "::ffff:0:169.254.169.254",
    "64:ff9b:1::a9fe:a9fe",    # NAT64 local-use prefix, /96 embedding
    "64:ff9b:1:a9fe:a9:fe00::",  # NAT64 local-use prefix, /48 embedding (reserved bits 64-71 skipped)
    "2002:a9fe:a9fe::1",       # 6to4 of 169.254.169.254
    "2002:a9fe:a9fe:1234::99",
    "::ffff:a9fe:a9fe",        # IPv4-mapped, hex spelling
])
def test_ipv6_embeddings_of_the_metadata_address_are_always_refused(address):
    assert address_refusal(address, block_private=False) == "link-local or cloud metadata address"
    assert address_refusal(address, block_private=True) == "link-local or cloud metadata address"


@pytest.mark.parametrize("address", [
    "::127.0.0.1", "::7f00:1", "::10.0.0.1", "::ffff:0:127.0.0.1", "::ffff:0:10.1.2.3",
    "64:ff9b::127.0.0.1", "64:ff9b::10.1.2.3", "64:ff9b:1::7f00:1", "64:ff9b:1:c0a8:1:100::",
    "2002:7f00:1::1", "2002:c0a8:101::1", "2002:a00:1::1",
])
def test_ipv6_embeddings_of_private_and_loopback_addresses_are_refused_when_blocked(address):
    assert address_refusal(address, block_private=True) == (
        "private or loopback address (WEBHOOK_BLOCK_PRIVATE=true)")


@pytest.mark.parametrize("address", [
    "64:ff9b:1::1", "2002::1", "64:ff9b::", "64:ff9b:1::", "2002::",
])
def test_translation_prefixes_without_a_public_ipv4_inside_are_refused_when_blocked(address):
    # 64:ff9b:1::/48 is local-use by definition and 2002::/16 with 0.0.0.0 inside names no host.
    assert address_refusal(address, block_private=True) is not None


@pytest.mark.parametrize("address", [
    "::140.82.112.6", "::ffff:0:140.82.112.6", "64:ff9b::140.82.112.6", "2002:8c52:7006::1",
])
def test_ipv6_embeddings_of_public_ipv4_addresses_pass(address):
    assert address_refusal(address, block_private=False) is None


def test_a_webhook_to_an_ipv4_compatible_loopback_url_is_refused_when_blocked():
    with pytest.raises(OutboundURLRefused, match="private or loopback"):
        check_url("http://[::127.0.0.1]:8080/hook", block_private=True)


@pytest.mark.parametrize("address", ["64:ff9b:1::8c52:7006", "64:ff9b:1:8c52:70:600::"])
def test_a_local_use_nat64_address_of_a_public_host_passes_unless_private_targets_are_blocked(address):
    assert address_refusal(address, block_private=False) is None
    assert address_refusal(address, block_private=True) == (
        "private or loopback address (WEBHOOK_BLOCK_PRIVATE=true)")


def test_a_teredo_address_is_judged_by_its_client_address():
    # Teredo stores the client's IPv4 address inverted in the last 32 bits: here 169.254.169.254.
    assert address_refusal("2001:0:4136:e378:8000:63bf:5601:5601", block_private=False) == (
        "link-local or cloud metadata address")
