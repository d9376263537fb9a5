"""Where a job's target is written: dispatch URLs, the owner/repo/workflow shorthand, the branch."""

import pytest

from cronhub.errors import InvalidInput
from jobs.rules import DISPATCH_URL_FORMAT, parse_shorthand
from jobs.rules import dispatch_url as parse_dispatch_url
from jobs.services.dispatch import dispatch_ref


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
def test_anything_else_is_refused_with_the_forms_it_accepts(value):
    with pytest.raises(InvalidInput) as caught:
        parse_dispatch_url(value)
    assert caught.value.message == DISPATCH_URL_FORMAT
    assert caught.value.field == "dispatch_url"


def test_shorthand_detection():
    assert parse_shorthand(" acme-qa/api-tests/nightly.yml ") == ("acme-qa", "api-tests", "nightly.yml")
    assert parse_shorthand("www.example.com/a/b") is None
    assert parse_shorthand("https://acme/a/b") is None


def test_blank_branch_values_fall_through_to_master():
    assert dispatch_ref({"branchDetails": "  ", "branch": ""}) == "master"
    assert dispatch_ref({"branchDetails": 3, "ref": "dev"}) == "dev"
