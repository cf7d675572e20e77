from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "supportpin.accounts"
    label = "accounts"
