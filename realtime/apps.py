from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self) -> None:
        # The publisher's catch-up re-sends missed jobs' latest snapshots; it gets the lookup
        # from here so that the transport module itself never imports jobs.
        from . import job_updates, publisher

        publisher.latest_job_message = job_updates.latest_job_message
