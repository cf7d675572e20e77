from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "supportpin.notify"
    label = "notify"

    def ready(self) -> None:
        from supportpin.notify import checks  # noqa: F401 - registers the system checks
