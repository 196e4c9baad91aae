"""Compatibility layers for code written against other tracking libraries."""
