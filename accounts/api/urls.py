"""accounts API routes (mounted under /api/v2/)."""

from django.urls import path

from accounts.api import token_views, views

urlpatterns: list = [
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/login/form", views.LoginFormView.as_view(), name="auth-login-form"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/me", views.MeView.as_view(), name="auth-me"),
    path("auth/verify", views.VerifyView.as_view(), name="auth-verify"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/tokens", token_views.ApiTokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<str:token_id>", token_views.ApiTokenDetailView.as_view(), name="api-token-detail"),
    path("auth/users", views.UserListView.as_view(), name="users"),
    path("auth/users/<str:user_id>", views.UserDetailView.as_view(), name="user-detail"),
    path("auth/users/<str:user_id>/preferences", views.NotificationPreferencesView.as_view(),
         name="user-preferences"),
    path("auth/users/<str:user_id>/ui-preferences", views.UiPreferencesView.as_view(),
         name="user-ui-preferences"),
]
