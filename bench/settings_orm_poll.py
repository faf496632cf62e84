"""statusmsg.settings with the ORM broker polling every BENCH_Q_POLL seconds, for bench/job_latency.py."""

import os

from statusmsg.settings import *  # noqa: F403
from statusmsg.settings import Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "poll": float(os.environ.get("BENCH_Q_POLL", Q_CLUSTER["poll"]))}
