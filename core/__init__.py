"""Settings, database and migrations: the innermost layer, imported by everything else."""
