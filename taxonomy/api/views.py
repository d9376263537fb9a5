"""Job categories and PIC teams: read by anyone signed in, written by admins.

Both resources behave alike; a ``_Kind`` names what differs (model, the
serializers of its list and envelopes, the envelope key, the label in messages
and the service functions). Bodies are rendered by the serializers that
document them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from cronhub.api.base import JsonApiView
from cronhub.api.bodies import json_object, require_json_content_type
from cronhub.api.formats import query_bool
from cronhub.api.permissions import IsAdmin, IsAuthenticatedUser
from cronhub.api.schema import ADMIN_ONLY, UNAUTHORIZED, error_a, validation_failed
from cronhub.api.shapes import render
from taxonomy import services
from taxonomy.api import serializers as s
from taxonomy.models import JobCategory, PicTeam, SlugNamed

INCLUDE_INACTIVE = OpenApiParameter("include_inactive", OpenApiTypes.BOOL, required=False,
                                    description="Also list disabled ones (honoured for admins only)")
WRITE_ERRORS = {401: UNAUTHORIZED, 403: ADMIN_ONLY}


@dataclass(frozen=True)
class _Kind:
    model: type[SlugNamed]
    list_shape: type[serializers.Serializer]  # {"categories": [...]}
    envelope: type[serializers.Serializer]  # {"message", "category": {...}}
    update_envelope: type[serializers.Serializer]  # the envelope + "jobs_updated"
    list_key: str  # "categories"
    key: str  # "category"
    label: str  # "Category created"
    id_kwarg: str  # the URL's id parameter
    create: Callable[[dict], SlugNamed]
    update: Callable[[str, dict], services.UpdateResult]
    disable: Callable[[str], SlugNamed]


CATEGORY = _Kind(
    model=JobCategory, list_shape=s.CategoryListSerializer, envelope=s.CategoryEnvelopeSerializer,
    update_envelope=s.CategoryUpdateEnvelopeSerializer, list_key="categories", key="category",
    label="Category", id_kwarg="category_id",
    create=lambda data: services.category_create(data=data),
    update=lambda item_id, data: services.category_update(category_id=item_id, data=data),
    disable=lambda item_id: services.category_disable(category_id=item_id),
)
PIC_TEAM = _Kind(
    model=PicTeam, list_shape=s.PicTeamListSerializer, envelope=s.PicTeamEnvelopeSerializer,
    update_envelope=s.PicTeamUpdateEnvelopeSerializer, list_key="pic_teams", key="pic_team",
    label="PIC team", id_kwarg="team_id",
    create=lambda data: services.pic_team_create(data=data),
    update=lambda item_id, data: services.pic_team_update(team_id=item_id, data=data),
    disable=lambda item_id: services.pic_team_disable(team_id=item_id),
)


class _ReadOrAdminWrite(JsonApiView):
    kind: _Kind

    def get_permissions(self):
        return [IsAuthenticatedUser()] if self.request.method == "GET" else [IsAdmin()]

    def envelope(self, verb: str, item: SlugNamed, *, shape=None, **extra: Any) -> dict[str, Any]:
        kind = self.kind
        return render(shape or kind.envelope, {"message": f"{kind.label} {verb}", kind.key: item, **extra})


class _ListView(_ReadOrAdminWrite):
    def get(self, request):
        model = self.kind.model
        include_inactive = query_bool(request.query_params, "include_inactive") and request.user.is_admin
        rows = model.objects.all() if include_inactive else model.objects.filter(is_active=True)
        rows = rows.order_by(Lower("name"), "name", "id")
        return Response(render(self.kind.list_shape, {self.kind.list_key: rows}))

    def post(self, request):
        require_json_content_type(request)
        item = self.kind.create(json_object(request))
        return Response(self.envelope("created", item), status=status.HTTP_201_CREATED)


class _DetailView(_ReadOrAdminWrite):
    def put(self, request, **kwargs):
        require_json_content_type(request)
        result = self.kind.update(kwargs[self.kind.id_kwarg], json_object(request))
        return Response(self.envelope("updated", result.item, shape=self.kind.update_envelope,
                                      jobs_updated=result.jobs_updated))

    def delete(self, request, **kwargs):
        item = self.kind.disable(kwargs[self.kind.id_kwarg])
        return Response(self.envelope("disabled", item))


@extend_schema_view(
    get=extend_schema(tags=["job-categories"], parameters=[INCLUDE_INACTIVE], responses={
        200: s.CategoryListSerializer, 400: validation_failed("include_inactive is not a boolean"),
        401: UNAUTHORIZED}, summary="Job categories, by name"),
    post=extend_schema(tags=["job-categories"], request=s.CategoryCreateSerializer, responses={
        201: s.CategoryEnvelopeSerializer, 400: error_a("Content-Type, JSON, missing name or invalid slug"),
        409: error_a("Duplicate slug"), **WRITE_ERRORS}, summary="Create a category (admin)"),
)
class CategoryListView(_ListView):
    kind = CATEGORY


@extend_schema_view(
    put=extend_schema(tags=["job-categories"], request=s.CategoryUpdateSerializer, responses={
        200: s.CategoryUpdateEnvelopeSerializer,
        400: error_a("Content-Type, JSON, empty name, General rename, slug sent, or invalid slug"),
        404: error_a("Not found"), 409: error_a("Duplicate slug"), **WRITE_ERRORS},
        summary="Rename (jobs follow the new slug) or enable/disable a category (admin)"),
    delete=extend_schema(tags=["job-categories"], responses={
        200: s.CategoryEnvelopeSerializer, 404: error_a("Not found"), **WRITE_ERRORS},
        summary="Disable a category; jobs keep it (admin)"),
)
class CategoryDetailView(_DetailView):
    kind = CATEGORY


@extend_schema_view(
    get=extend_schema(tags=["pic-teams"], parameters=[INCLUDE_INACTIVE], responses={
        200: s.PicTeamListSerializer, 400: validation_failed("include_inactive is not a boolean"),
        401: UNAUTHORIZED}, summary="PIC teams, by name"),
    post=extend_schema(tags=["pic-teams"], request=s.PicTeamCreateSerializer, responses={
        201: s.PicTeamEnvelopeSerializer,
        400: error_a("Content-Type, JSON, missing name or slack_handle, or invalid slug"),
        409: error_a("Duplicate slug"), **WRITE_ERRORS}, summary="Create a PIC team (admin)"),
)
class PicTeamListView(_ListView):
    kind = PIC_TEAM


@extend_schema_view(
    put=extend_schema(tags=["pic-teams"], request=s.PicTeamUpdateSerializer, responses={
        200: s.PicTeamUpdateEnvelopeSerializer,
        400: error_a("Content-Type, JSON, empty name or slack_handle, slug sent, or invalid slug"),
        404: error_a("Not found"), 409: error_a("Duplicate slug"), **WRITE_ERRORS},
        summary="Rename (jobs follow the new slug), enable/disable or re-handle a PIC team (admin)"),
    delete=extend_schema(tags=["pic-teams"], responses={
        200: s.PicTeamEnvelopeSerializer, 404: error_a("Not found"), **WRITE_ERRORS},
        summary="Disable a PIC team; existing jobs keep it (admin)"),
)
class PicTeamDetailView(_DetailView):
    kind = PIC_TEAM
