"""Slack settings as one page (there is one global row). The webhook URL is a
secret: the form shows it masked, and sending the mask back keeps the stored URL; its
history keeps only the mask and a short digest. Admins only (``cronhub.permissions``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from cronhub import permissions
from cronhub.admin import HistoryMixin, RoleAdmin
from cronhub.errors import CronhubError
from cronhub.forms import add_domain_error
from integrations import rules
from integrations.models import SlackSettings
from integrations.services import slack_settings_update


class SlackSettingsForm(forms.ModelForm):
    webhook_url = forms.CharField(
        required=False,
        label="Webhook URL",
        widget=forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"}),
        help_text="Shown masked. Leave the masked value to keep the stored URL; clear it to remove it.",
    )
    # No length limit here: ``integrations.rules`` answers, with the API's message.
    channel = forms.CharField(required=False)

    class Meta:
        model = SlackSettings
        fields = ["is_enabled", "webhook_url", "channel"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["webhook_url"] = self.instance.masked_webhook_url or ""

    def changes(self) -> dict:
        # The masked placeholder is passed through: the service keeps the stored URL for it.
        return {key: self.cleaned_data.get(key) for key in ("is_enabled", "webhook_url", "channel")}

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                rules.slack_settings(self.instance, self.changes())
            except CronhubError as error:
                add_domain_error(self, error)
        return data


@admin.register(SlackSettings)
class SlackSettingsAdmin(HistoryMixin, RoleAdmin):
    form = SlackSettingsForm
    view_rule = staticmethod(permissions.can_manage_slack)
    change_rule = staticmethod(lambda user, obj=None: permissions.can_manage_slack(user))
    readonly_fields = ["created_at", "updated_at"]
    fields = ["is_enabled", "webhook_url", "channel", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # A list of one row is noise: go straight to the row (created on first visit).
        if not self.has_view_permission(request):
            raise PermissionDenied
        row = SlackSettings.load()
        return HttpResponseRedirect(reverse("admin:integrations_slacksettings_change", args=[row.pk]))

    def save_model(self, request, obj, form, change):
        saved = slack_settings_update(changes=form.changes())
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))

    def response_change(self, request, obj):
        self.message_user(request, "Slack settings saved.")
        return HttpResponseRedirect(reverse("admin:integrations_slacksettings_change", args=[obj.pk]))
