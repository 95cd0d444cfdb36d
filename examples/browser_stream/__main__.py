"""``python -m examples.browser_stream [--local]``."""

from .app import main

main()
