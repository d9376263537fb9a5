"""Tokens for tests, minted the way the login endpoint mints them."""

from rest_framework_simplejwt.tokens import RefreshToken


def access_token_for(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


def refresh_token_for(user) -> str:
    return str(RefreshToken.for_user(user))
