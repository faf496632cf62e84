from .sites import site, site_server  # noqa: F401 - the local web site of the workload tests
