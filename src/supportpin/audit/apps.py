from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "supportpin.audit"
    label = "audit"

    def ready(self) -> None:
        from supportpin.audit import checks  # noqa: F401 - registers the system checks
        from supportpin.audit.witnesses import submit_checkpoint
        from supportpin.notify.delivery import register_sender
        from supportpin.notify.models import Kind

        register_sender(Kind.WITNESS, submit_checkpoint)
