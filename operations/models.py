"""What each server process last reported about itself, so that any process can report on all."""

from django.db import models


class ProcessReport(models.Model):
    """One row per live process (web or worker), rewritten every few seconds; stale rows are ignored."""

    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    kind = models.CharField(max_length=20)  # "web" (daphne) or "worker" (qcluster)
    stats = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "pid"], name="process_report_once")]
        # The status API reads the recent ones: WHERE updated_at > now - ttl.
        indexes = [models.Index(fields=["updated_at"], name="process_report_fresh")]

    def __str__(self) -> str:
        return f"{self.kind} {self.host}:{self.pid}"
