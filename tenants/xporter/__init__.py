"""The Xporter on Demand import: the API client, the school's connection settings, and the importer
that turns Xporter's rows into the school's pupils, parents, groups and results, atomically."""
