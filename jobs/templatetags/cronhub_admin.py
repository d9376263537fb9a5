"""Template tags of the admin pages: the dashboard block and the one way a time is shown."""

from django import template

from cronhub import clock
from jobs import dashboard

register = template.Library()


@register.inclusion_tag("admin/jobs/dashboard.html")
def cronhub_dashboard():
    return dashboard.dashboard_context()


@register.filter
def show_time(moment, zone=None):
    """An instant as ``2026-12-02 10:00:00 JST``: in the viewer's zone, or in ``zone`` (a job's)."""
    return clock.show(moment, zone)
