from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "supportpin.access"
    label = "access"
