"""The admin site every role signs in to, and the pieces its model pages share.

- Every active account signs in (``User.is_staff`` follows the role); what each role sees
  and may do is asked of ``cronhub.permissions`` by every model page (:class:`RoleAdmin`).
- Internal tables (the scheduler's state, django-apscheduler's, the token tables, login
  throttle counters) are listed together under one "System" section, read-only.
- A refusal is Django's ``PermissionDenied``: a 403 page (``templates/403.html``), never a
  redirect to the login form and never a 500.
"""

from __future__ import annotations

import contextvars
import functools

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from cronhub import audit, permissions

# (app_label, object_name) of the internal models grouped under "System".
SYSTEM_MODELS = frozenset({
    ("jobs", "SchedulerState"),
    ("django_apscheduler", "DjangoJob"),
    ("django_apscheduler", "DjangoJobExecution"),
    ("token_blacklist", "OutstandingToken"),
    ("token_blacklist", "BlacklistedToken"),
    ("accounts", "LoginThrottleCounter"),
})
SYSTEM_APP_LABEL = "system"

# The user whose request the admin is answering (display columns cannot see the request).
_viewer: contextvars.ContextVar = contextvars.ContextVar("cronhub_admin_viewer", default=None)


def viewer():
    """The user the current admin page is for (None outside an admin request)."""
    return _viewer.get()


class CronhubAdminSite(admin.AdminSite):
    site_header = _("cronhub")
    site_title = _("cronhub")
    index_title = _("Console")

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def as_viewer(request, *args, **kwargs):
            token = _viewer.set(getattr(request, "user", None))
            try:
                response = inner(request, *args, **kwargs)
                if callable(getattr(response, "render", None)) and not response.is_rendered:
                    response.render()  # display columns run while rendering: still for this user
                return response
            finally:
                _viewer.reset(token)

        return as_viewer

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        system = {
            "name": _("System (internal, read-only)"),
            "app_label": SYSTEM_APP_LABEL,
            "app_url": "",
            "has_module_perms": True,
            "models": [],
        }
        kept = []
        for app in apps:
            own = []
            for model in app["models"]:
                key = (app["app_label"], model["object_name"])
                (system["models"] if key in SYSTEM_MODELS else own).append(model)
            if own:
                kept.append({**app, "models": own})
        if system["models"]:
            system["models"].sort(key=lambda model: str(model["name"]))
            kept.append(system)
        return kept


class RoleAdmin(admin.ModelAdmin):
    """A model page whose every answer comes from ``cronhub.permissions``.

    Subclasses name the rules: ``view_rule(user)``, ``add_rule(user)``,
    ``change_rule(user, obj)``, ``delete_rule(user, obj)`` (obj None: "any at all?").
    A missing rule means admins only.
    """

    view_rule = staticmethod(permissions.is_admin)
    add_rule = staticmethod(permissions.is_admin)
    change_rule = staticmethod(lambda user, obj=None: permissions.is_admin(user))
    delete_rule = staticmethod(lambda user, obj=None: permissions.is_admin(user))

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.view_rule(request.user) or self.has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self.add_rule(request.user)

    def has_change_permission(self, request, obj=None):
        return self.change_rule(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return self.delete_rule(request.user, obj)

    def changelist_view(self, request, extra_context=None):
        # A list action the role may not use is refused outright (Django would just show
        # the list again with "No action selected").
        name = request.POST.get("action") if request.method == "POST" else None
        if name and name not in self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)


class SystemAdmin(RoleAdmin):
    """An internal table: admins read it; nobody adds, edits or deletes rows by hand."""

    actions = None
    view_rule = staticmethod(permissions.can_view_system)
    add_rule = staticmethod(lambda user: False)
    change_rule = staticmethod(lambda user, obj=None: False)
    delete_rule = staticmethod(lambda user, obj=None: False)


class HistoryMixin:
    """The object's "History" page from its audit trail (``cronhub.audit``): every change,
    whoever made it and through whatever entry point, 50 to a page, secrets masked by
    :meth:`history_mask`. Read-only: a history is never reverted by hand."""

    history_per_page = 50

    def history_mask(self, request, obj):
        return None

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        rows = audit.history_rows(self.model, obj.pk)
        page = Paginator(rows, self.history_per_page).get_page(request.GET.get("p"))
        entries = audit.page_entries(rows, page=page.number, limit=self.history_per_page,
                                     mask=self.history_mask(request, obj))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change history: %s") % obj,
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "entries": entries,
            "page_obj": page,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/cronhub/object_history.html", context)
