"""The upcoming-runs calendar page (``/admin/jobs/job/calendar/``): read-only, for every role
that may use the admin (viewers included); the data comes from ``jobs/calendar.py``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from cronhub import clock
from jobs import calendar
from taxonomy.models import JobCategory, PicTeam

# The page lists at most this many fire times (an every-minute job alone has 10,080 in 7 days);
# the load strips and the busiest minutes always count all of them.
MAX_LISTED = 1500


def _days(fires):
    """Fire times grouped by the viewer's calendar day: [(date, [fire, ...]), ...]."""
    days: list[tuple] = []
    for fire in fires:
        day = clock.localtime(fire.at).date()
        if not days or days[-1][0] != day:
            days.append((day, []))
        days[-1][1].append(fire)
    return days


def upcoming_runs(request: HttpRequest, *, model_admin) -> HttpResponse:
    filters = calendar.Filters.from_query(request.GET)
    data = calendar.upcoming_calendar(filters)

    def hour_label(slot):
        return _("%(when)s: %(count)s run(s), %(github)s GitHub dispatch(es)") % {
            "when": clock.show(slot.at, fmt="Y-m-d H:00 T"), "count": slot.count, "github": slot.github}

    def minute_label(slot):
        return _("%(when)s: %(count)s run(s), %(github)s GitHub dispatch(es)") % {
            "when": clock.show(slot.at, fmt="Y-m-d H:i T"), "count": slot.count, "github": slot.github}

    owners = get_user_model().objects.filter(jobs__isnull=False).distinct().order_by("username")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Upcoming runs"),
        "calendar": data,
        "days": _days(data.fires[:MAX_LISTED]),
        "unlisted": max(len(data.fires) - MAX_LISTED, 0),
        "hour_strip": calendar.load_strip_svg(data.hours, label=hour_label, title=_("Runs per hour")),
        "minute_strip": (calendar.load_strip_svg(data.minutes, label=minute_label, title=_("Runs per minute"))
                         if data.minutes else ""),
        "windows": [("24h", _("Next 24 hours")), ("7d", _("Next 7 days"))],
        "teams": PicTeam.objects.order_by("name"),
        "categories": JobCategory.objects.order_by("name"),
        "owners": owners.values_list("username", flat=True),
        "target_types": [("github_actions", _("GitHub Actions")), ("webhook", _("Webhook"))],
        "viewer_zone": clock.viewer_zone(),
    }
    return TemplateResponse(request, "admin/jobs/job/calendar.html", context)
