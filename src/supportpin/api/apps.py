from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "supportpin.api"
    label = "api"
