"""The audit trail, which the privacy notice calls technical information: the visit log (IP address,
user id, host, path and time of every request to any site, in a table partitioned by month) and the
change log (who added or edited which object's which fields; never the values). The app keeps its
label, ``technical``, and so its tables."""
