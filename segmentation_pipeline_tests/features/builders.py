"""A small validated warehouse of customers, orders, survey answers and usage events, with hand-computed features."""

from datetime import date

from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline_tests.helpers import write_validated, write_validated_by_day

SNAPSHOT = date(2026, 3, 31)


def order(order_id, customer_id, ordered_at, amount, status="completed", category=None):
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "ordered_at": ordered_at,
        "amount": amount,
        "status": status,
        "product_category": category,
    }


def event(customer_id, event_ts, session_id, device_type, feature, duration_s):
    return {
        "customer_id": customer_id,
        "event_ts": event_ts,
        "session_id": session_id,
        "device_type": device_type,
        "feature": feature,
        "duration_s": duration_s,
    }


def feature_warehouse(tmp_path) -> DataLayout:
    """A small validated warehouse whose features the tests work out by hand."""
    layout = DataLayout(tmp_path)
    write_validated(
        layout,
        "customers",
        [
            {
                "customer_id": "A",
                "created_at": "2025-01-10T08:00:00Z",
                "birth_year": 1990,
                "country": "de",
                "acquisition_channel": "organic_search",
                "marketing_opt_in": True,
            },
            {"customer_id": "B", "created_at": "2026-03-01T12:00:00Z", "company_size": "11-50"},
            {"customer_id": "C", "created_at": "2026-03-20T00:00:00Z"},
            {"customer_id": "D", "created_at": "2026-04-05T00:00:00Z"},  # created after the snapshot
        ],
    )
    write_validated_by_day(
        layout,
        "orders",
        [
            order("o1", "A", "2025-02-01T10:00:00Z", 50.00, category="toys"),  # before the 365-day window
            order("o2", "A", "2025-06-15T10:00:00Z", 20.00, category="toys"),
            order("o3", "A", "2026-03-10T09:00:00Z", 30.00, category="books"),  # two orders on one day
            order("o4", "A", "2026-03-10T18:00:00Z", 10.00),
            order("o5", "A", "2026-03-20T10:00:00Z", 99.00, "cancelled", category="toys"),
            order("o6", "A", "2026-04-02T10:00:00Z", 100.00, category="toys"),  # after the snapshot: must not leak
            order("o7", "B", "2026-03-05T10:00:00Z", 15.00, category="garden"),
            order("o8", "B", "2026-03-05T11:00:00Z", 15.00, "refunded", category="toys"),
        ],
        "ordered_at",
    )
    write_validated_by_day(
        layout,
        "usage_events",
        [
            event("A", "2026-03-28T20:00:00Z", "s1", "mobile", "search", 60),  # a Saturday evening
            event("A", "2026-03-28T20:05:00Z", "s1", "mobile", "search", 120),
            event("A", "2026-03-28T20:10:00Z", "s1", "mobile", "cart", 60),
            event("A", "2026-03-30T09:00:00Z", "s2", "desktop", "browse", 300),  # a Monday morning
            event("A", "2025-12-01T09:00:00Z", "s0", "tablet", "browse", 30),  # outside the 90-day window
            event("A", "2026-04-01T09:00:00Z", "s9", "tablet", "browse", 30),  # after the snapshot
        ],
        "event_ts",
    )
    write_validated_by_day(
        layout,
        "survey_responses",
        [
            {"response_id": "r1", "customer_id": "A", "submitted_at": "2026-02-01T10:00:00Z", "nps": 5, "csat": 2},
            {
                "response_id": "r2",
                "customer_id": "A",
                "submitted_at": "2026-03-15T10:00:00Z",
                "nps": 9,
                "csat": 4,
                "price_sensitivity": 2,
                "primary_need": "quality",
                "preferred_contact_channel": "email",
            },
        ],
        "submitted_at",
    )
    return layout
