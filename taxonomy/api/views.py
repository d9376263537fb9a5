"""Job categories and PIC teams (API.md §4.8–4.9): read by anyone signed in, written by admins."""

from __future__ import annotations

from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from cronhub.api.base import JsonApiView
from cronhub.api.bodies import json_object, require_json_content_type
from cronhub.api.formats import query_bool
from cronhub.api.permissions import IsAdmin, IsAuthenticatedUser
from cronhub.api.schema import ADMIN_ONLY, UNAUTHORIZED, error_a, validation_failed
from taxonomy import services
from taxonomy.api import serializers as s
from taxonomy.models import JobCategory, PicTeam

INCLUDE_INACTIVE = OpenApiParameter("include_inactive", OpenApiTypes.BOOL, required=False,
                                    description="Also list disabled ones (honoured for admins only)")
WRITE_ERRORS = {401: UNAUTHORIZED, 403: ADMIN_ONLY}


def _listing(request, model):
    include_inactive = query_bool(request.query_params, "include_inactive") and request.user.is_admin
    rows = model.objects.all() if include_inactive else model.objects.filter(is_active=True)
    return rows.order_by(Lower("name"), "name", "id")


class _ReadOrAdminWrite(JsonApiView):
    def get_permissions(self):
        return [IsAuthenticatedUser()] if self.request.method == "GET" else [IsAdmin()]


class CategoryListView(_ReadOrAdminWrite):
    @extend_schema(tags=["job-categories"], parameters=[INCLUDE_INACTIVE], responses={
        200: s.CategoryListSerializer, 400: validation_failed("include_inactive is not a boolean"),
        401: UNAUTHORIZED}, summary="Job categories, by name")
    def get(self, request):
        categories = _listing(request, JobCategory)
        return Response({"categories": s.JobCategorySerializer(categories, many=True).data})

    @extend_schema(tags=["job-categories"], request=s.CategoryCreateSerializer, responses={
        201: s.CategoryEnvelopeSerializer, 400: error_a("Content-Type, JSON, missing name or invalid slug"),
        409: error_a("Duplicate slug"), **WRITE_ERRORS}, summary="Create a category (admin)")
    def post(self, request):
        require_json_content_type(request)
        category = services.category_create(data=json_object(request))
        return Response({"message": "Category created", "category": s.JobCategorySerializer(category).data},
                        status=status.HTTP_201_CREATED)


class CategoryDetailView(_ReadOrAdminWrite):
    @extend_schema(tags=["job-categories"], request=s.CategoryUpdateSerializer, responses={
        200: s.CategoryUpdateEnvelopeSerializer,
        400: error_a("Content-Type, JSON, empty name, General rename, slug sent, or invalid slug"),
        404: error_a("Not found"), 409: error_a("Duplicate slug"), **WRITE_ERRORS},
        summary="Rename (jobs follow the new slug) or enable/disable a category (admin)")
    def put(self, request, category_id: str):
        require_json_content_type(request)
        result = services.category_update(category_id=category_id, data=json_object(request))
        return Response({"message": "Category updated", "category": s.JobCategorySerializer(result.item).data,
                         "jobs_updated": result.jobs_updated})

    @extend_schema(tags=["job-categories"], responses={
        200: s.CategoryEnvelopeSerializer, 404: error_a("Not found"), **WRITE_ERRORS},
        summary="Disable a category; jobs keep it (admin)")
    def delete(self, request, category_id: str):
        category = services.category_disable(category_id=category_id)
        return Response({"message": "Category disabled", "category": s.JobCategorySerializer(category).data})


class PicTeamListView(_ReadOrAdminWrite):
    @extend_schema(tags=["pic-teams"], parameters=[INCLUDE_INACTIVE], responses={
        200: s.PicTeamListSerializer, 400: validation_failed("include_inactive is not a boolean"),
        401: UNAUTHORIZED}, summary="PIC teams, by name")
    def get(self, request):
        return Response({"pic_teams": s.PicTeamSerializer(_listing(request, PicTeam), many=True).data})

    @extend_schema(tags=["pic-teams"], request=s.PicTeamCreateSerializer, responses={
        201: s.PicTeamEnvelopeSerializer,
        400: error_a("Content-Type, JSON, missing name or slack_handle, or invalid slug"),
        409: error_a("Duplicate slug"), **WRITE_ERRORS}, summary="Create a PIC team (admin)")
    def post(self, request):
        require_json_content_type(request)
        team = services.pic_team_create(data=json_object(request))
        return Response({"message": "PIC team created", "pic_team": s.PicTeamSerializer(team).data},
                        status=status.HTTP_201_CREATED)


class PicTeamDetailView(_ReadOrAdminWrite):
    @extend_schema(tags=["pic-teams"], request=s.PicTeamUpdateSerializer, responses={
        200: s.PicTeamUpdateEnvelopeSerializer,
        400: error_a("Content-Type, JSON, empty name or slack_handle, slug sent, or invalid slug"),
        404: error_a("Not found"), 409: error_a("Duplicate slug"), **WRITE_ERRORS},
        summary="Rename (jobs follow the new slug), enable/disable or re-handle a PIC team (admin)")
    def put(self, request, team_id: str):
        require_json_content_type(request)
        result = services.pic_team_update(team_id=team_id, data=json_object(request))
        return Response({"message": "PIC team updated", "pic_team": s.PicTeamSerializer(result.item).data,
                         "jobs_updated": result.jobs_updated})

    @extend_schema(tags=["pic-teams"], responses={
        200: s.PicTeamEnvelopeSerializer, 404: error_a("Not found"), **WRITE_ERRORS},
        summary="Disable a PIC team; existing jobs keep it (admin)")
    def delete(self, request, team_id: str):
        team = services.pic_team_disable(team_id=team_id)
        return Response({"message": "PIC team disabled", "pic_team": s.PicTeamSerializer(team).data})
