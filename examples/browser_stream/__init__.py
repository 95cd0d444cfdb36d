"""Replicate's browser streaming example: a page whose EventSource prints a prediction's
tokens as they arrive (see README.md beside this file)."""
