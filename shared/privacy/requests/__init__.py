"""Data subjects' requests: their states and ICO deadlines (``services``, ``deadlines``), the tasks of
telling recipients of a correction or erasure that no request closes without (``recipient_tasks``, with
the forms both sites resolve them by, ``task_forms``) and the erasure ledger that outlives every erased person's records (``ledger``). What every request has,
the vendor's and each school's, is the abstract model ``shared.privacy.request_base``."""
