"""The category values the sample writes, shared with benchmarks/synthetic.py so both generators speak alike.

Order statuses and device types are the contract's own (`core.ingest.contract`); everything here is a value set
the contract leaves open. The persona `*_shares` tuples and the share tuples below follow these orders.
"""

from __future__ import annotations

import numpy as np

PRODUCT_FEATURES = (
    "search", "browse", "cart", "checkout", "wishlist", "reviews", "support", "account", "recommendations",
)  # fmt: skip
PRODUCT_CATEGORIES = ("electronics", "fashion", "home", "beauty", "sports", "grocery", "books")
# Price level of each product category relative to fashion: an electronics order costs more than a book.
CATEGORY_PRICE_FACTORS = np.array([1.7, 1.0, 1.25, 0.7, 1.0, 0.55, 0.45])
ORDER_CHANNELS = ("web", "app", "store")
ORDER_STATUS_SHARES = (0.90, 0.06, 0.04)  # of contract.ORDER_STATUSES: completed, cancelled, refunded
PRIMARY_NEEDS = ("price", "quality", "convenience", "selection", "service")
CONTACT_CHANNELS = ("email", "sms", "phone", "app_push", "none")
GENDERS = ("female", "male", "other", "")  # "" is written as an empty cell: not given
INCOME_BANDS = ("low", "lower_middle", "upper_middle", "high")
ACQUISITION_CHANNELS = ("organic_search", "paid_search", "social", "referral", "email", "affiliate", "direct")
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")
INDUSTRIES = (
    "retail", "manufacturing", "it_services", "healthcare", "education", "finance", "hospitality", "logistics",
)  # fmt: skip
