"""Erase the refresh tokens earlier versions stored whole in ``token_blacklist_outstandingtoken.token``.

Revocation needs only the jti, the user and the expiry, which stay; a stored token
could be used by whoever reads the table.
"""

from django.db import migrations


def erase_stored_refresh_tokens(apps, schema_editor):
    OutstandingToken = apps.get_model("token_blacklist", "OutstandingToken")
    OutstandingToken.objects.exclude(token="").update(token="")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("token_blacklist", "0013_alter_blacklistedtoken_options_and_more"),
    ]

    operations = [migrations.RunPython(erase_stored_refresh_tokens, migrations.RunPython.noop)]
