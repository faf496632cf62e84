"""Real server processes report themselves: daphne as "web", each cluster worker as "worker"."""

import pytest

from operations.process_stats import live_reports
from tests.processes import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_daphne_and_cluster_workers_report_their_figures(daphne, qcluster):
    def kinds():
        reports = live_reports()
        return reports if {"web", "worker"} <= {report["kind"] for report in reports} else None

    reports = wait_for(kinds, timeout=30, message="a web and a worker report")
    web = next(report for report in reports if report["kind"] == "web")
    assert web["sockets"] == 0 and web["fds_used"] > 0 and web["fds_limit"] >= web["fds_used"]
    workers = [report for report in reports if report["kind"] == "worker"]
    assert all(report["fds_used"] > 0 for report in workers)
