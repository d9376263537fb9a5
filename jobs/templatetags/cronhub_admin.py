"""Template tags of the admin pages: the dashboard block and the one way a time is shown."""

from django import template

from cronhub import clock, permissions
from jobs import dashboard

register = template.Library()


@register.inclusion_tag("admin/jobs/dashboard.html", takes_context=True)
def cronhub_dashboard(context):
    # The scheduler's host and pid are internals (the API's scheduler status is admin-only).
    user = context.get("user")
    return {**dashboard.dashboard_context(), "show_internals": permissions.can_view_system(user)}


@register.filter
def show_time(moment, zone=None):
    """An instant as ``2026-12-02 10:00:00 JST``: in the viewer's zone, or in ``zone`` (a job's)."""
    return clock.show(moment, zone)
