"""``manage.py makemessages`` that also collects ``N_("...")``: the English texts of refusals
(``cronhub.errors.N_``), which stay English in API bodies and are translated where a page
shows them. Everything else is Django's command."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]
