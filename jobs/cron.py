"""Cron for cronhub: classic (Debian) crontab expressions, checked strictly, expanded from
macros, described in English; every fire time comes from cronsim.

cronsim follows Debian's Vixie cron where other libraries do not: the day-of-month and
day-of-week fields are ORed unless one starts with "*", 0 and 7 are both Sunday, and DST
gaps and repeated hours are handled as cron handles them. What it does not do lives here:
refusing what classic cron would not read (cronsim also accepts seconds, L, W, # and
"5/10"), the macros, and "next" meaning strictly after an instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError
from django.utils import translation

from cronhub.errors import N_

__all__ = [
    "FIELD_COUNT_MESSAGE", "MACROS", "MAX_EXPRESSION_LENGTH", "REQUIRED_MESSAGE",
    "CronError", "CronSchedule", "parse", "validate",
]

MAX_EXPRESSION_LENGTH = 256

REQUIRED_MESSAGE = N_("Cron expression is required.")
FIELD_COUNT_MESSAGE = N_("Cron expression must have exactly 5 fields (minute hour day month day-of-week).")

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTH_LABELS = ("January", "February", "March", "April", "May", "June", "July", "August",
                 "September", "October", "November", "December")
_DOW_LABELS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_FULL_MONTH_NAMES = {label.lower(): name for label, name in zip(_MONTH_LABELS, _MONTH_NAMES, strict=True)}
_FULL_DOW_NAMES = {label.lower(): name for label, name in zip(_DOW_LABELS, _DOW_NAMES, strict=True)}

QUARTZ = N_('"%(token)s" in the %(field)s field is Quartz syntax (L, W, #, ?), which classic cron does not '
           "support.")
_FIELD_CHARS = frozenset("0123456789*,-/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
# parse() builds a CronSim once to expand the fields and run cronsim's own never-fires check.
_REFERENCE_START = datetime(2000, 1, 1)


class CronError(ValueError):
    """Human-readable, field-specific message in str(exc) (English); ``template`` and ``params``
    give the same text from the translation catalogue (``cronhub.errors.CronhubError.localized``)."""

    def __init__(self, template: str, **params):
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)

    def localized(self) -> str:
        """The message in the active language (the admin's live help); ``str()`` stays English."""
        text = translation.gettext(self.template)
        return text % self.params if self.params else text


class _Field:
    __slots__ = ("name", "low", "high", "names", "full_names")

    def __init__(self, name: str, low: int, high: int, names=(), full_names=None):
        self.name = name
        self.low = low
        self.high = high
        self.names = {n: i + (1 if name == "month" else 0) for i, n in enumerate(names)}
        self.full_names = full_names or {}


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTH_NAMES, _FULL_MONTH_NAMES),
    _Field("day-of-week", 0, 7, _DOW_NAMES, _FULL_DOW_NAMES),
)


def _is_quartz(token: str) -> bool:
    upper = token.upper()
    if upper in ("L", "W", "LW"):
        return True
    return len(upper) > 1 and upper[-1] in "LW" and set(upper[:-1]) <= _DIGITS


def _value(token: str, field: _Field, item: str) -> int:
    if token and set(token) <= _DIGITS:
        value = int(token)
    elif token.lower() in field.names:
        value = field.names[token.lower()]
    elif not token:
        raise CronError(N_('Invalid entry "%(item)s" in the %(field)s field: a value is missing.'),
                        item=item, field=field.name)
    elif _is_quartz(token):
        raise CronError(QUARTZ, token=token, field=field.name)
    elif token.lower() in field.full_names:
        short = field.full_names[token.lower()]
        raise CronError(N_('Invalid %(field)s name "%(token)s": use three-letter names such as "%(short)s".'),
                        field=field.name, token=token, short=short)
    elif field.names:
        first, last = next(iter(field.names)), list(field.names)[-1]
        raise CronError(N_('Invalid %(field)s name "%(token)s": use %(first)s-%(last)s or numbers '
                           '%(low)s-%(high)s.'),
                        field=field.name, token=token, first=first, last=last, low=field.low, high=field.high)
    else:
        raise CronError(N_('Invalid value "%(token)s" in the %(field)s field: use numbers %(low)s-%(high)s.'),
                        token=token, field=field.name, low=field.low, high=field.high)
    if not field.low <= value <= field.high:
        raise CronError(N_("Value %(token)s is out of range in the %(field)s field: allowed values are "
                           "%(low)s-%(high)s."),
                        token=token, field=field.name, low=field.low, high=field.high)
    return value


def _check_field(text: str, field: _Field) -> str:
    """Refuse, with a message naming the field, what classic cron would not read (cronsim is laxer);
    return the field as cronsim should read it."""
    for ch in text:
        if ch not in _FIELD_CHARS:
            if ch in "?#":
                raise CronError(QUARTZ, token=ch, field=field.name)
            raise CronError(N_('Invalid character "%(char)s" in the %(field)s field.'),
                            char=ch, field=field.name)
    items = []
    for item in text.split(","):
        if not item:
            raise CronError(N_('Empty list entry in the %(field)s field ("%(text)s").'),
                            field=field.name, text=text)
        base, slash, step_text = item.partition("/")
        if "/" in step_text:
            raise CronError(N_('Invalid entry "%(item)s" in the %(field)s field: only one "/" is allowed.'),
                            item=item, field=field.name)
        if slash:
            if not step_text or not set(step_text) <= _DIGITS:
                raise CronError(N_('Invalid step "%(step)s" in the %(field)s field: a step must be a '
                                   "number."),
                                step=step_text, field=field.name)
            if int(step_text) == 0:
                raise CronError(N_('Step 0 in the %(field)s field ("%(item)s"): a step must be 1 or more.'),
                                field=field.name, item=item)
        if base == "*":
            items.append(item)
            continue
        if "*" in base:
            raise CronError(N_('Invalid entry "%(item)s" in the %(field)s field: "*" stands alone or takes a '
                               'step, e.g. "*/5".'), item=item, field=field.name)
        if "-" in base:
            start_text, _, end_text = base.partition("-")
            if "-" in end_text:
                raise CronError(N_('Invalid range "%(range)s" in the %(field)s field.'), range=base,
                                field=field.name)
            if _value(start_text, field, item) > _value(end_text, field, item):
                raise CronError(N_('Reversed range "%(range)s" in the %(field)s field: the start must not be '
                                   "after the end (cron ranges do not wrap)."), range=base, field=field.name)
            if slash and _value(start_text, field, item) == _value(end_text, field, item):
                # Cron reads "5-5/2" as just 5; cronsim would read it as "5/2" (5 to the maximum).
                item = start_text
        else:
            _value(base, field, item)
            if slash:
                # Vixie cron only steps through "*" or a range; "5/10" is a cronsim/Quartz extension.
                raise CronError(N_('Invalid step "%(item)s" in the %(field)s field: a step needs "*" or a '
                                   'range, e.g. "*/%(step)s" or "%(base)s-%(high)s/%(step)s".'),
                                item=item, field=field.name, step=step_text, base=base, high=field.high)
        items.append(item)
    return ",".join(items)


def _clean(expression: str) -> str:
    if not expression.strip():
        raise CronError(REQUIRED_MESSAGE)
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise CronError(N_("Cron expression is too long (%(length)s characters; the maximum is %(max)s)."),
                        length=len(expression), max=MAX_EXPRESSION_LENGTH)
    for ch in expression:
        code = ord(ch)
        if code < 32 or code == 127:
            if ch in "\r\n":
                raise CronError(N_("Cron expression contains a line break (U+%(code)s); write it on one "
                                   "line."),
                                code=f"{code:04X}")
            raise CronError(N_("Cron expression contains a control character (U+%(code)s); write it on one "
                               "line."), code=f"{code:04X}")
        if code > 127:
            template = (N_('Cron expression contains the non-ASCII digit "%(char)s" (U+%(code)s); use plain '
                           "ASCII digits, names and symbols.") if ch.isdigit() else
                        N_('Cron expression contains the non-ASCII character "%(char)s" (U+%(code)s); use '
                           "plain ASCII digits, names and symbols."))
            raise CronError(template, char=ch, code=f"{code:04X}")
    # Only plain spaces are trimmed: tabs and newlines were refused above as control characters.
    return expression.strip(" ")


def parse(expression: str) -> CronSchedule:
    """Validate a crontab expression and return its schedule; raise CronError otherwise."""
    if not isinstance(expression, str):
        raise CronError(REQUIRED_MESSAGE if expression is None else N_("Cron expression must be a string."))
    return _parse(expression)


@lru_cache(maxsize=4096)
def _parse(expression: str) -> CronSchedule:
    trimmed = _clean(expression)
    if trimmed.startswith("@"):
        head = trimmed.split()[0]
        if trimmed in MACROS:
            fields = MACROS[trimmed]
        elif head == "@reboot":
            raise CronError(N_("@reboot is not supported: cronhub runs jobs on a schedule, not at start-up."))
        else:
            raise CronError(N_('Unknown macro "%(macro)s": use @hourly, @daily, @midnight, @weekly, '
                               "@monthly, @yearly or @annually (lower case, on their own)."), macro=head)
    else:
        fields = trimmed
    parts = fields.split()
    if len(parts) != 5:
        raise CronError(FIELD_COUNT_MESSAGE)
    spec = " ".join(_check_field(text, field) for text, field in zip(parts, _FIELDS, strict=True))
    try:
        sim = CronSim(spec, _REFERENCE_START)
    except CronSimError:
        # After the checks above, the one thing cronsim still refuses is a day of month that no
        # month of the month field has, when both day fields must match.
        raise CronError(N_('Cron expression can never fire: the day-of-month field "%(days)s" names no day '
                           'that exists in the month field "%(months)s".'),
                        days=parts[2], months=parts[3]) from None
    return CronSchedule(expression=trimmed, fields=" ".join(parts), spec=spec, sim=sim)


def validate(expression: object) -> str | None:
    """Return None when the expression is valid, else the message explaining why not."""
    try:
        parse(expression)
    except CronError as exc:
        return str(exc)
    return None


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


class CronSchedule:
    """A validated schedule; immutable because parse() shares instances through its cache."""

    __slots__ = ("expression", "fields", "is_fixed_time", "minutes", "hours", "days", "months",
                 "weekdays", "day_and", "_spec", "_minute_list", "_hour_list")

    def __init__(self, *, expression: str, fields: str, spec: str, sim: CronSim):
        self.expression = expression
        self.fields = fields
        self._spec = spec
        # The values each field matches, as cronsim expanded them (for describe()).
        self.minutes = frozenset(sim.minutes)
        self.hours = frozenset(sim.hours)
        self.days = frozenset(sim.days)
        self.months = frozenset(sim.months)
        self.weekdays = frozenset(day % 7 for day in sim.weekdays)  # 7 is Sunday too
        # Debian cron: a day-of-month or day-of-week field starting with "*" makes the two ANDed.
        self.day_and = sim.day_and
        # Debian cron (and cronsim) give jobs whose minute and hour fields do not start with "*"
        # the DST treatment of fixed-time jobs.
        minute, hour = fields.split()[:2]
        self.is_fixed_time = not (minute.startswith("*") or hour.startswith("*"))
        self._minute_list = tuple(sorted(self.minutes))
        self._hour_list = tuple(sorted(self.hours))

    def __repr__(self) -> str:
        return f"CronSchedule({self.expression!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, CronSchedule) and other.expression == self.expression

    def __hash__(self) -> int:
        return hash(self.expression)

    def next_fire_times(self, tz: str | tzinfo, start: datetime, count: int) -> list[datetime]:
        """Up to `count` fire times strictly after `start`, aware in `tz`, in increasing instant order.

        cronsim walks the zone's wall clock like Debian cron: in a spring-forward gap a fixed-time
        job runs once right after the jump and a wildcard job has no runs; in a repeated hour a
        fixed-time job runs once (first pass) and a wildcard job in both passes. (cronsim steps
        hours through UTC, so on the day Lord Howe's clock moves by half an hour an every-minute
        job's next matching hour can start at :30.)
        """
        if count <= 0:
            return []
        result: list[datetime] = []
        for fire in self._fire_times(tz, start):
            result.append(fire)
            if len(result) == count:
                break
        return result

    def fire_times_between(self, tz: str | tzinfo, start: datetime, end: datetime, *,
                           limit: int | None = None) -> list[datetime]:
        """Fire times in ``(start, end]``, aware in `tz`, oldest first (at most `limit`): one walk
        of the cron engine however many there are."""
        if end.tzinfo is None:
            end = end.replace(tzinfo=UTC)
        result: list[datetime] = []
        for fire in self._fire_times(tz, start):
            if fire > end or (limit is not None and len(result) >= limit):
                break
            result.append(fire)
        return result

    def _fire_times(self, tz: str | tzinfo, start: datetime):
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        # Compare instants, never wall times: aware datetimes sharing a tzinfo compare by wall clock
        # and ignore fold. cronsim walks fixed-time jobs on the naive wall clock, so from a start in
        # the second pass of a repeated hour its first answer can be a first-pass time already gone.
        last = start.astimezone(UTC)
        zone = _zone(tz)
        try:
            for fire in CronSim(self._spec, start.astimezone(zone)):
                instant = fire.astimezone(UTC)
                if instant > last:
                    # Back from the instant: where a zone skips midnight (Santiago), cronsim can name
                    # the first minute after the jump by the wall time that does not exist.
                    yield instant.astimezone(zone)
                    last = instant
        except OverflowError:
            # Fire times past year 9999 cannot be represented; return what fits.
            return

    def next_fire_time(self, tz: str | tzinfo, start: datetime) -> datetime | None:
        """The first fire time strictly after `start`, or None if the schedule never fires again."""
        times = self.next_fire_times(tz, start, 1)
        return times[0] if times else None

    def describe(self, language: str | None = None) -> str:
        """A human-readable summary in ``language`` (default: the active one; the API is always
        English): "At 09:00 on Monday through Friday", 「平日 09:00」."""
        language = language or translation.get_language() or "en"
        try:
            return self._describe_ja() if language.startswith("ja") else self._describe()
        except Exception:
            # A description is a convenience; never let a phrasing bug break a page that lists jobs.
            return f"Cron schedule {self.fields}"

    def _describe_ja(self) -> str:
        """The Japanese summary: days first, then the time (「平日 10:00」, 「毎月1日と毎週月曜日 09:00」);
        the same OR / AND reading of the two day fields as :meth:`_describe`."""
        when, wants_every_day = _ja_time(self._minute_list, self._hour_list)
        days = self._ja_days()
        months = ""
        if days is None:
            days = f"{min(self.months)}月{min(self.days)}日"
        elif len(self.months) < 12:
            months = "・".join(_runs(sorted(self.months), lambda m: f"{m}月", through="〜"))
        if not days and wants_every_day:
            days = "毎日"
        head = f"{months}の{days}" if months and days else months or days
        return " ".join(part for part in (head, when) if part)

    def _ja_days(self) -> str | None:
        all_days = len(self.days) == 31
        all_weekdays = len(self.weekdays) == 7
        weekdays = _ja_weekdays(self.weekdays)
        days = sorted(self.days)
        if self.day_and:
            if all_days:
                return "" if all_weekdays else weekdays
            if all_weekdays and len(days) == 1 and len(self.months) == 1:
                return None
            month_days = _ja_month_days(days, monthly=len(self.months) == 12)
            if all_weekdays:
                return month_days
            return f"{month_days}のうち{_ja_weekdays(self.weekdays, weekly=False)}に当たる日"
        if all_days or all_weekdays:
            return ""
        return f"{_ja_month_days(days, monthly=len(self.months) == 12)}と{weekdays}"

    def _describe(self) -> str:
        when, wants_every_day = _describe_time(self._minute_list, self._hour_list)
        days = self._describe_days()
        months = ""
        if days is None:
            days = f"on {_MONTH_LABELS[min(self.months) - 1]} {min(self.days)}"
        elif len(self.months) < 12:
            months = "in " + _join(_runs(sorted(self.months), lambda m: _MONTH_LABELS[m - 1]))
        if not days and wants_every_day:
            days = "every day"
        text = " ".join(part for part in (when, days, months) if part)
        return text[0].upper() + text[1:]

    def _describe_days(self) -> str | None:
        """Day phrase; None asks for a calendar date ("on February 29") built by the caller."""
        all_days = len(self.days) == 31
        all_weekdays = len(self.weekdays) == 7
        # Monday first, so that "5-7" reads "Friday through Sunday".
        weekdays = _runs(sorted(self.weekdays, key=lambda d: (d + 6) % 7), _DOW_LABELS.__getitem__)
        days = sorted(self.days)
        if self.day_and:
            if all_days:
                return "" if all_weekdays else f"on {_join(weekdays)}"
            if all_weekdays and len(days) == 1 and len(self.months) == 1:
                return None
            month_days = _day_phrase(days)
            return month_days if all_weekdays else f"{month_days} if it falls on {_join(weekdays, 'or')}"
        if all_days or all_weekdays:
            return ""
        if _long_progression(days):
            return f"{_day_phrase(days)} or on {_join(weekdays)}"
        return f"on the {_join(_runs(days, _ordinal))} or on {_join(weekdays)}"


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _join(items: list[str], conjunction: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _runs(values: list[int], label, *, through: str = " through ") -> list[str]:
    """Labels for sorted values, with runs of three or more consecutive ones as "a through b"."""
    out: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and _next_in_run(values[j], values[j + 1]):
            j += 1
        if j - i >= 2:
            out.append(f"{label(values[i])}{through}{label(values[j])}")
        else:
            out.extend(label(v) for v in values[i:j + 1])
        i = j + 1
    return out


def _next_in_run(a: int, b: int) -> bool:
    # Saturday (6) runs on into Sunday (0) in the Monday-first weekday order.
    return b == a + 1 or (a == 6 and b == 0)


def _progression(values: tuple[int, ...] | list[int]) -> int | None:
    """The common step when values form an arithmetic progression of at least three terms."""
    if len(values) < 3:
        return None
    step = values[1] - values[0]
    if all(b - a == step for a, b in zip(values, values[1:], strict=False)):
        return step
    return None


def _long_progression(values) -> int | None:
    """The step of an evenly spaced run long enough that listing its values would not read well."""
    step = _progression(values)
    return step if step and step > 1 and len(values) > 4 else None


def _number_phrase(values, unit: str) -> str:
    if step := _long_progression(values):
        return f"every {_ordinal(step)} {unit} from {values[0]} through {values[-1]}"
    plural = unit + ("s" if len(values) > 1 else "")
    return f"{plural} {_join(_runs(list(values), str))}"


def _day_phrase(days: list[int]) -> str:
    if step := _long_progression(days):
        start = "" if days[0] == 1 else f" from the {_ordinal(days[0])}"
        return f"on every {_ordinal(step)} day of the month{start}"
    plural = "days" if len(days) > 1 else "day"
    return f"on {plural} {_join(_runs(days, str))} of the month"


def _cycle(values: tuple[int, ...], size: int) -> int | None:
    """n when values are exactly 0, n, 2n, ... through the whole cycle (what "*/n" gives), n > 1."""
    if len(values) < 2 or values[0] != 0:
        return None
    step = values[1]
    return step if step > 1 and values == tuple(range(0, size, step)) else None


def _describe_time(minutes: tuple[int, ...], hours: tuple[int, ...]) -> tuple[str, bool]:
    """Phrase for the time of day, and whether "every day" reads well after it."""
    if len(minutes) * len(hours) <= 4:
        return "at " + _join([f"{h:02d}:{m:02d}" for h in hours for m in minutes]), True
    all_hours = len(hours) == 24
    minute_cycle, hour_cycle = _cycle(minutes, 60), _cycle(hours, 24)
    if minutes == (0,):
        if all_hours:
            return "every hour", False
        # "*/5" hours are 0, 5, ... 20: only a divisor of 24 keeps the gaps even across midnight.
        if hour_cycle and 24 % hour_cycle == 0:
            return f"every {hour_cycle} hours", False
    if len(minutes) == 60:
        head, preposition = "every minute", "during"
    elif minute_cycle and 60 % minute_cycle == 0:
        head, preposition = f"every {minute_cycle} minutes", "during"
    else:
        head, preposition = "at " + _number_phrase(minutes, "minute"), "past"
    if all_hours:
        return (head if preposition == "during" else f"{head} past every hour"), False
    if preposition == "during" and hours[-1] - hours[0] == len(hours) - 1:
        return f"{head} from {hours[0]:02d}:00 through {hours[-1]:02d}:59", False
    if hour_cycle and len(hours) > 2:
        return f"{head} {preposition} every {_ordinal(hour_cycle)} hour", False
    return f"{head} {preposition} {_number_phrase(hours, 'hour')}", False


# --- Japanese ----------------------------------------------------------------------------------
_JA_DOW = ("日", "月", "火", "水", "木", "金", "土")


def _ja_weekdays(weekdays: frozenset[int], *, weekly: bool = True) -> str:
    if weekdays == {1, 2, 3, 4, 5}:
        return "平日"
    if weekdays == {0, 6}:
        return "土日"
    ordered = sorted(weekdays, key=lambda d: (d + 6) % 7)  # Monday first
    names = "・".join(_runs(ordered, _JA_DOW.__getitem__, through="〜")) + "曜日"
    return f"毎週{names}" if weekly else names


def _ja_month_days(days: list[int], *, monthly: bool = True) -> str:
    every = "毎月" if monthly else ""
    if step := _long_progression(days):
        return f"{every}{days[0]}日から{step}日ごと"
    return every + "・".join(_runs(days, str, through="〜")) + "日"


def _ja_numbers(values, unit: str) -> str:
    if step := _long_progression(values):
        return f"{values[0]}{unit}から{values[-1]}{unit}まで{step}{unit}ごと"
    return "・".join(_runs(list(values), str, through="〜")) + unit


def _ja_time(minutes: tuple[int, ...], hours: tuple[int, ...]) -> tuple[str, bool]:
    """The time of day in Japanese, and whether 「毎日」 reads well before it."""
    if len(minutes) * len(hours) <= 4:
        return "、".join(f"{h:02d}:{m:02d}" for h in hours for m in minutes), True
    all_hours = len(hours) == 24
    minute_cycle, hour_cycle = _cycle(minutes, 60), _cycle(hours, 24)
    if minutes == (0,):
        if all_hours:
            return "毎時0分", False
        if hour_cycle and 24 % hour_cycle == 0:
            return f"{hour_cycle}時間ごと", False
    if len(minutes) == 60:
        head, during = "毎分", True
    elif minute_cycle and 60 % minute_cycle == 0:
        head, during = f"{minute_cycle}分ごと", True
    else:
        head, during = _ja_numbers(minutes, "分"), False
    if all_hours:
        return (head if during else f"毎時{head}"), False
    if during and hours[-1] - hours[0] == len(hours) - 1:
        return f"{hours[0]:02d}:00〜{hours[-1]:02d}:59の{head}", False
    if hour_cycle and len(hours) > 2:
        return f"{hour_cycle}時間ごとの各時{'台に' if during else 'の'}{head}", False
    return f"{_ja_numbers(hours, '時')}{'台に' if during else 'の'}{head}", False
