from django.contrib import admin

from jobs.models import Job, JobExecution, SchedulerState


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["name", "cron_expression", "timezone", "category", "pic_team", "end_date", "is_active",
                    "created_by"]
    list_filter = ["is_active", "category", "pic_team"]
    list_select_related = ["created_by"]
    search_fields = ["name", "github_repo", "target_url"]
    readonly_fields = ["id", "created_at", "updated_at"]
    raw_id_fields = ["created_by"]


@admin.register(JobExecution)
class JobExecutionAdmin(admin.ModelAdmin):
    list_display = ["job", "status", "trigger_type", "scheduled_for", "started_at", "duration_seconds",
                    "response_status"]
    list_filter = ["status", "trigger_type", "execution_type"]
    list_select_related = ["job"]
    search_fields = ["job__name", "target"]
    date_hierarchy = "started_at"
    raw_id_fields = ["job"]


@admin.register(SchedulerState)
class SchedulerStateAdmin(admin.ModelAdmin):
    list_display = ["__str__", "leader_since", "heartbeat_at", "last_reconcile_at", "scheduled_jobs_count"]
