from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self):
        from jobs.services import renames  # noqa: F401  (jobs follow renamed categories and teams)
