"""Customer segmentation pipeline: validated CRM, survey and usage data in, RFM and behavioural segments out."""

import warnings

__version__ = "0.1.0"

# PySpark warns at import that it "does not yet fully support pandas >= 3.0.0". Great Expectations imports PySpark
# whenever it is installed (the `spark` extra), whatever the engine; the Spark engine itself converts through Arrow
# only (toArrow, Arrow UDFs), never through pandas.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
