"""I/O: the transport (the client's only aiohttp importer) and the bridge for blocking callers."""
