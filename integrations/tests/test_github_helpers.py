"""Dispatch-URL parsing (API, UI, path-only and shorthand forms) and the dispatch ref rule."""

import pytest

from integrations.github import DISPATCH_URL_FORMAT_ERROR, dispatch_ref, is_shorthand, parse_dispatch_url


@pytest.mark.parametrize("value", [
    "acme-qa/api-tests/nightly.yml",
    "  acme-qa/api-tests/nightly.yml  ",
    "https://api.github.com/repos/acme-qa/api-tests/actions/workflows/nightly.yml/dispatches",
    "https://github.com/acme-qa/api-tests/actions/workflows/nightly.yml",
    "github.com/acme-qa/api-tests/actions/workflows/nightly.yml",
    "/acme-qa/api-tests/actions/workflows/nightly.yml",
    "https://ghe.example.com/acme-qa/api-tests/actions/workflows/nightly.yml",
])
def test_every_documented_form_gives_owner_repo_workflow(value):
    assert parse_dispatch_url(value) == ("acme-qa", "api-tests", "nightly.yml")


@pytest.mark.parametrize("value", ["", "acme-qa/api-tests", "https://github.com/acme-qa/api-tests",
                                   "a/b/c/d"])
def test_anything_else_gets_the_contract_message(value):
    with pytest.raises(ValueError) as caught:
        parse_dispatch_url(value)
    assert str(caught.value) == DISPATCH_URL_FORMAT_ERROR


def test_shorthand_detection():
    assert is_shorthand("acme-qa/api-tests/nightly.yml")
    assert not is_shorthand("www.example.com/a/b")
    assert not is_shorthand("https://acme/a/b")


def test_blank_branch_values_fall_through_to_master():
    assert dispatch_ref({"branchDetails": "  ", "branch": ""}) == "master"
    assert dispatch_ref({"branchDetails": 3, "ref": "dev"}) == "dev"
