from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self) -> None:
        from .revocation import connect_receivers

        connect_receivers()  # logout, password change and token deletion close sockets (4401)
