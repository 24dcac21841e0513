"""Predicted customer value: BG/NBD purchases and Gamma-Gamma spend, fitted quarterly and scored nightly.

`model.fit_value_model` fits both on a day's summaries (and checks them on a holdout split of the order days) and
returns a `model.ValueModel`, or a `model.NoValueModel` saying in one line why there is none; both `score` a snapshot
(null scores without a model) and give a JSON `card`. The likelihoods and predictions are in `bgnbd` and
`gamma_gamma`, the summaries in `summaries`, the holdout figures in `holdout`, the settings in `settings`, and
`simulation` draws histories from the models' own processes for tests and benchmarks. No Dagster in here.
"""
