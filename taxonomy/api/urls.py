"""taxonomy API routes (mounted under /api/v2/)."""

from django.urls import path

from taxonomy.api import views

urlpatterns: list = [
    path("job-categories", views.CategoryListView.as_view(), name="job-categories"),
    path("job-categories/<str:category_id>", views.CategoryDetailView.as_view(), name="job-category-detail"),
    path("pic-teams", views.PicTeamListView.as_view(), name="pic-teams"),
    path("pic-teams/<str:team_id>", views.PicTeamDetailView.as_view(), name="pic-team-detail"),
]
