"""Benchmarks run by ``ops/bench <name>``. Each measures the product's way against a baseline in
the same run, in a scratch database, and prints a table followed by one JSON line."""


class QueryCounter:
    """Counts the SQL statements a block runs: ``with connection.execute_wrapper(counter): ...``.
    (CaptureQueriesContext loses queries across a request: request_started resets the log.)"""

    def __init__(self):
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        self.statements.append(sql)
        return execute(sql, params, many, context)
