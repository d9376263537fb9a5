"""Shapes of the taxonomy API: the output serializers render the bodies
(``cronhub.api.shapes.render``) and document them."""

from __future__ import annotations

from rest_framework import serializers

from cronhub.api.fields import TimestampField
from taxonomy.models import JobCategory, PicTeam


class JobCategorySerializer(serializers.ModelSerializer):
    created_at = TimestampField()
    updated_at = TimestampField()

    class Meta:
        model = JobCategory
        fields = ["id", "slug", "name", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class PicTeamSerializer(serializers.ModelSerializer):
    created_at = TimestampField()
    updated_at = TimestampField()

    class Meta:
        model = PicTeam
        fields = ["id", "slug", "name", "slack_handle", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class CategoryListSerializer(serializers.Serializer):
    categories = JobCategorySerializer(many=True)


class CategoryEnvelopeSerializer(serializers.Serializer):
    message = serializers.CharField()
    category = JobCategorySerializer()


class CategoryUpdateEnvelopeSerializer(CategoryEnvelopeSerializer):
    jobs_updated = serializers.IntegerField(help_text="Jobs whose category slug was rewritten by a rename")


class PicTeamListSerializer(serializers.Serializer):
    pic_teams = PicTeamSerializer(many=True)


class PicTeamEnvelopeSerializer(serializers.Serializer):
    message = serializers.CharField()
    pic_team = PicTeamSerializer()


class PicTeamUpdateEnvelopeSerializer(PicTeamEnvelopeSerializer):
    jobs_updated = serializers.IntegerField(help_text="Jobs whose pic_team slug was rewritten by a rename")


# --- request bodies (documentation; the services check them in the contract's order) ---

class CategoryCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    slug = serializers.CharField(required=False, allow_blank=True,
                                 help_text="Optional, slugified; defaults to the name's slug")


class CategoryUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=255, help_text="Renames and re-slugs")
    is_active = serializers.BooleanField(required=False)


class PicTeamCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    slack_handle = serializers.CharField(max_length=255, help_text="e.g. @qa-team or <!subteam^S123ABC>")
    slug = serializers.CharField(required=False, allow_blank=True)


class PicTeamUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=255)
    is_active = serializers.BooleanField(required=False)
    slack_handle = serializers.CharField(required=False, max_length=255)
