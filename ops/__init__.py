"""Operations: the scheduler, fleet and demo commands, the run/test/bench scripts and their
Python halves (benchmarks). Installed as a shared app so that its management commands load."""
