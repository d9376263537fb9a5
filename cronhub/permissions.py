"""Who may do what: the one set of role rules behind the REST API and the admin.

A leaf module (it imports no app), so every app's API and admin and the services can ask it.

Each predicate takes the acting user (and the object when the answer depends on it) and
answers True or False; it never raises and knows nothing of HTTP. The API's permission
classes (``cronhub/api/permissions.py``) and the admin's ``has_*_permission`` methods
(``accounts/admin.py``, ``jobs/admin/``, ``taxonomy/admin.py``, ``integrations/admin.py``,
``cronhub/admin.py``) ask these and turn a False into their own 403.

Roles:

- ``admin``: everything.
- ``user``: reads every job and execution, creates jobs; changes, pauses, runs and
  deletes only the jobs it created; its own profile, password, preferences and tokens.
- ``viewer``: reads what the API lets it read (no secrets); changes nothing but its own
  profile, password and preferences (the API allows those to every role).

Users, category and PIC-team writes, Slack settings, the scheduler's internals and the
token tables are the admin's. Objects whose owner was deleted are the admin's too.
"""

from __future__ import annotations

from typing import Any

# The role names (``accounts.models.Role`` is the model's choice list of the same strings).
ADMIN, USER, VIEWER = "admin", "user", "viewer"

# Apps whose pages a non-admin may see (models inside still answer for themselves).
CONSOLE_APPS = frozenset({"jobs", "taxonomy", "accounts"})


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and getattr(user, "is_active", False))


def role_of(user: Any) -> str | None:
    return getattr(user, "role", None) if _signed_in(user) else None


# --- roles ------------------------------------------------------------------------------------

def is_admin(user: Any) -> bool:
    return role_of(user) == ADMIN


def is_writer(user: Any) -> bool:
    """Role admin or user: may create jobs (viewers are read-only)."""
    return role_of(user) in (ADMIN, USER)


def can_use_console(user: Any) -> bool:
    """Any active account with a role signs in to the admin site."""
    return role_of(user) in (ADMIN, USER, VIEWER)


def can_see_app(user: Any, app_label: str) -> bool:
    return is_admin(user) or (can_use_console(user) and app_label in CONSOLE_APPS)


# --- jobs and their runs ----------------------------------------------------------------------

def owns(user: Any, owner_id: Any) -> bool:
    """``owner_id`` is the user's own (a deleted owner, None, is nobody's)."""
    return _signed_in(user) and owner_id is not None and owner_id == user.pk


def can_view_jobs(user: Any) -> bool:
    """Every role reads every job and every execution."""
    return can_use_console(user)


def can_view_job(user: Any, job: Any = None) -> bool:
    return can_view_jobs(user)


def can_create_job(user: Any) -> bool:
    return is_writer(user)


def can_change_job(user: Any, job: Any = None) -> bool:
    """Edit, pause or resume: an admin any job, a user its own. ``job`` None asks
    "could this user change some job" (the admin's list-level question)."""
    if is_admin(user):
        return True
    if not is_writer(user):
        return False
    return True if job is None else owns(user, getattr(job, "created_by_id", None))


def can_delete_job(user: Any, job: Any = None) -> bool:
    return can_change_job(user, job)


def can_run_job(user: Any, job: Any = None) -> bool:
    return can_change_job(user, job)


def can_export_jobs(user: Any) -> bool:
    """Export is a read: what a role may read it may take away (secrets masked for viewers)."""
    return can_view_jobs(user)


def can_import_jobs(user: Any) -> bool:
    return can_create_job(user)


def can_view_job_secrets(user: Any, job: Any) -> bool:
    """A webhook URL's path and query (where tokens live) in full: the job's owner and admins.
    Others see ``scheme://host/****``."""
    return is_admin(user) or (is_writer(user) and owns(user, getattr(job, "created_by_id", None)))


def can_view_job_history(user: Any, job: Any = None) -> bool:
    return can_view_job(user, job)


def can_view_executions(user: Any) -> bool:
    return can_view_jobs(user)


# --- taxonomy, settings, internals -----------------------------------------------------------

def can_view_taxonomy(user: Any) -> bool:
    return can_use_console(user)


def can_view_inactive_taxonomy(user: Any) -> bool:
    """Disabled categories and teams are listed for admins only (the API's include_inactive)."""
    return is_admin(user)


def can_manage_taxonomy(user: Any) -> bool:
    return is_admin(user)


def can_manage_slack(user: Any) -> bool:
    return is_admin(user)


def can_view_system(user: Any) -> bool:
    """The scheduler's state, django-apscheduler's tables, token tables, throttle counters."""
    return is_admin(user)


def can_view_notifications_of_others(user: Any) -> bool:
    return is_admin(user)


# --- people -----------------------------------------------------------------------------------

def can_manage_users(user: Any) -> bool:
    """List, create, delete users; change roles and active flags."""
    return is_admin(user)


def can_act_for(actor: Any, user_id: Any) -> bool:
    """Admins for anyone, everyone for themselves (profile, password, preferences, tokens)."""
    return is_admin(actor) or (_signed_in(actor) and user_id is not None and str(user_id) == str(actor.pk))


def can_view_user(actor: Any, target: Any) -> bool:
    return target is not None and can_act_for(actor, target.pk)


def can_change_user(actor: Any, target: Any) -> bool:
    """Profile and password: admins anyone's, everyone their own (the API's rule)."""
    return can_view_user(actor, target)


def can_delete_user(actor: Any, target: Any) -> bool:
    """Admins, never themselves (it would lock them out mid-request)."""
    return is_admin(actor) and (target is None or target.pk != actor.pk)


def can_manage_preferences(actor: Any, owner: Any) -> bool:
    """Notification and UI preferences: one's own; admins anyone's."""
    return can_change_user(actor, owner)


def can_manage_tokens(actor: Any, owner: Any) -> bool:
    """Personal API tokens: one's own; admins anyone's. (The hook for the token pages.)"""
    return can_change_user(actor, owner)
