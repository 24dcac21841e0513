"""The CRM export (landing/crm/customers.csv), the persona of each customer, and what the daily sources need of them.

Rows are drawn for the valid customers plus a few junk customers with malformed emails (planted errors that never
order, answer or use the product). The draws below run in a fixed order on the one generator of the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation_pipeline.sample_data.countries import (
    COMPANY_TOP_LEVEL_DOMAINS,
    COMPANY_WORDS,
    COUNTRIES,
    GENERIC_MAIL_DOMAINS,
    MAIL_TRANSLITERATION,
)
from segmentation_pipeline.sample_data.draws import (
    categorical_by_group,
    iso_seconds,
    largest_remainder,
    normalised,
    object_array,
    prefixed_ids,
)
from segmentation_pipeline.sample_data.personas import (
    LAPSED_CUSTOMERS,
    PERSONA_NAMES,
    PERSONAS,
    RECENT_SIGNUPS,
    persona_values,
)
from segmentation_pipeline.sample_data.planted_errors import planted_count, planted_rows
from segmentation_pipeline.sample_data.vocabulary import (
    ACQUISITION_CHANNELS,
    COMPANY_SIZES,
    GENDERS,
    INCOME_BANDS,
    INDUSTRIES,
)
from segmentation_pipeline.sample_data.window import SECONDS_PER_DAY, LandingWindow

GENDER_SHARES = (0.48, 0.46, 0.02, 0.04)
COMPANY_SIZE_SHARES = (0.35, 0.3, 0.18, 0.12, 0.05)
_THREE_YEARS = 3 * 365
_RECENT_DAYS = 45  # recent sign-ups are created in these last days; others created in the window before them


@dataclass(frozen=True)
class ActiveCustomers:
    """The valid customers as the daily sources draw from them; arrays are indexed by customer (0 .. n - 1)."""

    persona: np.ndarray
    customer_id: np.ndarray
    created_second: np.ndarray
    currency: np.ndarray
    country: np.ndarray
    first_active_day: np.ndarray  # window day indices, inclusive
    last_active_day: np.ndarray
    ids_issued: int  # customer numbers used by valid and junk customers; unknown customers get higher ones

    @property
    def count(self) -> int:
        return self.persona.shape[0]


@dataclass(frozen=True)
class CrmExport:
    file_rows: pd.DataFrame  # customers.csv in file order, planted duplicates included
    personas: pd.DataFrame  # ground truth: customer_id, persona of the valid customers
    planted_errors: pd.DataFrame
    active: ActiveCustomers


@dataclass(frozen=True)
class _Names:
    """Name, country and place of every CRM row (valid and junk), as object arrays."""

    country_index: np.ndarray
    gender: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    local_mail_domain: np.ndarray
    city: np.ndarray
    region: np.ndarray
    calling_code: np.ndarray


def draw_customers(rng: np.random.Generator, window: LandingWindow, customer_count: int) -> CrmExport:
    """The CRM export with its ground truth, and the valid customers the daily sources are drawn for."""
    junk_count = planted_count("customers", "malformed_email", customer_count)
    row_count = customer_count + junk_count
    persona, attribute_persona = _assign_personas(rng, customer_count, junk_count)
    is_junk = np.concatenate([np.zeros(customer_count, bool), np.ones(junk_count, bool)])
    created_day, created_second = _creation_times(rng, window, attribute_persona, is_junk)

    # customer numbers in order of creation, like a real CRM sequence
    number = np.empty(row_count, dtype=np.int64)
    number[np.argsort(created_second, kind="stable")] = np.arange(1, row_count + 1)
    customer_id = prefixed_ids("C", number, 6)
    junk_index = np.flatnonzero(is_junk)
    rows, country_index = _crm_rows(rng, window, attribute_persona, customer_id, created_second, number, junk_index)
    file_rows, duplicated = _with_duplicates(rng, rows, number, customer_count)

    valid_ids = customer_id[:customer_count]
    personas = pd.DataFrame({"customer_id": valid_ids, "persona": object_array(PERSONA_NAMES)[persona]}).sort_values(
        "customer_id", kind="stable", ignore_index=True
    )
    planted = planted_rows(
        "customers",
        "",
        np.concatenate([customer_id[duplicated], customer_id[junk_index]]),
        ["duplicate_key"] * duplicated.size + ["malformed_email"] * junk_count,
    )
    first_active_day, last_active_day = _active_days(rng, window, persona, created_day[:customer_count])
    active = ActiveCustomers(
        persona=persona,
        customer_id=valid_ids,
        created_second=created_second[:customer_count],
        currency=object_array(tuple(country.currency for country in COUNTRIES))[country_index[:customer_count]],
        country=object_array(tuple(country.code for country in COUNTRIES))[country_index[:customer_count]],
        first_active_day=first_active_day,
        last_active_day=last_active_day,
        ids_issued=row_count,
    )
    return CrmExport(file_rows=file_rows, personas=personas, planted_errors=planted, active=active)


def _assign_personas(rng: np.random.Generator, customer_count: int, junk_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Personas in their fixed shares, shuffled; junk customers only borrow a random persona's attributes."""
    counts = largest_remainder(persona_values("share") * customer_count, customer_count)
    persona = rng.permutation(np.repeat(np.arange(len(PERSONAS)), counts))
    attribute_persona = np.concatenate([persona, rng.integers(0, len(PERSONAS), junk_count)])
    return persona, attribute_persona


def _creation_times(
    rng: np.random.Generator, window: LandingWindow, attribute_persona: np.ndarray, is_junk: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Creation day relative to the first landing day (negative = before the window) and epoch second."""
    row_count, days = attribute_persona.shape[0], window.days
    before = -rng.integers(1, _THREE_YEARS + 1, row_count)
    inside = rng.integers(0, max(1, days - _RECENT_DAYS), row_count)
    in_window = rng.random(row_count) < persona_values("share_created_in_window")[attribute_persona]
    created_day = np.where(in_window, inside, before)
    recent = (attribute_persona == RECENT_SIGNUPS) & ~is_junk
    created_day[recent] = rng.integers(max(0, days - _RECENT_DAYS), days, recent.sum())
    lapsed = (attribute_persona == LAPSED_CUSTOMERS) & ~is_junk
    created_day[lapsed] = -rng.integers(30, _THREE_YEARS, lapsed.sum())
    created_day[is_junk] = rng.integers(-_THREE_YEARS, days, is_junk.sum())
    created_second = window.day_start(created_day) + rng.integers(0, SECONDS_PER_DAY, row_count)
    return created_day, created_second


def _crm_rows(
    rng: np.random.Generator,
    window: LandingWindow,
    attribute_persona: np.ndarray,
    customer_id: np.ndarray,
    created_second: np.ndarray,
    number: np.ndarray,
    junk_index: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """One CRM row per customer (valid and junk) in customer order, and each row's index into COUNTRIES."""
    names = _names(rng, customer_id.shape[0])
    mail_domain, b2b = _mail_domains(rng, names, attribute_persona)
    email = _emails(rng, names, mail_domain, number, junk_index)
    phone = _phones(rng, names.calling_code)
    profile = _profile(rng, window, attribute_persona, b2b)
    full_name = pd.Series(names.first_name, dtype="str") + " " + pd.Series(names.last_name, dtype="str")
    rows = pd.DataFrame(
        {
            "customer_id": customer_id,
            "created_at": iso_seconds(created_second) + "Z",
            "email": email,
            "full_name": full_name.to_numpy(dtype=object),
            "phone": phone,
            "birth_year": profile.birth_year,
            "gender": names.gender,
            "country": object_array(tuple(country.code for country in COUNTRIES))[names.country_index],
            "region": names.region,
            "city": names.city,
            "income_band": profile.income_band,
            "acquisition_channel": profile.acquisition_channel,
            "marketing_opt_in": profile.marketing_opt_in,
            "company_size": profile.company_size,
            "industry": profile.industry,
        }
    )
    for column in ("gender", "income_band", "company_size", "industry"):
        rows[column] = rows[column].astype("str").replace("", pd.NA)
    return rows, names.country_index


def _names(rng: np.random.Generator, row_count: int) -> _Names:
    """Country, gender, a first and last name of that country, its local mail domain and a place in it."""
    country_index = rng.choice(len(COUNTRIES), size=row_count, p=normalised([country.weight for country in COUNTRIES]))
    gender = rng.choice(object_array(GENDERS), size=row_count, p=GENDER_SHARES)
    female_name = (gender == "female") | ((gender != "male") & (rng.random(row_count) < 0.5))
    first_name, last_name, local_mail_domain, city, region, calling_code = (
        np.empty(row_count, dtype=object) for _ in range(6)
    )
    for index, country in enumerate(COUNTRIES):
        in_country = country_index == index
        count = int(in_country.sum())
        if not count:
            continue
        female_first = object_array(country.female_names)[rng.integers(0, len(country.female_names), count)]
        male_first = object_array(country.male_names)[rng.integers(0, len(country.male_names), count)]
        first_name[in_country] = np.where(female_name[in_country], female_first, male_first)
        last_name[in_country] = object_array(country.last_names)[rng.integers(0, len(country.last_names), count)]
        local_mail_domain[in_country] = object_array(country.mail_domains)[
            rng.integers(0, len(country.mail_domains), count)
        ]
        place = rng.integers(0, len(country.places), count)
        city[in_country] = object_array(tuple(city for city, _ in country.places))[place]
        region[in_country] = object_array(tuple(region for _, region in country.places))[place]
        calling_code[in_country] = country.calling_code
    return _Names(country_index, gender, first_name, last_name, local_mail_domain, city, region, calling_code)


def _mail_domains(
    rng: np.random.Generator, names: _Names, attribute_persona: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A generic or a local mail provider, or the company's domain for B2B customers; and who is B2B."""
    row_count = attribute_persona.shape[0]
    generic = rng.random(row_count) < 0.6
    generic_domain = object_array(GENERIC_MAIL_DOMAINS)[rng.integers(0, len(GENERIC_MAIL_DOMAINS), row_count)]
    domain = np.where(generic, generic_domain, names.local_mail_domain)
    b2b = rng.random(row_count) < persona_values("b2b_probability")[attribute_persona]
    company = object_array(COMPANY_WORDS)[rng.integers(0, len(COMPANY_WORDS), row_count)]
    country_code = pd.Series(np.array([country.code for country in COUNTRIES])[names.country_index])
    top_level_domain = country_code.map(COMPANY_TOP_LEVEL_DOMAINS).to_numpy(dtype=object)
    return np.where(b2b, company + "." + top_level_domain, domain), b2b


def _emails(
    rng: np.random.Generator, names: _Names, mail_domain: np.ndarray, number: np.ndarray, junk_index: np.ndarray
) -> np.ndarray:
    """first.last-style addresses, made unique with the customer number; junk customers get malformed ones."""
    row_count = number.shape[0]
    first = pd.Series(names.first_name, dtype="str").str.lower().str.translate(MAIL_TRANSLITERATION)
    last = pd.Series(names.last_name, dtype="str").str.lower().str.translate(MAIL_TRANSLITERATION)
    style = rng.integers(0, 4, row_count)
    local = np.select(
        [style == 0, style == 1, style == 2],
        [first + "." + last, first + last, first.str[0] + "." + last],
        default=first + "_" + last,
    )
    local = pd.Series(local, dtype="str")
    with_digits = rng.random(row_count) < 0.45
    digits = pd.Series(rng.integers(1, 100, row_count)).astype(str)
    local = local.where(~with_digits, local + digits)
    domain = pd.Series(mail_domain, dtype="str")
    email = local + "@" + domain
    email = email.where(~email.duplicated(keep="first"), local + pd.Series(number).astype(str) + "@" + domain)
    email = email.to_numpy(dtype=object)
    email[junk_index] = _malformed_emails(rng, local, first, last, mail_domain, junk_index)
    return email


def _malformed_emails(
    rng: np.random.Generator,
    local: pd.Series,
    first: pd.Series,
    last: pd.Series,
    mail_domain: np.ndarray,
    junk_index: np.ndarray,
) -> np.ndarray:
    """What a careless CRM form lets through: no @, a double @, a dotless domain, a space, no domain."""
    style = rng.integers(0, 5, junk_index.size)
    junk_local = local.iloc[junk_index].reset_index(drop=True)
    junk_domain = pd.Series(mail_domain[junk_index], dtype="str")
    spaced = first.iloc[junk_index].reset_index(drop=True) + " " + last.iloc[junk_index].reset_index(drop=True)
    return np.select(
        [style == 0, style == 1, style == 2, style == 3],
        [
            junk_local + "." + junk_domain,
            junk_local + "@@" + junk_domain,
            junk_local + "@" + junk_domain.str.replace(".", "", regex=False),
            spaced + "@" + junk_domain,
        ],
        default=junk_local + "@",
    )


def _phones(rng: np.random.Generator, calling_code: np.ndarray) -> np.ndarray:
    """'+49 151 0123456': the country's calling code, an area code and a seven-digit number."""
    row_count = calling_code.shape[0]
    area = pd.Series(rng.integers(100, 1000, row_count)).astype(str)
    subscriber = pd.Series(rng.integers(0, 10_000_000, row_count)).astype(str).str.zfill(7)
    return (pd.Series(calling_code, dtype="str") + " " + area + " " + subscriber).to_numpy(dtype=object)


@dataclass(frozen=True)
class _Profile:
    """The persona-dependent CRM attributes; empty strings are written as empty cells."""

    birth_year: pd.api.extensions.ExtensionArray
    income_band: np.ndarray
    acquisition_channel: np.ndarray
    marketing_opt_in: np.ndarray
    company_size: np.ndarray
    industry: np.ndarray


def _profile(
    rng: np.random.Generator, window: LandingWindow, attribute_persona: np.ndarray, b2b: np.ndarray
) -> _Profile:
    row_count = attribute_persona.shape[0]
    age_range = persona_values("age_range")[attribute_persona]
    age_low, age_high = age_range[:, 0], age_range[:, 1]
    age = age_low + np.floor(rng.random(row_count) * (age_high - age_low + 1)).astype(int)
    birth_year = pd.array(window.last_day.year - age, dtype="Int64")
    birth_year[rng.random(row_count) < 0.06] = pd.NA
    income = categorical_by_group(rng, persona_values("income_shares"), attribute_persona)
    income_band = object_array(INCOME_BANDS)[income]
    income_band[rng.random(row_count) < 0.05] = ""
    acquisition = categorical_by_group(rng, persona_values("acquisition_shares"), attribute_persona)
    opt_in = rng.random(row_count) < persona_values("opt_in_probability")[attribute_persona]
    company_size = rng.choice(len(COMPANY_SIZES), row_count, p=COMPANY_SIZE_SHARES)
    industry = rng.integers(0, len(INDUSTRIES), row_count)
    return _Profile(
        birth_year=birth_year,
        income_band=income_band,
        acquisition_channel=object_array(ACQUISITION_CHANNELS)[acquisition],
        marketing_opt_in=np.where(opt_in, "true", "false"),
        company_size=np.where(b2b, object_array(COMPANY_SIZES)[company_size], ""),
        industry=np.where(b2b, object_array(INDUSTRIES)[industry], ""),
    )


def _with_duplicates(
    rng: np.random.Generator, rows: pd.DataFrame, number: np.ndarray, customer_count: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """File order by customer_id, each planted duplicate at a random later line than its original."""
    duplicate_count = planted_count("customers", "duplicate_key", customer_count)
    duplicated = (
        rng.choice(customer_count, size=duplicate_count, replace=False)
        if duplicate_count
        else np.zeros(0, dtype=np.int64)
    )
    line = (number - 1).astype(float)  # of the originals, sorted by id
    room = len(rows) - 1 - line[duplicated]
    duplicate_line = line[duplicated] + 0.5 + rng.random(duplicate_count) * room
    file_rows = pd.concat([rows, rows.iloc[duplicated]], ignore_index=True)
    file_order = np.argsort(np.concatenate([line, duplicate_line]), kind="stable")
    return file_rows.iloc[file_order].reset_index(drop=True), duplicated


def _active_days(
    rng: np.random.Generator, window: LandingWindow, persona: np.ndarray, created_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First and last day a valid customer is active: from creation (or the first day) to the last day, except
    lapsed customers, who stop in the first months (in the first 40% of a window shorter than 270 days)."""
    days = window.days
    first_active_day = np.maximum(created_day, 0)
    last_active_day = np.full(persona.shape[0], days - 1)
    if days >= 270:
        lapse_last, lapse_first = days - 181, 60
    else:
        lapse_last = max(0, int(days * 0.4))
        lapse_first = max(0, int(lapse_last * 0.25))
    lapsed = persona == LAPSED_CUSTOMERS
    last_active_day[lapsed] = rng.integers(lapse_first, lapse_last + 1, lapsed.sum())
    return first_active_day, np.maximum(last_active_day, first_active_day)
