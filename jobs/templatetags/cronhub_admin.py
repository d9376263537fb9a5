"""Template tags for the admin index: the dashboard block."""

from django import template

from jobs import dashboard

register = template.Library()


@register.inclusion_tag("admin/jobs/dashboard.html")
def cronhub_dashboard():
    return dashboard.dashboard_context()


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
