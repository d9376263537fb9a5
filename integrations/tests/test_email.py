"""E-mail through Django's SMTP backend to a real (local aiosmtpd) server."""

from integrations.email import clean_recipients, email_send


class _Job:
    id = "d4a1f0c2-6b3e-4c8a-9f12-5e7b0a9c3d21"
    name = 'Nightly <API> & "more"'


def test_a_mail_has_text_and_html_bodies_and_all_recipients_in_to(smtp_server, settings):
    settings.DEFAULT_FROM_EMAIL = "cronhub@example.com"

    assert email_send(to=["b@example.com", "a@example.com"], subject="Job Failure: Nightly",
                      template="job_failed", context={"job": _Job(), "error": "Status: 500 <html>"}) is True

    [message] = smtp_server.messages
    assert message["To"] == "a@example.com, b@example.com"
    assert smtp_server.envelopes[0].mail_from == "cronhub@example.com"
    text = message.get_body(("plain",)).get_content()
    assert 'Job Name: Nightly <API> & "more"' in text  # plain text is not HTML-escaped
    assert "Error: Status: 500 <html>" in text
    html = message.get_body(("html",)).get_content()
    assert "Nightly &lt;API&gt; &amp;" in html and "<code>Status: 500 &lt;html&gt;</code>" in html


def test_nothing_is_sent_without_recipients_or_with_mail_disabled(smtp_server, settings):
    context = {"job": _Job(), "error": "x"}
    assert email_send(to=[" ", ""], subject="s", template="job_failed", context=context) is False
    settings.MAIL_ENABLED = False
    assert email_send(to=["a@example.com"], subject="s", template="job_failed", context=context) is False

    assert smtp_server.messages == []


def test_recipients_are_trimmed_deduplicated_and_sorted():
    assert clean_recipients([" b@x.com", "a@x.com", "", "b@x.com "]) == ["a@x.com", "b@x.com"]
