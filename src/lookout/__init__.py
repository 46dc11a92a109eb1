"""Lookout: a shared maritime domain awareness network."""

__version__ = "0.1.0"
