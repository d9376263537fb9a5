"""Tokens for tests, minted exactly the way the login endpoint mints them."""

from accounts.tokens import token_pair_for


def access_token_for(user) -> str:
    return token_pair_for(user).access


def refresh_token_for(user) -> str:
    return token_pair_for(user).refresh
