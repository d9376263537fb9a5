"""Create an admin account, idempotently.

Without options it creates the development admin (DEFAULT_ADMIN_*, admin/admin123)
and only when ALLOW_DEFAULT_ADMIN is true (by default: only with DEBUG). With
``--username/--email`` it creates that admin; the password comes from
``--password``, else the ADMIN_PASSWORD environment variable (or ADMIN_PASSWORD_FILE).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import admin_ensure


class Command(BaseCommand):
    help = "Create an admin user if it does not exist yet (safe to run repeatedly)."

    def add_arguments(self, parser):
        parser.add_argument("--username", help="admin username (default: ADMIN_USERNAME)")
        parser.add_argument("--email", help="admin e-mail (default: ADMIN_EMAIL)")
        parser.add_argument("--password", help="password (default: ADMIN_PASSWORD from the environment)")

    def handle(self, *args, **options):
        explicit = any(options.get(key) for key in ("username", "email", "password"))
        if explicit:
            username = options["username"] or settings.ADMIN_USERNAME
            email = options["email"] or settings.ADMIN_EMAIL
            password = options["password"] or settings.ADMIN_PASSWORD
        else:
            if not settings.ALLOW_DEFAULT_ADMIN:
                self.stdout.write(
                    "Default admin not created: ALLOW_DEFAULT_ADMIN is off "
                    "(pass --username/--email/--password to create a real admin)."
                )
                return
            username = settings.DEFAULT_ADMIN_USERNAME
            email = settings.DEFAULT_ADMIN_EMAIL
            password = settings.DEFAULT_ADMIN_PASSWORD
        if len(password or "") < 6:
            raise CommandError("The admin password must be at least 6 characters long.")
        result = admin_ensure(username=username.strip(), email=email.strip().lower(), password=password)
        if result.created and not explicit:
            self.stderr.write(self.style.WARNING(
                f"Created the default admin {username!r} with the default password: change it before "
                "exposing this instance (ALLOW_DEFAULT_ADMIN=false disables this)."
            ))
        self.stdout.write(result.reason)
