"""Template tags for the admin index: the dashboard block."""

from django import template

from cronhub import permissions
from jobs import dashboard

register = template.Library()


@register.inclusion_tag("admin/jobs/dashboard.html", takes_context=True)
def cronhub_dashboard(context):
    # The scheduler's host and pid are internals (the API's scheduler status is admin-only).
    user = context.get("user")
    return {**dashboard.dashboard_context(), "show_internals": permissions.can_view_system(user)}


@register.filter
def in_zone(moment, zone_name):
    """Show an aware datetime in the named zone (a job's, or the scheduler's)."""
    import zoneinfo

    if moment is None:
        return "—"
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return moment.isoformat()
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
