from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "supportpin.audit"
    label = "audit"
