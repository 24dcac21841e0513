"""Storage: where every file lives under the data root (`layout`), crash-safe writes (`atomic`, over the staging area
and journal of `staging` and the fsyncs and one-line errors of `durable`), and reading and writing per-snapshot
tables (`tables`)."""
