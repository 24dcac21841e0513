"""The `ingest` resources: how the landing sources are judged, and where the CRM is read from."""

import os

import dagster as dg

from segmentation_pipeline.core.ingest.crm_database import (
    CRM_DATABASE_URL_ENV,
    DEFAULT_CUSTOMERS_TABLE,
    DEFAULT_ORDERS_TABLE,
    CrmDatabase,
)
from segmentation_pipeline.core.ingest.settings import IngestSettings
from segmentation_pipeline.defs.resources import SettingsResource


class IngestResource(SettingsResource):
    """How ingest judges its landing sources."""

    core_settings = IngestSettings

    max_landing_lag_days: int = IngestSettings.max_landing_lag_days
    """Warn when a source's newest landing day is older than this many days."""


class CrmDatabaseResource(dg.ConfigurableResource):
    """The CRM's customers and orders read from PostgreSQL instead of `landing/crm/`, when `url` is set. The URL comes
    from $SEGMENTATION_CRM_DATABASE_URL, so the password stays out of the UI, the run config and the logs."""

    url: str = ""
    """`postgresql://user:password@host:5432/crm`; empty: the CRM is read from the landing folders."""
    customers_table: str = DEFAULT_CUSTOMERS_TABLE
    orders_table: str = DEFAULT_ORDERS_TABLE
    statement_timeout_s: float = CrmDatabase.statement_timeout_s
    """A query running longer is cancelled, and the run fails naming the table."""
    connect_timeout_s: int = CrmDatabase.connect_timeout_s

    def database(self) -> CrmDatabase | None:
        if not self.url:
            return None
        return CrmDatabase(
            self.url, self.customers_table, self.orders_table, self.statement_timeout_s, self.connect_timeout_s
        )


def crm_database_resource() -> CrmDatabaseResource:
    """Read from the database whose URL is in the environment, if there is one (as an `EnvVar`: shown by name only)."""
    if os.environ.get(CRM_DATABASE_URL_ENV):
        return CrmDatabaseResource(url=dg.EnvVar(CRM_DATABASE_URL_ENV))
    return CrmDatabaseResource()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"ingest": IngestResource(), "crm_database": crm_database_resource()})
