"""The admin app with cronhub's site (``cronhub.admin.CronhubAdminSite``) as ``admin.site``.

Kept apart from ``cronhub/admin.py`` because Django imports an app config before any model
exists, and the site asks the role rules, which need the user model.
"""

from django.contrib.admin.apps import AdminConfig


class CronhubAdminConfig(AdminConfig):
    default_site = "cronhub.admin.CronhubAdminSite"
