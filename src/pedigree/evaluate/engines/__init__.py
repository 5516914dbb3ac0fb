"""Optional engines: the same metrics computed by a third-party library (SDMetrics,
anonymeter) when it is installed, returned as ``MetricResult``s with the same names and
``details["engine"]`` naming the library, so a run can be recorded and compared either way."""
