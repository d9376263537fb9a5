"""Side-effecting operations on users."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from accounts.models import Role, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdminBootstrapResult:
    created: bool
    user: User | None
    reason: str


@transaction.atomic
def admin_ensure(*, username: str, email: str, password: str) -> AdminBootstrapResult:
    """Create an active admin unless the username exists (idempotent).

    An e-mail already used by another account is skipped with a warning rather
    than failing start-up (DATA_MODEL.md §5, recommendation).
    """
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return AdminBootstrapResult(False, existing, f"user {username!r} already exists")
    if User.objects.filter(email__iexact=email).exists():
        log.warning("Not creating admin %r: e-mail %r belongs to another user", username, email)
        return AdminBootstrapResult(False, None, f"e-mail {email!r} belongs to another user")
    user = User.objects.create_user(username=username, email=email, password=password, role=Role.ADMIN,
                                    is_active=True)
    return AdminBootstrapResult(True, user, f"admin {username!r} created")
