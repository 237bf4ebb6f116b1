"""The Xporter on Demand import: the API client, the school's connection settings, and the import
itself in two steps: ``parse`` reads an Xporter export into a checked plan without writing anything,
and ``apply`` writes the plan to the school's pupils, parents, groups and results, atomically."""
