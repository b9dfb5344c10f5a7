"""Engage: the web application and the domain (accounts, organisations, proposals)."""

__version__ = "0.1.0"
