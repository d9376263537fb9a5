"""``render`` gives exactly what DRF's ``Serializer(source).data`` gives, from objects and dicts."""

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from rest_framework import serializers

from accounts.api.serializers import UserSerializer
from cronhub.api.fields import TimestampField
from cronhub.api.formats import iso_offset
from cronhub.api.shapes import render, render_many
from cronhub.testing.factories import SlackSettingsFactory, UserFactory
from integrations.api.serializers import SlackSettingsSerializer

WHEN = dt.datetime(2025, 12, 18, 6, 49, 31, 105845, tzinfo=dt.UTC)


class Item(serializers.Serializer):
    id = serializers.CharField()
    count = serializers.IntegerField()
    ratio = serializers.FloatField(allow_null=True)
    flag = serializers.BooleanField()
    at = TimestampField(iso_offset, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    extra = serializers.DictField(required=False)
    note = serializers.CharField(required=False)
    maybe = serializers.CharField(allow_null=True)
    label = serializers.CharField(source="name")


class Envelope(serializers.Serializer):
    message = serializers.CharField()
    item = Item()
    items = Item(many=True)
    optional = serializers.CharField(required=False)


def drf(serializer_class, source, **kwargs):
    return json.loads(json.dumps(serializer_class(source, **kwargs).data))


def item(**overrides):
    values = {"id": "a1", "count": 3, "ratio": 0.5, "flag": True, "at": WHEN, "tags": ["x", 7],
              "extra": {"k": 1}, "note": "n", "maybe": None, "name": "Alpha"}
    return {**values, **overrides}


@pytest.mark.parametrize("source", [
    item(),
    item(count="4", ratio=2, flag=1, at=None, id=12),  # values DRF converts
    {key: value for key, value in item().items() if key not in ("note", "extra", "maybe")},  # missing keys
])
def test_dicts_and_objects_render_as_drf_does(source):
    assert render(Item, source) == drf(Item, source)
    assert render(Item, SimpleNamespace(**source)) == drf(Item, SimpleNamespace(**source))


def test_a_missing_required_key_is_an_error_as_in_drf():
    source = item()
    del source["count"]
    with pytest.raises(KeyError):
        drf(Item, source)
    with pytest.raises(KeyError):
        render(Item, source)


def test_nested_and_many_render_as_drf_does():
    envelope = {"message": "ok", "item": SimpleNamespace(**item()), "items": [item(), item(id="b2", at=None)]}
    assert render(Envelope, envelope) == drf(Envelope, envelope)
    # declared order, the optional key the source lacks left out
    assert list(render(Envelope, envelope)) == ["message", "item", "items"]
    assert render_many(Item, [item(), item(id="z")]) == drf(Item, [item(), item(id="z")], many=True)


def test_callables_are_called_as_drf_does():
    source = SimpleNamespace(**{**item(), "name": lambda: "Called"})
    assert render(Item, source)["label"] == "Called" == drf(Item, source)["label"]


@pytest.mark.django_db
def test_model_serializers_with_property_sources_render_as_drf_does():
    user = UserFactory()
    settings_row = SlackSettingsFactory()
    assert render(UserSerializer, user) == drf(UserSerializer, user)
    assert render(SlackSettingsSerializer, settings_row) == drf(SlackSettingsSerializer, settings_row)
    assert render(SlackSettingsSerializer, settings_row)["webhook_url"] != settings_row.webhook_url  # masked
