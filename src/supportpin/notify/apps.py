from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "supportpin.notify"
    label = "notify"
