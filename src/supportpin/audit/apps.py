from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "supportpin.audit"
    label = "audit"

    def ready(self) -> None:
        from supportpin.audit import checks  # noqa: F401 - registers the system checks
