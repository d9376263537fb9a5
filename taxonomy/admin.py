"""Categories and PIC teams: the slug is derived from the name. The form checks
with ``taxonomy.rules`` (what the API asks too) and saving calls
``taxonomy.services`` once, exactly as the API does (a rename makes jobs follow
the new slug). "Delete" is not offered: disabling is how a category or team
retires, and jobs keep the slug."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from cronhub.errors import CronhubError
from cronhub.forms import add_domain_error
from taxonomy import rules, services
from taxonomy.models import JobCategory, PicTeam


class SlugNamedForm(forms.ModelForm):
    """The rules answer for every field (same message as the API), not the model's limits;
    ``save_through_service(data)`` is what saving runs, the service the API calls."""

    # Not required and no length limit here: ``taxonomy.rules`` says what is missing or too long.
    name = forms.CharField(required=False)

    def save_through_service(self, data: dict):
        if not self.instance._state.adding:
            return services.update(self._meta.model, self.instance.pk, data)
        return services.create(self._meta.model, data)

    def api_data(self) -> dict:
        data = {key: self.cleaned_data.get(key) for key in self._meta.fields}
        if not self.instance._state.adding:  # partial update, as the API sends it
            data = {key: value for key, value in data.items() if key in self.changed_data}
        return data

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            data = self.api_data()
            try:
                if self.instance._state.adding:
                    rules.creation(self._meta.model, data)
                elif data:
                    rules.changes(self.instance, data)
            except CronhubError as error:
                add_domain_error(self, error)
        return cleaned


class JobCategoryForm(SlugNamedForm):
    class Meta:
        model = JobCategory
        fields = ["name", "is_active"]


class PicTeamForm(SlugNamedForm):
    slack_handle = forms.CharField(required=False, help_text="e.g. @qa-team or <!subteam^S123ABC>")

    class Meta:
        model = PicTeam
        fields = ["name", "slack_handle", "is_active"]


class SlugNamedAdmin(admin.ModelAdmin):
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    readonly_fields = ["slug", "created_at", "updated_at"]
    ordering = ["name"]
    actions = ["disable_selected"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.api_data()
        if not data:
            return
        result = form.save_through_service(data)
        saved = result.item if hasattr(result, "item") else result
        # The admin goes on with ``obj`` (log entry, redirect): give it the saved state.
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        if getattr(result, "jobs_updated", 0):
            self.message_user(
                request,
                f"Renamed to “{saved.name}” (slug {saved.slug}); {result.jobs_updated} job(s) updated.",
                messages.SUCCESS,
            )

    @admin.action(description=_("Disable selected (jobs keep their slug)"))
    def disable_selected(self, request, queryset):
        for obj in queryset:
            services.disable(self.model, obj.pk)
        self.message_user(request, f"Disabled {queryset.count()} item(s).", messages.SUCCESS)


@admin.register(JobCategory)
class JobCategoryAdmin(SlugNamedAdmin):
    form = JobCategoryForm
    list_display = ["name", "slug", "is_active", "updated_at"]


@admin.register(PicTeam)
class PicTeamAdmin(SlugNamedAdmin):
    form = PicTeamForm
    list_display = ["name", "slug", "slack_handle", "is_active", "updated_at"]
    search_fields = ["name", "slug", "slack_handle"]
