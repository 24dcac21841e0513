"""Benchmark of the publish work of issue 19 at the reference scale: the control group, the audience export, the
uplift and the overlap of one snapshot.

    .venv/bin/python benchmarks/bench_publish.py                       # 1M customers, best of 3
    .venv/bin/python benchmarks/bench_publish.py --customers 10000     # a smoke run

The customers and their e-mails are the synthetic CRM population of the feature benchmark (`synthetic_population.py`,
fixed seed), given 7 behavioural, 10 RFM and 0-3 of 6 rule segments each, lifetime orders and revenue at a
baseline and a later snapshot, and the other `customer_segments` columns (fixed seed, built before timing).
Measured, each repetition (the best is printed):

* `in_control_group` -- the salted hash of every customer id.
* `pseudonymise` -- the salted hash of every customer id published when `customer_id_salt` is set.
* `audience_export` -- who is reached, the e-mail hashes and the per-segment files in memory.
* `write` -- `AudienceExport.write` of those files to a temporary folder.
* `segment_uplift` -- treated against control per baseline segment.
* `segment_overlap` -- every pair of segments.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic_population import draw_population  # noqa: E402
from synthetic_scale import Scale  # noqa: E402

from segmentation_pipeline.core.publish.audiences import audience_export  # noqa: E402
from segmentation_pipeline.core.publish.control_group import in_control_group  # noqa: E402
from segmentation_pipeline.core.publish.memberships import SEGMENT_LIST_TYPE  # noqa: E402
from segmentation_pipeline.core.publish.overlap import segment_overlap  # noqa: E402
from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS  # noqa: E402
from segmentation_pipeline.core.publish.settings import DEFAULT_CONTROL_GROUP_SALT  # noqa: E402
from segmentation_pipeline.core.publish.tables import pseudonymise  # noqa: E402
from segmentation_pipeline.core.publish.uplift import segment_uplift  # noqa: E402

DAY, BASELINE_DAY = date(2026, 11, 22), date(2026, 10, 22)
BEHAVIOURAL = ("Night owls", "Weekend / desktop", "Bargain hunters", "Loyal regulars", "New explorers", "B2B buyers",
               "Dormant")  # fmt: skip
RFM = ("champions", "loyal", "potential loyalists", "new customers", "promising", "need attention", "about to sleep",
       "at risk", "cannot lose them", "hibernating")  # fmt: skip
RULES = ("VIP", "key account", "newsletter", "high churn risk", "app users", "Black Friday")


def snapshot_frames(customers: int, seed: int = 7):
    """(customers, emails, baseline): the snapshot's customer_segments rows, the CRM e-mails, the baseline rows."""
    scale = Scale(customers=customers)
    _, crm = draw_population(scale, scale.end_date)
    rng = np.random.default_rng(seed)
    n = crm.num_rows
    rule_counts = rng.choice(4, n, p=(0.5, 0.3, 0.15, 0.05))
    offsets = np.concatenate(([0], np.cumsum(rule_counts)))
    rules = pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(np.array(RULES)[rng.integers(0, len(RULES), offsets[-1])])
    )
    orders_before = rng.poisson(3.0, n)
    spend_before = np.round(orders_before * rng.gamma(4.0, 30.0, n), 2)
    segments = {
        "customer_id": crm["customer_id"],
        "marketing_opt_in": crm["marketing_opt_in"],
        "segment_name": pa.array(np.array(BEHAVIOURAL)[rng.integers(0, len(BEHAVIOURAL), n)]),
        "rfm_segment": pa.array(np.array(RFM)[rng.integers(0, len(RFM), n)]),
        "rule_segments": rules.cast(SEGMENT_LIST_TYPE),
    }
    segments |= {"lifetime_orders": orders_before, "lifetime_spend": spend_before}
    baseline = pa.table({**segments, **_other_columns(rng, n, set(segments))}).to_pandas()
    baseline["in_control_group"] = in_control_group(baseline["customer_id"], 0.05, DEFAULT_CONTROL_GROUP_SALT)
    new_orders = rng.poisson(0.4, n)
    current = baseline.assign(
        rule_segments=rules.to_pylist(),  # as `customer_segments` builds them: lists (a published file reads arrays)
        lifetime_orders=orders_before + new_orders,
        lifetime_spend=spend_before + np.round(new_orders * rng.gamma(4.0, 30.0, n), 2),
    )
    return current, crm.select(["customer_id", "email"]).to_pandas(), baseline


def _other_columns(rng: np.random.Generator, n: int, taken: set[str]) -> dict[str, pa.Array]:
    """The other columns of `customer_segments` (uplift and the audiences copy or filter whole frames), filled
    with draws of their type: labels from three values, numbers, flags, the snapshot day."""
    columns = {}
    for field in PUBLISHED_SCHEMAS["customer_segments"]:
        if field.name in taken | {"in_control_group"}:
            continue
        if pa.types.is_string(field.type):
            values = pa.array(np.array(["a", "b", "c"])[rng.integers(0, 3, n)])
        elif pa.types.is_boolean(field.type):
            values = pa.array(rng.random(n) < 0.5)
        elif pa.types.is_date(field.type):
            values = pa.array(np.full(n, np.datetime64(DAY, "D")))
        else:
            values = pa.array(rng.integers(0, 100, n))
        columns[field.name] = values.cast(field.type)
    return columns


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions, the best is printed (default 3)")
    args = parser.parse_args(argv)
    print(f"building {args.customers:,} customers (not timed) ...", flush=True)
    customers, emails, baseline = snapshot_frames(args.customers)
    best: dict[str, float] = {}

    def timed(name: str, work, *args):
        start = time.perf_counter()
        result = work(*args)
        best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
        return result

    for _ in range(args.repeat):
        timed("in_control_group", lambda: in_control_group(customers["customer_id"], 0.05, DEFAULT_CONTROL_GROUP_SALT))
        timed("pseudonymise", pseudonymise, customers["customer_id"], "pepper")
        export = timed("audience_export", lambda: audience_export(customers, emails, plain_emails=False))
        with tempfile.TemporaryDirectory() as folder:
            timed("write", export.write, Path(folder) / "snapshot")
        timed("segment_uplift", lambda: segment_uplift(baseline, customers, DAY, BASELINE_DAY))
        timed("segment_overlap", lambda: segment_overlap(customers, DAY))
    print(
        f"customers: {args.customers:,}; audience files: {len(export.files)}, customers in them: {export.customers:,}"
    )
    for name, seconds in best.items():
        print(f"{name:>18}: {seconds:6.2f} s")
    print(f"{'total':>18}: {sum(best.values()):6.2f} s")


if __name__ == "__main__":
    main()
