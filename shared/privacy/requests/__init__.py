"""Data subjects' requests: their states and ICO deadlines (``services``, ``deadlines``) and the
erasure ledger that outlives every erased person's records (``ledger``). What every request has,
the vendor's and each school's, is the abstract model ``shared.privacy.request_base``."""
