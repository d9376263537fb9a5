"""Users, roles and per-user preferences (tables ``users``, ``user_*_preferences``)."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.hashers import is_passlib_hash, verify_passlib_pbkdf2_sha256
from cronhub import permissions
from cronhub.db import TimestampedModel, UUIDModel


class Role(models.TextChoices):
    ADMIN = permissions.ADMIN, _("Admin")
    USER = permissions.USER, _("User")
    VIEWER = permissions.VIEWER, _("Viewer")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username, email, password=None, **extra):
        if not username:
            raise ValueError("username is required")
        if not email:
            raise ValueError("email is required")
        user = self.model(username=username, email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, email, password=None, **extra):
        extra.setdefault("role", Role.ADMIN)
        return self.create_user(username, email, password, **extra)


class User(AbstractBaseUser, UUIDModel):
    """A person with a role. Every active role signs in to the admin site; role ``admin`` is its superuser."""

    username = models.CharField(_("username"), max_length=80, unique=True)
    email = models.EmailField(_("e-mail"), max_length=120, unique=True)
    password = models.CharField(_("password"), max_length=255, db_column="password_hash")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, null=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, null=True)
    # Whole second of the last password change: refresh tokens issued before it are refused,
    # those without a jti included (they cannot be blacklisted one by one).
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True,
                                               editable=False)
    # The PIC teams the user works in: "my teams' jobs" of the run-notification choice.
    pic_teams = models.ManyToManyField("taxonomy.PicTeam", blank=True, related_name="members",
                                       db_table="user_pic_teams", verbose_name=_("PIC teams"))

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        db_table = "users"
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username

    # --- roles -------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_write(self) -> bool:
        """Owns jobs: role user or admin (viewers are read-only); ``cronhub.permissions.is_writer``."""
        return permissions.is_writer(self)

    # The admin site asks these. Every active role signs in to it ("staff" follows the role,
    # it is not a flag of its own); what each may see or do there is ``cronhub.permissions``.
    @property
    def is_staff(self) -> bool:
        return permissions.can_use_console(self)

    @property
    def is_superuser(self) -> bool:
        return self.is_active and self.is_admin

    def has_perm(self, perm, obj=None) -> bool:
        # Pages that ask Django's model permissions (no role rule of their own) are the admin's.
        return self.is_superuser

    def has_perms(self, perm_list, obj=None) -> bool:
        return self.is_superuser

    def has_module_perms(self, app_label) -> bool:
        return permissions.can_see_app(self, app_label)

    # --- passwords -----------------------------------------------------------
    def check_password(self, raw_password) -> bool:
        if is_passlib_hash(self.password):
            if not verify_passlib_pbkdf2_sha256(raw_password or "", self.password):
                return False
            self.set_password(raw_password)  # upgrade to Django's hasher
            self._password = None  # the same password, re-hashed: not a password change
            if self.pk:
                type(self).objects.filter(pk=self.pk).update(password=self.password)
            return True
        return super().check_password(raw_password)

    def save(self, *args, **kwargs):
        """A new password (``set_password`` then ``save``, whoever calls them: the API, the
        admin's forms, ``manage.py changepassword``) revokes every refresh token of the user:
        those it knows are blacklisted, and ``password_changed_at`` refuses any older one.

        Django's re-hash on login (a hasher upgrade) clears ``_password`` before saving, so
        it is not a change.
        """
        password_changed = self._password is not None and not self._state.adding
        if password_changed:
            self.password_changed_at = timezone.now().replace(microsecond=0)
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "password_changed_at"}
        super().save(*args, **kwargs)
        if password_changed:
            from accounts.tokens import refresh_tokens_revoke_all  # tokens import this module's app

            refresh_tokens_revoke_all(self)


class RunNotifications(models.TextChoices):
    """Which run results (success, failure, outcome unknown) reach a user in the app and by e-mail."""

    ALL = "all", "All jobs"
    MINE = "mine", "My jobs and my teams' jobs"
    FAILURES = "failures", "Failures only"


class NotificationPreferences(TimestampedModel):
    """Per-user delivery switches. Defaults are the API's GET defaults, however the row is created."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="notification_preferences")
    email_on_job_success = models.BooleanField(default=True)
    email_on_job_failure = models.BooleanField(default=True)
    email_on_job_disabled = models.BooleanField(default=False)
    browser_notifications = models.BooleanField(default=False)
    daily_digest = models.BooleanField(default=False)
    weekly_report = models.BooleanField(default=False)
    run_notifications = models.CharField(max_length=20, choices=RunNotifications.choices,
                                         default=RunNotifications.ALL)
    created_at = models.DateTimeField(default=timezone.now, null=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True, null=True)

    class Meta:
        db_table = "user_notification_preferences"
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"


DEFAULT_JOBS_TABLE_COLUMNS = {
    "pic_team": True,
    "end_date": True,
    "cron_expression": False,
    "target_url": False,
    "last_execution_at": False,
}


class UiLanguage(models.TextChoices):
    ENGLISH = "en", "English"
    JAPANESE = "ja", "日本語"


class UiPreferences(TimestampedModel):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="ui_preferences")
    jobs_table_columns = models.JSONField(null=True, blank=True)
    # Empty: follow the browser (Accept-Language). Rules in accounts/rules.py.
    language = models.CharField(_("language"), max_length=8, blank=True, default="",
                                choices=UiLanguage.choices,
                                help_text=_("Language of the pages; empty follows the browser."))
    # Empty: the scheduler's zone (SCHEDULER_TIMEZONE).
    timezone = models.CharField(_("time zone"), max_length=64, blank=True, default="",
                                help_text=_("IANA zone the pages show times in, e.g. Asia/Tokyo; "
                                            "empty is the scheduler's zone."))

    class Meta:
        db_table = "user_ui_preferences"
        verbose_name = _("UI preferences")
        verbose_name_plural = _("UI preferences")

    def __str__(self) -> str:
        return f"UI preferences of {self.user_id}"

    @property
    def effective_columns(self) -> dict[str, bool]:
        """The five column switches, defaults filling anything missing or malformed."""
        stored = self.jobs_table_columns if isinstance(self.jobs_table_columns, dict) else {}
        return {key: bool(stored.get(key, default)) for key, default in DEFAULT_JOBS_TABLE_COLUMNS.items()}


class LoginThrottleCounter(models.Model):
    """One login-throttle counter (``accounts.throttling``): attempts in the window that began
    at ``window_start`` (epoch seconds), for a hashed (account, address) pair or address."""

    key = models.CharField(max_length=80, primary_key=True)
    window_start = models.FloatField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "login_throttle_counters"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


# --- API tokens for scripts (accounts/api_tokens.py) -----------------------------------
class ApiTokenScope(models.TextChoices):
    READ = "read", "Read-only"
    WRITE = "write", "Read-write"


class ApiToken(UUIDModel):
    """A personal token for scripts. Only its SHA-256 digest is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The secret's first characters, to recognise it")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(max_length=10, choices=ApiTokenScope.choices, default=ApiTokenScope.READ)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "api_tokens"
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
