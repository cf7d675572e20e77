from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "supportpin.web"
    label = "web"
