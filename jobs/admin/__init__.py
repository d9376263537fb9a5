"""The staff console for jobs: job pages, execution history, the scheduler's state."""

from jobs.admin import executions, jobs, scheduler

__all__ = ["executions", "jobs", "scheduler"]
