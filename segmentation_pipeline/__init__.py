"""Customer segmentation pipeline: validated CRM, survey and usage data in, RFM and behavioural segments out."""

__version__ = "0.1.0"
