"""Job categories and PIC teams: read by anyone signed in, written by admins.

Both resources behave alike; a ``_Kind`` names what differs (model, the
serializers of its list, envelopes and requests, the envelope key, the label in
messages); the services take the model. Bodies are rendered by the serializers that
document them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from cronhub import permissions as may
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
    create_request: type[serializers.Serializer]
    update_request: type[serializers.Serializer]
    list_key: str  # "categories"
    key: str  # "category"
    label: str  # "Category created"
    id_kwarg: str  # the URL's id parameter
    tag: str  # the OpenAPI tag


CATEGORY = _Kind(
    model=JobCategory, list_shape=s.CategoryListSerializer, envelope=s.CategoryEnvelopeSerializer,
    update_envelope=s.CategoryUpdateEnvelopeSerializer, create_request=s.CategoryCreateSerializer,
    update_request=s.CategoryUpdateSerializer, list_key="categories", key="category",
    label="Category", id_kwarg="category_id", tag="job-categories",
)
PIC_TEAM = _Kind(
    model=PicTeam, list_shape=s.PicTeamListSerializer, envelope=s.PicTeamEnvelopeSerializer,
    update_envelope=s.PicTeamUpdateEnvelopeSerializer, create_request=s.PicTeamCreateSerializer,
    update_request=s.PicTeamUpdateSerializer, list_key="pic_teams", key="pic_team",
    label="PIC team", id_kwarg="team_id", tag="pic-teams",
)


def _list_docs(kind: _Kind, *, refused: str, list_summary: str, create_summary: str):
    """The list/create operations of ``kind``; ``refused``: what a create answers 400 for."""
    return extend_schema_view(
        get=extend_schema(tags=[kind.tag], parameters=[INCLUDE_INACTIVE], responses={
            200: kind.list_shape, 400: validation_failed("include_inactive is not a boolean"),
            401: UNAUTHORIZED}, summary=list_summary),
        post=extend_schema(tags=[kind.tag], request=kind.create_request, responses={
            201: kind.envelope, 400: error_a(refused), 409: error_a("Duplicate slug"), **WRITE_ERRORS},
            summary=create_summary),
    )


def _detail_docs(kind: _Kind, *, refused: str, update_summary: str, delete_summary: str):
    """The update/disable operations of ``kind``; ``refused``: what an update answers 400 for."""
    return extend_schema_view(
        put=extend_schema(tags=[kind.tag], request=kind.update_request, responses={
            200: kind.update_envelope, 400: error_a(refused), 404: error_a("Not found"),
            409: error_a("Duplicate slug"), **WRITE_ERRORS}, summary=update_summary),
        delete=extend_schema(tags=[kind.tag], responses={
            200: kind.envelope, 404: error_a("Not found"), **WRITE_ERRORS}, summary=delete_summary),
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
        include_inactive = (query_bool(request.query_params, "include_inactive")
                            and may.can_view_inactive_taxonomy(request.user))
        rows = model.objects.all() if include_inactive else model.objects.filter(is_active=True)
        rows = rows.order_by(Lower("name"), "name", "id")
        return Response(render(self.kind.list_shape, {self.kind.list_key: rows}))

    def post(self, request):
        require_json_content_type(request)
        item = services.create(self.kind.model, json_object(request))
        return Response(self.envelope("created", item), status=status.HTTP_201_CREATED)


class _DetailView(_ReadOrAdminWrite):
    def put(self, request, **kwargs):
        require_json_content_type(request)
        result = services.update(self.kind.model, kwargs[self.kind.id_kwarg], json_object(request))
        return Response(self.envelope("updated", result.item, shape=self.kind.update_envelope,
                                      jobs_updated=result.jobs_updated))

    def delete(self, request, **kwargs):
        item = services.disable(self.kind.model, kwargs[self.kind.id_kwarg])
        return Response(self.envelope("disabled", item))


@_list_docs(CATEGORY, refused="Content-Type, JSON, missing name or invalid slug",
            list_summary="Job categories, by name", create_summary="Create a category (admin)")
class CategoryListView(_ListView):
    kind = CATEGORY


@_detail_docs(CATEGORY, refused="Content-Type, JSON, empty name, General rename, slug sent, or invalid slug",
              update_summary="Rename (jobs follow the new slug) or enable/disable a category (admin)",
              delete_summary="Disable a category; jobs keep it (admin)")
class CategoryDetailView(_DetailView):
    kind = CATEGORY


@_list_docs(PIC_TEAM, refused="Content-Type, JSON, missing name or slack_handle, or invalid slug",
            list_summary="PIC teams, by name", create_summary="Create a PIC team (admin)")
class PicTeamListView(_ListView):
    kind = PIC_TEAM


@_detail_docs(PIC_TEAM, refused="Content-Type, JSON, empty name or slack_handle, slug sent, or invalid slug",
              update_summary="Rename (jobs follow the new slug), enable/disable or re-handle a PIC team "
                             "(admin)",
              delete_summary="Disable a PIC team; existing jobs keep it (admin)")
class PicTeamDetailView(_DetailView):
    kind = PIC_TEAM
