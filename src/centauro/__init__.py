"""Centauro: a self-hosted bulk-SMS gateway for the CentauroSMS v1.2 API."""

__version__ = "0.1.0"
