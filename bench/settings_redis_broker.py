"""statusmsg.settings with django-q2's Redis broker instead of the ORM one, for bench/job_latency.py.

BENCH_Q_REDIS_URL (default REDIS_URL) names the Redis; BENCH_Q_NAME the cluster, which is
also the queue's key, so a benchmark never shares a queue with anything else.
"""

import os

from statusmsg.settings import *  # noqa: F403
from statusmsg.settings import Q_CLUSTER, REDIS_URL

Q_CLUSTER = {
    **{key: value for key, value in Q_CLUSTER.items() if key != "orm"},
    "name": os.environ.get("BENCH_Q_NAME", "statusmsg_bench"),
    "redis": os.environ.get("BENCH_Q_REDIS_URL", REDIS_URL),
}
