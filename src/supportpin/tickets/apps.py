from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "supportpin.tickets"
    label = "tickets"
