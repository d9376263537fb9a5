"""Admin-only views that are not model pages: the live cron help behind the job
form, and the CSV import (upload → dry-run preview → confirm).

Both are wrapped by ``admin_site.admin_view`` in ``jobs/admin.py``, so only
staff (role admin) reach them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cronhub import clock
from jobs import cron
from jobs.services.imports import CsvFileError, jobs_import_csv

PREVIEW_COUNT = 5


def cron_help_data(expression: str, tz_name: str, *, now: dt.datetime | None = None) -> dict:
    """What the job form shows under the cron field: validity, description and
    the next fire times in the job's zone. The cron engine is the same one the
    scheduler and the API use, so the three never disagree."""
    expression = (expression or "").strip()
    tz_name = (tz_name or "").strip() or settings.SCHEDULER_TIMEZONE
    try:
        zone = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return {
            "valid": False,
            "field": "timezone",
            "error": gettext("Invalid time zone"),
            "message": gettext("Unknown time zone %(zone)r: use an IANA name such as Asia/Tokyo.")
            % {"zone": tz_name},
            "timezone": tz_name,
            "description": "",
            "next_runs": [],
        }
    try:
        schedule = cron.parse(expression)
    except cron.CronError as exc:
        return {
            "valid": False,
            "field": "cron_expression",
            "error": gettext("Invalid cron expression"),
            "message": exc.localized(),
            "timezone": tz_name,
            "description": "",
            "next_runs": [],
        }
    runs = schedule.next_fire_times(zone, now or timezone.now(), PREVIEW_COUNT)
    return {
        "valid": True,
        "message": gettext("Valid cron expression"),
        "timezone": tz_name,
        "description": schedule.describe(),
        "next_runs": [run.isoformat() for run in runs],
        "heading": (gettext("Next runs (%(zone)s):") % {"zone": tz_name} if runs
                    else gettext("This schedule never fires.")),
        "next_runs_display": [clock.show(run, zone, fmt="D " + clock.DATETIME_FORMAT) for run in runs],
    }


def cron_help(request: HttpRequest) -> JsonResponse:
    return JsonResponse(cron_help_data(request.GET.get("expression", ""), request.GET.get("timezone", "")))


# --- CSV import ------------------------------------------------------------------------

SESSION_KEY = "cronhub_admin_import"


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"), help_text=_("UTF-8, first row is the header (same format as the API).")
    )
    default_github_owner = forms.CharField(
        required=False,
        max_length=255,
        label=_("Default GitHub owner"),
        help_text=_("Owner for rows that give a repository and workflow but no owner "
                    "(default: DEFAULT_GITHUB_OWNER)."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.BULK_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                gettext("The file is larger than %(limit)s bytes (BULK_UPLOAD_MAX_BYTES).")
                % {"limit": settings.BULK_UPLOAD_MAX_BYTES}
            )
        return upload


def _pending(request: HttpRequest) -> dict | None:
    pending = request.session.get(SESSION_KEY)
    if not isinstance(pending, dict) or "data" not in pending:
        return None
    try:
        pending["bytes"] = base64.b64decode(pending["data"])
    except (binascii.Error, TypeError, ValueError):
        return None
    return pending


def job_import(request: HttpRequest, *, model_admin) -> HttpResponse:
    """Upload → dry-run preview with per-row errors → confirm → real import.

    The uploaded bytes wait in the session between preview and confirm, so the
    confirmed import runs on exactly the file that was previewed.
    """
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": gettext("Import jobs from CSV"),
        "changelist_url": reverse("admin:jobs_job_changelist"),
    }
    if request.method == "POST" and request.POST.get("step") == "confirm":
        pending = _pending(request)
        if pending is None:
            messages.error(request, gettext("Nothing to import: upload the file again."))
            return redirect("admin:jobs_job_import")
        report = jobs_import_csv(
            data=pending["bytes"],
            user=request.user,
            dry_run=False,
            default_github_owner=pending.get("default_github_owner") or None,
            filename=pending.get("filename"),
        )
        request.session.pop(SESSION_KEY, None)
        result = report.as_dict()
        created = result.get("created_count", 0)
        errors = result.get("error_count", 0)
        level = messages.SUCCESS if created else messages.ERROR
        messages.add_message(
            request,
            level,
            gettext("Import of %(file)s: %(created)s job(s) created, %(errors)s row(s) skipped.") % {
                "file": pending.get("filename") or gettext("the CSV"), "created": created, "errors": errors},
        )
        if not created:
            context.update(form=ImportUploadForm(), report=result, confirmed=True)
            return TemplateResponse(request, "admin/jobs/job/import.html", context, status=400)
        return redirect("admin:jobs_job_changelist")

    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            owner = form.cleaned_data["default_github_owner"].strip()
            try:
                report = jobs_import_csv(
                    data=data,
                    user=request.user,
                    dry_run=True,
                    default_github_owner=owner or None,
                    filename=upload.name,
                )
            except CsvFileError as exc:
                form.add_error("file", gettext("Invalid CSV: %(problem)s") % {"problem": exc})
                context.update(form=form)
                return TemplateResponse(request, "admin/jobs/job/import.html", context, status=400)
            result = report.as_dict()
            request.session[SESSION_KEY] = {
                "data": base64.b64encode(data).decode("ascii"),
                "filename": upload.name,
                "default_github_owner": owner,
            }
            context.update(
                form=form, report=result, filename=upload.name, can_confirm=bool(result.get("created_count"))
            )
            return TemplateResponse(request, "admin/jobs/job/import.html", context)
    else:
        form = ImportUploadForm()
    context.update(form=form)
    return TemplateResponse(request, "admin/jobs/job/import.html", context)
