"""Storage: where every file lives under the data root (`layout`), atomic writes (`atomic`), and reading and writing
per-snapshot tables (`tables`)."""
