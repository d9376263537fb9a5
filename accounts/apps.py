from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts.tokens import outstanding_token_erasure_connect

        outstanding_token_erasure_connect()
