"""The CRM export looks like one: plausible values in every column."""

from __future__ import annotations

import pandas as pd


def test_customer_fields_are_plausible(small):
    c = small.customers
    assert c["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert c["created_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z").all()
    assert set(c["gender"]) <= {"female", "male", "other", ""}
    assert set(c["income_band"]) <= {"low", "lower_middle", "upper_middle", "high", ""}
    assert set(c["acquisition_channel"]) <= {
        "organic_search", "paid_search", "social", "referral", "email", "affiliate", "direct"
    }  # fmt: skip
    assert set(c["marketing_opt_in"]) == {"true", "false"}
    assert set(c["country"]) <= {"DE", "FR", "GB", "US", "NL", "ES", "IT", "PL", "SE"}
    assert (c[["full_name", "phone", "region", "city"]] != "").all().all()
    assert c["phone"].str.fullmatch(r"\+\d{1,2} \d{3} \d{7}").all()
    years = pd.to_numeric(c["birth_year"].replace("", None))
    assert years.isna().any() and years.dropna().between(1940, 2010).all()
    b2b = c["company_size"] != ""
    assert ((c["industry"] != "") == b2b).all()
    assert set(c.loc[b2b, "company_size"]) <= {"1-10", "11-50", "51-200", "201-1000", "1000+"}
    assert 0.03 < b2b.mean() < 0.2
