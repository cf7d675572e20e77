from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "supportpin.ops"
    label = "ops"
