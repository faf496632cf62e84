from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations: health, metrics and the system view"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        # django-q2 sends post_spawn in each new worker process: from there on it reports its
        # file descriptors as a "worker" row of /api/system/status (jobs never import operations).
        post_spawn.connect(_report_worker, dispatch_uid="operations.report_worker")


def _report_worker(sender, proc_name=None, **kwargs) -> None:
    from realtime.connection_stats import file_descriptors
    from statusmsg.conf import app_settings

    from .process_stats import start_reporting

    if app_settings.PROCESS_REPORT_EVERY > 0:
        start_reporting("worker", file_descriptors, every=app_settings.PROCESS_REPORT_EVERY)
