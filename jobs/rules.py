"""Job input: every rule once, for the API, the CSV import and the admin.

A rule reads one loose value (a JSON value, a CSV cell, a form value), returns
the model value and refuses with :class:`~cronhub.errors.InvalidInput` naming
the field. The three entry points call the same rules, so they answer alike;
the order in which a request's fields are checked (the first failure is the
one reported) belongs to each operation and is written once, below:
:func:`clean_create`, :func:`clean_update` and, for CSV rows,
``jobs.services.imports``.

Fields that need no special handling are declared once in :data:`FIELDS`
(rule, CSV headers, admin section); the API, the CSV import and the admin
pick them up from there.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from cronhub.errors import N_, InvalidInput
from cronhub.values import check_json, json_loads, storable_text, timezone_name, truthy
from jobs import cron
from jobs.models import Job, OverlapPolicy, WebhookMethod, scheduler_today
from taxonomy.models import JobCategory, PicTeam
from taxonomy.services import slugify

GITHUB_FIELDS = ("github_owner", "github_repo", "github_workflow_name")
TARGET_FIELDS = ("target_url", *GITHUB_FIELDS)
REQUIRED_ON_CREATE = ("name", "cron_expression", "end_date")
GENERAL = "general"


class Op(enum.StrEnum):
    """Which operation a value is checked for: some refusals are worded per operation."""

    CREATE = "create"
    UPDATE = "update"
    IMPORT = "import"
    TEST_RUN = "test_run"


# Texts that differ by operation; existing clients show them as they are.
# (Each text is a msgid of the catalogue, N_: the error keeps the English, the admin shows the
# translation; see cronhub/errors.py.)
DUPLICATE_NAME = {
    Op.CREATE: N_('A job with the name "%(name)s" already exists. Please use a unique name.'),
    Op.UPDATE: N_('A job with the name "%(name)s" already exists.'),
    Op.IMPORT: N_('A job with the name "%(name)s" already exists.'),
}
END_DATE_MISSING = {
    Op.CREATE: (N_("Missing required fields"), N_('"end_date" is required (YYYY-MM-DD).')),
    Op.UPDATE: (N_("Invalid end_date"), N_("end_date is required (YYYY-MM-DD).")),
    Op.IMPORT: (N_("Missing required fields"), N_("end_date (YYYY-MM-DD) is required.")),
}
SCHEME_MISSING = N_("target_url must include scheme (http:// or https://).")
SCHEME_MISSING_BY_OP = {
    Op.CREATE: N_("target_url must include scheme (http:// or https://). For GitHub dispatch, use "
                  "github_owner/github_repo/github_workflow_name or provide owner/repo/workflow."),
    Op.TEST_RUN: N_("Webhook URL must start with http:// or https://"),
}
TARGET_MISSING = {
    Op.CREATE: N_('Please provide either "target_url" or GitHub Actions configuration '
                  "(github_owner, github_repo, github_workflow_name)"),
    Op.UPDATE: N_("Job must have either target_url or complete GitHub Actions configuration"),
    Op.IMPORT: N_("Provide target_url or GitHub config (github_owner, github_repo, github_workflow_name)."),
    Op.TEST_RUN: N_("Provide target_url or GitHub config (github_owner, github_repo, github_workflow_name)."),
}
CATEGORY_UNKNOWN = N_("Unknown category. Create it in Settings → Categories first, or choose General.")
PIC_REQUIRED = N_("PIC team is required. Create one in Settings → PIC Teams.")
PIC_UNKNOWN = N_("Unknown PIC team. Create it in Settings → PIC Teams first.")
PIC_DISABLED = N_("PIC team is disabled. Enable it in Settings → PIC Teams or choose another.")


BAD_DAY = N_("Invalid end_date. Use YYYY-MM-DD.")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def max_length(name: str) -> int:
    return Job._meta.get_field(name).max_length


# --- one value each ---------------------------------------------------------------------

def text(value: Any, name: str, *, error: str = "Invalid payload") -> str:
    """A trimmed string (null → ""; numbers as their text); other types and overlong text refused."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidInput(error, N_('"%(name)s" must be a string.'), params={"name": name}, field=name)
    value = storable_text(value.strip(), field=name)
    limit = max_length(name)
    if len(value) > limit:
        raise InvalidInput(error, N_('"%(name)s" must be at most %(limit)s characters.'),
                           params={"name": name, "limit": limit}, field=name)
    return value


def job_name(value: Any, *, op: Op, job: Job | None = None) -> str:
    """A non-empty name no other job has (names are case-sensitive)."""
    name = text(value, "name")
    if not name:
        raise InvalidInput(N_("Job name cannot be empty"), field="name")
    taken = Job.objects.filter(name=name)
    if job is not None:
        taken = taken.exclude(pk=job.pk)
    if taken.exists():
        raise duplicate_name(name, op=op)
    return name


def duplicate_name(name: str, *, op: Op) -> InvalidInput:
    return InvalidInput("Duplicate job name", DUPLICATE_NAME[op], params={"name": name}, field="name")


def copy_name(name: str) -> str:
    """A free name for a copy of the job ``name``: "name (copy)", else "name (copy 2)", ...
    (within the name's length limit)."""
    limit = max_length("name")
    for number in range(1, 1000):
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        candidate = name[: limit - len(suffix)] + suffix
        if not Job.objects.filter(name=candidate).exists():
            return candidate
    raise InvalidInput("Duplicate job name", "No free name for a copy of this job.", field="name")


def cron_expression(value: Any) -> str:
    expression = text(value, "cron_expression", error="Invalid cron expression")
    try:
        cron.parse(expression)
    except cron.CronError as problem:
        raise InvalidInput("Invalid cron expression", problem.template, params=problem.params,
                           field="cron_expression") from None
    return expression


def job_timezone(value: Any) -> str:
    """An IANA zone; blank means the scheduler's zone."""
    return timezone_name(value, default=settings.SCHEDULER_TIMEZONE)


def end_date(value: Any, *, op: Op, today: dt.date | None = None) -> dt.date:
    """A calendar date (YYYY-MM-DD), today or later in the scheduler's zone."""
    if value is None or value == "" or value is False:
        error, message = END_DATE_MISSING[op]
        raise InvalidInput(error, message, field="end_date")
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        try:
            # fromisoformat alone also reads 20261231 and 2026-W01-1
            if not ISO_DAY.fullmatch(value.strip()):
                raise ValueError
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput("Invalid end_date", BAD_DAY, field="end_date") from None
    else:
        raise InvalidInput("Invalid end_date", BAD_DAY, field="end_date")
    if day < (today or scheduler_today()):
        raise InvalidInput("Invalid end_date", N_("end_date must be today or in the future (JST)."),
                           field="end_date")
    return day


def metadata(value: Any) -> dict:
    """The inputs sent with each run: a JSON object (null → {}) within the JSON limits
    of ``cronhub.values`` (what every database stores and the job list serves)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("Invalid metadata", N_("metadata must be a JSON object"), field="metadata")
    return check_json(value, field="metadata")


def metadata_text(raw: str) -> dict:
    """``metadata`` written as JSON text (a CSV cell)."""
    if not raw:
        return {}
    try:
        value = json_loads(raw, field="metadata")
    except ValueError as exc:
        raise InvalidInput("Invalid JSON in Request Body", str(exc), field="metadata") from None
    if not isinstance(value, dict):
        raise InvalidInput("Invalid Request Body", N_("Request Body must be a JSON object."),
                           field="metadata")
    return value


def notification_emails(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput("Invalid notification_emails", N_("notification_emails must be a list"),
                           field="notification_emails")
    return [item.strip() for item in value if item.strip()]


# --- categories and PIC teams -------------------------------------------------------------

class Resolver:
    """Category and PIC-team references by slug or display name; one query per table
    for a whole request or CSV file."""

    def __init__(self):
        self._categories: list[JobCategory] | None = None
        self._teams: list[PicTeam] = []

    def _load(self) -> None:
        if self._categories is None:
            self._categories = list(JobCategory.objects.all())
            self._teams = list(PicTeam.objects.all())

    @staticmethod
    def _find(rows, value: str):
        slug = slugify(value)
        for row in rows:
            if slug and row.slug == slug:
                return slug, row
        lowered = value.strip().lower()
        for row in rows:
            if row.name.strip().lower() == lowered:
                return row.slug, row
        return slug, None

    def category(self, value: Any) -> str:
        """A category slug; ``general`` when blank. Disabled categories stay assignable
        (existing jobs keep them) and ``general`` is always valid."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return GENERAL
        if not isinstance(value, str):
            raise InvalidInput("Invalid category", CATEGORY_UNKNOWN, field="category")
        self._load()
        slug, found = self._find(self._categories, value)
        if slug == GENERAL:
            return GENERAL
        if found is None:
            raise InvalidInput("Invalid category", CATEGORY_UNKNOWN, field="category")
        return slug

    def pic_team(self, value: Any) -> str:
        """An active PIC team's slug: every job has an owning team."""
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidInput("Invalid PIC team", PIC_REQUIRED, field="pic_team")
        if not isinstance(value, str):
            raise InvalidInput("Invalid PIC team", PIC_UNKNOWN, field="pic_team")
        self._load()
        slug, found = self._find(self._teams, value)
        if found is None:
            raise InvalidInput("Invalid PIC team", PIC_UNKNOWN, field="pic_team")
        if not found.is_active:
            raise InvalidInput("Invalid PIC team", PIC_DISABLED, field="pic_team")
        return slug

    def pic_team_slug_guess(self, value: Any) -> str | None:
        """The slug a raw PIC-team value resolves to (for error reports), or None."""
        if not isinstance(value, str) or not value.strip():
            return None
        self._load()
        return self._find(self._teams, value)[0] or None


def pic_team_value(body: Mapping) -> Any:
    """``pic_team``, or ``pic_team_slug`` when that is empty (older clients send the slug)."""
    value = body.get("pic_team")
    return body.get("pic_team_slug") if value is None or value == "" else value


# --- targets ------------------------------------------------------------------------------

DISPATCH_URL_FORMAT = N_(
    "Invalid dispatch URL format. Expected one of: <owner>/<repo>/<workflow>, "
    "/<owner>/<repo>/actions/workflows/<workflow>, or https://github.com/<owner>/<repo>/actions/workflows/<workflow>."
)


def parse_shorthand(value: str | None) -> tuple[str, str, str] | None:
    """``owner/repo/workflow`` typed where a URL goes (no scheme, no dot in the owner), else None."""
    text = (value or "").strip()
    if "://" in text:
        return None
    segments = [s for s in text.split("/") if s]
    if len(segments) != 3 or "." in segments[0]:
        return None
    owner, repo, workflow = segments
    return owner, repo, workflow


def dispatch_url(value: str, *, error: str = "Invalid dispatch_url", name: str = "dispatch_url"):
    """(owner, repo, workflow) from a workflow's page URL, its API dispatch URL, the path of
    either, or the ``owner/repo/workflow`` shorthand; GitHub Enterprise hosts too."""
    text = (value or "").strip()
    if "://" in text:
        path = urlsplit(text).path
    elif text.startswith("/"):
        path = text
    else:
        path = urlsplit("https://" + text).path
    segments = [s for s in path.split("/") if s]
    if segments[:1] == ["repos"]:
        segments = segments[1:]
    if len(segments) >= 5 and segments[2:4] == ["actions", "workflows"]:
        return segments[0], segments[1], segments[4]
    if "://" not in text:
        parts = [s for s in text.split("/") if s]
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
    raise InvalidInput(error, DISPATCH_URL_FORMAT, field=name)


def github_token(value: str) -> str:
    """A token for one run: it travels in an HTTP header, so printable ASCII only."""
    if not (value.isascii() and value.isprintable()):
        raise InvalidInput("Invalid payload", N_('"github_token" must be printable ASCII text.'),
                           field="github_token")
    return value


def check_scheme(url: str | None, *, op: Op) -> None:
    """A webhook is called over HTTP(S): its URL says so."""
    if url and not url.lower().startswith(("http://", "https://")):
        raise InvalidInput("Invalid target_url", SCHEME_MISSING_BY_OP.get(op, SCHEME_MISSING),
                           field="target_url")


def targets(body: Mapping, *, op: Op) -> dict[str, str | None]:
    """The target fields present in ``body``, trimmed; shorthand in target_url → GitHub fields."""
    values: dict[str, str | None] = {}
    for key in TARGET_FIELDS:
        if key in body:
            values[key] = text(body.get(key), key) or None
    shorthand = parse_shorthand(values.get("target_url"))
    if shorthand is not None:
        values.update(zip(GITHUB_FIELDS, shorthand, strict=True))
        values["target_url"] = None
    check_scheme(values.get("target_url"), op=op)
    return values


def complete_targets(values: dict[str, str | None], *, op: Op, default_owner: str | None = None) -> None:
    """A webhook URL or all three GitHub fields; the owner defaults (``DEFAULT_GITHUB_OWNER``)
    when a repository and workflow are given without one. Completes ``values`` in place."""
    if values.get("target_url"):
        return
    if values.get("github_repo") and values.get("github_workflow_name") and not values.get("github_owner"):
        values["github_owner"] = default_owner or settings.DEFAULT_GITHUB_OWNER or None
    if not all(values.get(key) for key in GITHUB_FIELDS):
        raise InvalidInput("Missing target configuration", TARGET_MISSING[op])


# --- how a run is sent ----------------------------------------------------------------------

MASK = "****"  # what reads show for a secret; sent back, it keeps the stored secret
MAX_ATTEMPTS_RANGE = (1, 10)
RETRY_BACKOFF_RANGE = (1, 3600)
TIMEOUT_RANGE = (1, 300)
WEBHOOK_HEADERS_MAX = 30
WEBHOOK_HEADER_VALUE_MAX = 4096
# Headers a job may not set: the connection's own (hop-by-hop, framing, routing) and cronhub's.
RESERVED_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer",
    "upgrade", "proxy-authorization", "proxy-authenticate", "proxy-connection", "expect",
    "idempotency-key",
})
RESERVED_HEADER_PREFIX = "x-cronhub-"
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", re.ASCII)


def bounded_int(name: str, low: int, high: int) -> Callable[[Any], int]:
    """A rule for a whole number within [low, high] (a JSON number or its text, as a CSV cell has it)."""
    message = f'"{name}" must be a whole number from {low} to {high}.'

    def clean(value: Any) -> int:
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            value = int(value.strip())
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"Invalid {name}", message, field=name)
        return value

    clean.__doc__ = f"A whole number from {low} to {high}."
    return clean


def choice(name: str, choices: tuple[str, ...], *, default: str | None = None,
           upper: bool = False) -> Callable[[Any], str]:
    """A rule for one of ``choices`` (blank → ``default`` when there is one)."""
    shown = ", ".join(c for c in choices if c)

    def clean(value: Any) -> str:
        if default is not None and (value is None or (isinstance(value, str) and not value.strip())):
            return default
        if isinstance(value, str):
            word = value.strip().upper() if upper else value.strip().lower()
            if word in choices:
                return word
        raise InvalidInput(f"Invalid {name}", f'"{name}" must be one of: {shown}.', field=name)

    return clean


def webhook_headers(value: Any) -> dict[str, str]:
    """Extra headers of a webhook call: a JSON object (or its text) of names to text values.

    Names are HTTP tokens; values printable text without line breaks. Refused: the
    connection's own headers (Host, Content-Length, Connection, …), Idempotency-Key
    and every X-Cronhub-* header, which cronhub sets itself.
    """
    name = "webhook_headers"
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json_loads(value, field=name)
        except ValueError as exc:
            raise InvalidInput(f"Invalid {name}", f'"{name}" is not valid JSON: {exc}', field=name) from None
    if not isinstance(value, dict):
        raise InvalidInput(f"Invalid {name}", f'"{name}" must be a JSON object of header names to values.',
                           field=name)
    if len(value) > WEBHOOK_HEADERS_MAX:
        raise InvalidInput(f"Invalid {name}", f'"{name}" may hold at most {WEBHOOK_HEADERS_MAX} headers.',
                           field=name)
    headers: dict[str, str] = {}
    seen: set[str] = set()
    for key, item in value.items():
        header = str(key).strip()
        if not HEADER_NAME.fullmatch(header) or len(header) > 100:
            raise InvalidInput(f"Invalid {name}", f'"{header}" is not a valid header name.', field=name)
        lowered = header.lower()
        if lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_HEADER_PREFIX):
            raise InvalidInput(f"Invalid {name}", f'"{header}" is set by cronhub or the connection and '
                               "cannot be configured.", field=name)
        if lowered in seen:
            raise InvalidInput(f"Invalid {name}", f'"{header}" is given twice.', field=name)
        seen.add(lowered)
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise InvalidInput(f"Invalid {name}", f'The value of "{header}" must be text.', field=name)
        text_value = str(item).strip()
        if (len(text_value) > WEBHOOK_HEADER_VALUE_MAX or not text_value.isprintable()
                or not all(ord(c) < 256 for c in text_value)):
            raise InvalidInput(f"Invalid {name}", f'The value of "{header}" must be printable Latin-1 text '
                               f"of at most {WEBHOOK_HEADER_VALUE_MAX} characters, on one line.", field=name)
        headers[header] = text_value
    return headers


def webhook_signing_secret(value: Any) -> str:
    """The signing secret: printable text (blank: unsigned calls)."""
    name = "webhook_signing_secret"
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"Invalid {name}", f'"{name}" must be a string.', field=name)
    secret = value.strip()
    if not secret.isprintable() or len(secret) > max_length(name):
        raise InvalidInput(f"Invalid {name}", f'"{name}" must be printable text of at most '
                           f"{max_length(name)} characters.", field=name)
    return secret


def masked(name: str, value: Any) -> Any:
    """A secret field as reads show it: header names with masked values; the mask for a set secret."""
    if name == "webhook_headers":
        return dict.fromkeys(value or {}, MASK)
    return MASK if value else ""


def unmask(name: str, value: Any, stored: Any, *, field_name: str | None = None) -> Any:
    """A secret field's new value: the mask sent back (as a read showed it) keeps the stored value."""
    if name == "webhook_headers":
        kept = {key.lower(): item for key, item in (stored or {}).items()}
        result = {}
        for key, item in value.items():
            if item == MASK:
                if key.lower() not in kept:
                    raise InvalidInput("Invalid webhook_headers", f'The value of "{key}" is masked but no '
                                       "value is stored for it: send the value itself.", field=name)
                item = kept[key.lower()]
            result[key] = item
        return result
    if value == MASK:
        if stored:
            return stored
        raise InvalidInput(f"Invalid {name}", f'"{name}" looks masked; send the secret itself.', field=name)
    return value


# --- fields declared once ------------------------------------------------------------------

@dataclass(frozen=True)
class JobField:
    """A job field the API, the CSV import and the admin handle the same way.

    ``clean`` is its rule (a loose value → the model value). ``csv_headers`` are the
    column names the import accepts (lower case), ``section`` the admin fieldset.
    """

    name: str
    clean: Callable[[Any], Any]
    section: str
    csv_headers: tuple[str, ...] = ()
    # A secret: reads show it masked (``masked``), and the mask sent back keeps it (``unmask``).
    secret: bool = False


def _headers(*words: str) -> tuple[str, ...]:
    spaced = " ".join(words)
    return (spaced, "_".join(words))


FIELDS: tuple[JobField, ...] = (
    JobField("timezone", job_timezone, section="Schedule",
             csv_headers=("timezone", "time zone", "time_zone")),
    JobField("overlap_policy", choice("overlap_policy", tuple(OverlapPolicy.values)), section="Delivery",
             csv_headers=_headers("overlap", "policy")),
    JobField("max_attempts", bounded_int("max_attempts", *MAX_ATTEMPTS_RANGE), section="Delivery",
             csv_headers=_headers("max", "attempts")),
    JobField("retry_backoff_seconds", bounded_int("retry_backoff_seconds", *RETRY_BACKOFF_RANGE),
             section="Delivery", csv_headers=_headers("retry", "backoff", "seconds")),
    JobField("timeout_seconds", bounded_int("timeout_seconds", *TIMEOUT_RANGE), section="Delivery",
             csv_headers=_headers("timeout", "seconds")),
    JobField("webhook_method", choice("webhook_method", ("", *WebhookMethod.values), default="", upper=True),
             section="Delivery", csv_headers=_headers("webhook", "method")),
    JobField("webhook_headers", webhook_headers, section="Delivery",
             csv_headers=_headers("webhook", "headers"), secret=True),
    JobField("webhook_signing_secret", webhook_signing_secret, section="Delivery",
             csv_headers=_headers("webhook", "signing", "secret"), secret=True),
)
SECRET_FIELDS = tuple(f.name for f in FIELDS if f.secret)


def declared(body: Mapping, *, job: Job | None = None) -> dict[str, Any]:
    """The values of :data:`FIELDS` present in ``body``, each through its rule; a secret sent
    back masked keeps ``job``'s stored value (refused on create, where nothing is stored)."""
    values = {f.name: f.clean(body[f.name]) for f in FIELDS if f.name in body}
    for name in SECRET_FIELDS:
        if name in values:
            values[name] = unmask(name, values[name], getattr(job, name, None) if job is not None else None)
    return values


# --- whole requests ---------------------------------------------------------------------------

@dataclass
class Checks:
    """What one request or file is checked against."""

    resolver: Resolver = field(default_factory=Resolver)
    today: dt.date = field(default_factory=scheduler_today)


def clean_create(body: Mapping, *, checks: Checks | None = None) -> dict[str, Any]:
    """A new job's field values from a request body, checked in this order (first failure wins)."""
    checks = checks or Checks()
    missing = [key for key in REQUIRED_ON_CREATE if key not in body]
    if missing:
        raise InvalidInput("Missing required fields", missing_fields=missing)
    op = Op.CREATE
    data: dict[str, Any] = {
        "name": job_name(body.get("name"), op=op),
        "cron_expression": cron_expression(body.get("cron_expression")),
    }
    target = targets(body, op=op)
    data["category"] = checks.resolver.category(body.get("category"))
    data["metadata"] = metadata(body.get("metadata")) or None
    notify = truthy(body.get("enable_email_notifications"))
    data["notification_emails"] = notification_emails(body.get("notification_emails", [])) if notify else []
    data["end_date"] = end_date(body.get("end_date"), op=op, today=checks.today)
    data["pic_team"] = checks.resolver.pic_team(pic_team_value(body))
    complete_targets(target, op=op)
    data.update({key: target.get(key) for key in TARGET_FIELDS})
    data["enable_email_notifications"] = notify
    data["notify_on_success"] = notify and truthy(body.get("notify_on_success"))
    data.update(declared(body))
    return data


def clean_update(job: Job, body: Mapping, *, checks: Checks | None = None) -> dict[str, Any]:
    """The fields that change (a partial update), checked against the job as it will be."""
    checks = checks or Checks()
    op = Op.UPDATE
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = job_name(body["name"], op=op, job=job)
    if "cron_expression" in body:
        changes["cron_expression"] = cron_expression(body["cron_expression"])
    changes.update(targets(body, op=op))
    if "metadata" in body:
        changes["metadata"] = metadata(body["metadata"]) or None
    if "category" in body:
        changes["category"] = checks.resolver.category(body["category"])
    if "end_date" in body:
        changes["end_date"] = end_date(body["end_date"], op=op, today=checks.today)
    if "pic_team" in body or "pic_team_slug" in body:
        changes["pic_team"] = checks.resolver.pic_team(pic_team_value(body))
    notify = job.enable_email_notifications
    if "enable_email_notifications" in body:
        notify = changes["enable_email_notifications"] = truthy(body["enable_email_notifications"])
        if not notify:
            changes["notification_emails"] = []
            changes["notify_on_success"] = False
    if "notification_emails" in body:
        value = body["notification_emails"]
        emails = notification_emails([] if value is None else value)
        changes["notification_emails"] = emails if notify else []
    if "notify_on_success" in body:
        changes["notify_on_success"] = notify and truthy(body["notify_on_success"])
    if "is_active" in body:
        changes["is_active"] = truthy(body["is_active"])
    active = changes.get("is_active", job.is_active)
    last_day = changes.get("end_date", job.end_date)
    if active and last_day is not None and last_day < checks.today:
        raise InvalidInput("Job expired", N_("Job cannot be enabled after end_date has passed. "
                                             "Update end_date first."), field="is_active")
    after = {key: changes.get(key, getattr(job, key)) for key in TARGET_FIELDS}
    complete_targets(after, op=op)
    if after["github_owner"] != (changes.get("github_owner", job.github_owner)):
        changes["github_owner"] = after["github_owner"]
    changes.update(declared(body, job=job))
    return changes
