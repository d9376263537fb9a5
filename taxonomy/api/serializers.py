"""Shapes of the taxonomy API: categories and PIC teams, and their request bodies."""

from __future__ import annotations

from rest_framework import serializers

from cronhub.api.fields import ModelShape
from taxonomy.models import JobCategory, PicTeam
from taxonomy.rules import max_length


class JobCategorySerializer(ModelShape):
    class Meta:
        model = JobCategory
        fields = ["id", "slug", "name", "is_active", "created_at", "updated_at"]


class PicTeamSerializer(ModelShape):
    class Meta:
        model = PicTeam
        fields = ["id", "slug", "name", "slack_handle", "is_active", "created_at", "updated_at"]


def _bodies(prefix: str, item: type[serializers.Serializer], *, key: str, list_key: str):
    """The three bodies of a kind, named ``{prefix}List``, ``{prefix}Envelope`` and
    ``{prefix}UpdateEnvelope`` in the OpenAPI document: ``{list_key: [item...]}``,
    ``{"message", key: item}`` and the latter plus ``jobs_updated``."""

    def shape(name: str, base: type[serializers.Serializer], fields: dict) -> type[serializers.Serializer]:
        return type(f"{prefix}{name}Serializer", (base,), {"__module__": __name__, **fields})

    listing = shape("List", serializers.Serializer, {list_key: item(many=True)})
    envelope = shape("Envelope", serializers.Serializer,
                     {"message": serializers.CharField(), key: item()})
    update = shape("UpdateEnvelope", envelope, {"jobs_updated": serializers.IntegerField(
        help_text=f"Jobs whose {key} slug was rewritten by a rename")})
    return listing, envelope, update


CategoryListSerializer, CategoryEnvelopeSerializer, CategoryUpdateEnvelopeSerializer = _bodies(
    "Category", JobCategorySerializer, key="category", list_key="categories")
PicTeamListSerializer, PicTeamEnvelopeSerializer, PicTeamUpdateEnvelopeSerializer = _bodies(
    "PicTeam", PicTeamSerializer, key="pic_team", list_key="pic_teams")


# --- request bodies (documentation; taxonomy.rules checks them, in a fixed order) ---

class CategoryCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=max_length(JobCategory, "name"))
    slug = serializers.CharField(required=False, allow_blank=True,
                                 help_text="Optional, slugified; defaults to the name's slug")


class CategoryUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=max_length(JobCategory, "name"),
                                 help_text="Renames and re-slugs")
    is_active = serializers.BooleanField(required=False)


class PicTeamCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=max_length(PicTeam, "name"))
    slack_handle = serializers.CharField(max_length=max_length(PicTeam, "slack_handle"),
                                         help_text="e.g. @qa-team or <!subteam^S123ABC>")
    slug = serializers.CharField(required=False, allow_blank=True)


class PicTeamUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=max_length(PicTeam, "name"))
    is_active = serializers.BooleanField(required=False)
    slack_handle = serializers.CharField(required=False, max_length=max_length(PicTeam, "slack_handle"))
