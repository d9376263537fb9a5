"""The job form: grouped model fields, checked by the job rules and saved once."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cronhub import values
from cronhub.errors import CronhubError
from cronhub.forms import add_domain_error
from jobs import cron, rules
from jobs.models import Job
from taxonomy.models import JobCategory, PicTeam


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(values.timezone_names())]


# The form's sections; fields declared in ``jobs.rules.FIELDS`` join the section they name.
_LAYOUT: list[tuple[str | None, list[str], dict]] = [
    (None, ["name", "is_active"], {}),
    ("Schedule", ["cron_expression", "timezone", "end_date"],
     {"description": _("Fire times follow classic cron on the wall clock of the job's time zone.")}),
    ("Target", ["target_url", "github_owner", "github_repo", "github_workflow_name", "metadata"], {}),
    ("Delivery", [], {"description": "How each run is sent: retries, timeout, overlap, webhook options "
                      "(docs/execution.md). Secrets show masked; leave the mask to keep them.",
                      "classes": ["collapse"]}),
    ("Notifications", ["enable_email_notifications", "notification_emails", "notify_on_success"], {}),
    ("Ownership", ["category", "pic_team", "created_by"], {}),
]
# The sections' titles as people read them (``rules.FIELDS`` names sections by the English key).
SECTION_TITLES = {"Schedule": _("Schedule"), "Target": _("Target"), "Notifications": _("Notifications"),
                  "Ownership": _("Ownership"), "Delivery": _("Delivery")}
FIELDSETS = [
    (SECTION_TITLES.get(title, title), {"fields": [*names, *(f.name for f in rules.FIELDS
                                                             if f.section == title and f.name not in names)],
                                        **options})
    for title, names, options in _LAYOUT
]
EDITABLE_FIELDS = [name for _title, options in FIELDSETS for name in options["fields"]]
# Delivery options with a default: a form that leaves one empty keeps the value.
DEFAULTED = ("overlap_policy", "max_attempts", "retry_backoff_seconds", "timeout_seconds")
# The fields an API body carries (the owner is the request's user there).
BODY_FIELDS = [name for name in EDITABLE_FIELDS if name != "created_by"]


class PicTeamSelect(forms.Select):
    """The PIC-team choice, with the admin's "+" that adds a team in a popup (for those who
    may create teams) and selects it on return, as a foreign key's widget would. Teams are
    referred to by slug, so the popup hands back the slug (``_to_field=slug``)."""

    def __init__(self, *args, can_add: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_add = can_add

    def render(self, name, value, attrs=None, renderer=None):
        select = super().render(name, value, attrs, renderer)
        if not self.can_add:
            return select
        element_id = (attrs or {}).get("id") or f"id_{name}"
        url = reverse("admin:taxonomy_picteam_add") + "?_to_field=slug&_popup=1"
        return format_html(
            '<div class="related-widget-wrapper" data-model-ref="picteam">{}'
            '<a class="related-widget-wrapper-link add-related" id="add_{}" data-popup="yes" href="{}" '
            'title="{}"><img src="{}" alt="{}"></a></div>',
            select, element_id, url, _("Add another PIC team"),
            settings.STATIC_URL + "admin/img/icon-addlink.svg", _("Add"),
        )


class JobAdminForm(forms.ModelForm):
    """The admin's job form. Its values are checked by the job rules (the API's and
    the CSV import's: same checks, same order, same messages, each on its field)
    and saved once by ``jobs.services.writes`` (same notifications), so an admin
    edit is an API edit."""

    timezone = forms.ChoiceField(choices=_timezone_choices, initial=lambda: settings.SCHEDULER_TIMEZONE,
                                 label=_("time zone"))
    category = forms.ChoiceField(choices=(), initial="general", label=_("category"))
    pic_team = forms.ChoiceField(choices=(), label=_("PIC team"))

    class Meta:
        model = Job
        fields = EDITABLE_FIELDS
        widgets = {
            "cron_expression": forms.TextInput(
                attrs={
                    "class": "vTextField cronhub-cron-input",
                    "autocomplete": "off",
                    "spellcheck": "false",
                    "placeholder": _("e.g. 0 9 * * 1-5"),
                }
            ),
            "notification_emails": forms.TextInput(attrs={"class": "vTextField"}),
        }
        help_texts = {
            "name": _("Required. Unique among all jobs."),
            "cron_expression": _("Required. Five fields: minute hour day-of-month month day-of-week "
                                 "(classic cron; 0 and 7 are Sunday), or @hourly, @daily, @weekly..."),
            "target_url": _("A webhook URL (http:// or https://), or owner/repo/workflow for GitHub Actions. "
                            "Either this or the three GitHub fields below is required."),
            "end_date": _("Required. The last day the job runs (YYYY-MM-DD, today or later, scheduler "
                          "time zone); it is paused the day after."),
            "metadata": _("Optional. A JSON object sent with each run ({} for none)."),
        }

    # Fields the rules require, with the rule's own words when left empty (the label says
    # "required" before anything is typed; the message is the same whoever asks).
    REQUIRED = {
        "name": "Job name cannot be empty",
        "cron_expression": cron.REQUIRED_MESSAGE,
        "end_date": _("End date is required (YYYY-MM-DD)."),
        "pic_team": rules.PIC_REQUIRED,
    }

    def __init__(self, *args, can_add_team: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.api_data: dict = {}
        adding = self.instance._state.adding
        for name, message in self.REQUIRED.items():
            if name in self.fields:
                self.fields[name].required = True
                self.fields[name].error_messages["required"] = message
        for name in DEFAULTED:  # left empty: the job keeps its value (a new job gets the default)
            if name in self.fields:
                self.fields[name].required = False
        if "metadata" in self.fields and self.initial.get("metadata") is None:
            self.initial["metadata"] = {}  # a job without inputs shows {}, not null
        if "pic_team" in self.fields:
            self.fields["pic_team"].widget = PicTeamSelect(can_add=can_add_team)
            self.fields["pic_team"].help_text = (
                _("Required. The team paged in Slack when a run fails. Add one with +.") if can_add_team
                else _("Required. The team paged in Slack when a run fails. No team in the list? "
                       "An admin adds PIC teams (Taxonomy → PIC teams)."))
        current_category = None if adding else self.instance.category
        categories = [(c.slug, c.name) for c in JobCategory.objects.order_by("name")]
        if not any(slug == "general" for slug, _ in categories):
            categories.insert(0, ("general", _("General")))
        if current_category and not any(slug == current_category for slug, _ in categories):
            categories.append((current_category, _("%(slug)s (unknown)") % {"slug": current_category}))
        self.fields["category"].choices = categories

        current_team = None if adding else self.instance.pic_team
        teams = [("", "---------")] + [
            (t.slug, t.name if t.is_active else _("%(name)s (disabled)") % {"name": t.name})
            for t in PicTeam.objects.filter(Q(is_active=True) | Q(slug=current_team or "")).order_by("name")
        ]
        if current_team and not any(slug == current_team for slug, _ in teams):
            teams.append((current_team, _("%(slug)s (unknown)") % {"slug": current_team}))
        self.fields["pic_team"].choices = teams
        # Secrets show masked; the mask sent back keeps them (jobs.rules.unmask).
        for name in rules.SECRET_FIELDS:
            if name in self.fields:
                self.initial[name] = rules.masked(name, getattr(self.instance, name, None))
        if "webhook_signing_secret" in self.fields:
            self.fields["webhook_signing_secret"].widget = forms.TextInput(
                attrs={"class": "vTextField", "autocomplete": "off"})

    def clean_cron_expression(self):
        # Checked here too so a bad cron is reported even when another field is also wrong.
        try:
            return rules.cron_expression(self.cleaned_data.get("cron_expression"))
        except CronhubError as error:
            raise forms.ValidationError(error.localized()) from None

    def api_body(self) -> dict:
        """The form as an API request body: every field on create, the changed ones on update."""
        adding = self.instance._state.adding
        body = {}
        for key in BODY_FIELDS:
            if key not in self.fields or (not adding and key not in self.changed_data):
                continue
            value = self.cleaned_data.get(key)
            if key in DEFAULTED and value in (None, ""):
                continue  # left empty: the job keeps its value (a new job gets the default)
            if key == "end_date":
                value = value.isoformat() if value else None
            elif key == "notification_emails":
                value = [item.strip() for item in (value or "").split(",") if item.strip()]
            body[key] = value
        if not adding and "notification_emails" in body and "enable_email_notifications" not in body:
            body["enable_email_notifications"] = self.cleaned_data.get("enable_email_notifications")
        return body

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        body = self.api_body()
        try:
            if self.instance._state.adding:
                self.api_data = rules.clean_create(body)
            else:
                self.api_data = rules.clean_update(self.instance, body)
        except CronhubError as error:
            add_domain_error(self, error)
            return data
        owner_changed = self.instance._state.adding or "created_by" in self.changed_data
        if owner_changed and data.get("created_by") is not None:
            self.api_data["created_by"] = data["created_by"]
        return data


class CronHelpMedia:
    js = ("jobs/admin/cron_help.js",)
    css = {"all": ("jobs/admin/admin.css",)}
