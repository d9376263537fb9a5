"""Categories and PIC teams: the slug is derived from the name; a rename goes
through ``taxonomy.services`` so jobs follow it, exactly as in the API.
"Delete" is not offered: disabling (is_active) is how a category or team retires."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from taxonomy import services
from taxonomy.models import JobCategory, PicTeam


class SlugNamedForm(forms.ModelForm):
    label = ""

    @staticmethod
    def rename_check(instance, name):  # the service's <x>_rename_check
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        name = (data.get("name") or "").strip()
        if "name" in self.errors:
            return data
        try:
            if self.instance.pk:
                if name != self.instance.name:
                    data["slug"] = type(self).rename_check(self.instance, name)
            else:
                slug = services.slugify(name)
                if not slug:
                    raise services.TaxonomyError("Invalid slug", "Unable to generate a valid slug from name.")
                if self._meta.model.objects.filter(slug=slug).exists():
                    raise services.TaxonomyError(
                        "Duplicate slug", f'{self.label} slug "{slug}" already exists.'
                    )
                data["slug"] = slug
        except services.TaxonomyError as exc:
            self.add_error("name", exc.message)
        return data


class JobCategoryForm(SlugNamedForm):
    label = "Category"

    @staticmethod
    def rename_check(instance, name):
        return services.category_rename_check(category=instance, name=name)

    class Meta:
        model = JobCategory
        fields = ["name", "is_active"]


class PicTeamForm(SlugNamedForm):
    label = "PIC team"

    @staticmethod
    def rename_check(instance, name):
        return services.team_rename_check(team=instance, name=name)

    class Meta:
        model = PicTeam
        fields = ["name", "slack_handle", "is_active"]

    def clean_slack_handle(self):
        handle = (self.cleaned_data.get("slack_handle") or "").strip()
        if not handle:
            raise forms.ValidationError("slack_handle cannot be empty.")
        return handle


class SlugNamedAdmin(admin.ModelAdmin):
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    readonly_fields = ["slug", "created_at", "updated_at"]
    ordering = ["name"]
    actions = ["disable", "enable"]

    def has_delete_permission(self, request, obj=None):
        return False

    def rename_object(self, obj, name) -> int:  # the service's <x>_rename
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        if not change:
            obj.slug = form.cleaned_data["slug"]
            obj.save()
            return
        new_name = form.cleaned_data["name"].strip()
        old_name = form.initial.get("name")
        # Fields other than the name save normally; the name goes through the service.
        obj.name = old_name
        obj.save()
        if new_name != old_name:
            jobs_updated = self.rename_object(obj, new_name)
            self.message_user(
                request,
                f"Renamed to “{obj.name}” (slug {obj.slug}); {jobs_updated} job(s) updated.",
                messages.SUCCESS,
            )

    @admin.action(description="Disable selected (jobs keep their slug)")
    def disable(self, request, queryset):
        for obj in queryset:
            obj.is_active = False
            obj.save(update_fields=["is_active", "updated_at"])

    @admin.action(description="Enable selected")
    def enable(self, request, queryset):
        for obj in queryset:
            obj.is_active = True
            obj.save(update_fields=["is_active", "updated_at"])


@admin.register(JobCategory)
class JobCategoryAdmin(SlugNamedAdmin):
    form = JobCategoryForm
    list_display = ["name", "slug", "is_active", "updated_at"]

    def rename_object(self, obj, name):
        return services.category_rename(category=obj, name=name)


@admin.register(PicTeam)
class PicTeamAdmin(SlugNamedAdmin):
    form = PicTeamForm
    list_display = ["name", "slug", "slack_handle", "is_active", "updated_at"]
    search_fields = ["name", "slug", "slack_handle"]

    def rename_object(self, obj, name):
        return services.team_rename(team=obj, name=name)
