"""Prosecutorial-discretion (PD) closure rates from the EOIR immigration-court case data."""

__version__ = "0.1.0"
