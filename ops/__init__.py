"""Operations: the run/test/bench/lock scripts and their Python halves (benchmarks), the demo seed
(``seed_demo``), the fake Xporter server and the deployment files. Installed as a shared app so that
its management command loads. Nothing in the product imports it."""
