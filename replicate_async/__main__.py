"""``python -m replicate_async``: the ``replicate-async`` command line."""

from .cli import main

if __name__ == "__main__":
    main()
