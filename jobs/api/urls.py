"""jobs, executions and scheduler API routes (mounted under /api/v2/). Literal
segments come before ``{job_id}`` / ``{execution_id}`` (so they are never read as an id)."""

from django.urls import path

from jobs.api import executions, github_webhook, scheduler, views

urlpatterns = [
    path("jobs", views.JobListView.as_view()),
    path("jobs/bulk-upload", views.BulkUploadView.as_view()),
    path("jobs/validate-cron", views.ValidateCronView.as_view()),
    path("jobs/cron-preview", views.CronPreviewView.as_view()),
    path("jobs/cron-description", views.CronDescriptionView.as_view()),
    path("jobs/test-run", views.TestRunView.as_view()),
    path("jobs/<str:job_id>", views.JobDetailView.as_view()),
    path("jobs/<str:job_id>/execute", views.ExecuteView.as_view()),
    path("jobs/<str:job_id>/executions", executions.JobExecutionListView.as_view()),
    path("jobs/<str:job_id>/executions/stats", executions.JobExecutionStatsView.as_view()),
    path("jobs/<str:job_id>/executions/<str:execution_id>", executions.JobExecutionDetailView.as_view()),
    path("executions", executions.ExecutionListView.as_view()),
    path("executions/statistics", executions.ExecutionStatisticsView.as_view()),
    path("executions/<str:execution_id>", executions.ExecutionDetailView.as_view()),
    path("scheduler/status", scheduler.SchedulerStatusView.as_view()),
    path("scheduler/resync", scheduler.SchedulerResyncView.as_view()),
    path("github/webhook", github_webhook.GithubWebhookView.as_view()),
]
