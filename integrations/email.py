"""E-mail through Django's mail framework (``EMAIL_*`` settings, mapped from MAIL_*/SMTP_*).

One message per event with every recipient in ``To:`` (as the old service sent it), a text body
and an HTML alternative rendered from ``templates/emails/<name>.txt|.html``.
``MAIL_ENABLED=false`` switches sending off; failures are logged, never raised.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

log = logging.getLogger(__name__)


def clean_recipients(addresses) -> list[str]:
    """Trimmed, blanks dropped, de-duplicated, sorted."""
    return sorted({str(a).strip() for a in addresses or [] if str(a).strip()})


def email_send(*, to, subject: str, template: str, context: dict) -> bool:
    """Send ``emails/<template>`` to ``to``; True when the backend accepted it."""
    recipients = clean_recipients(to)
    if not recipients or not settings.MAIL_ENABLED or not settings.DEFAULT_FROM_EMAIL:
        return False
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL,
                                     to=recipients)
    message.attach_alternative(html, "text/html")
    try:
        return message.send() == 1
    except Exception as exc:  # SMTP, DNS, TLS... mail must never break a run
        log.warning("E-mail %r to %s not sent: %s", subject, ", ".join(recipients), exc)
        return False
