"""One module per API namespace. Each method builds a request (pure), hands it to the
transport, and structures the answer with the one cattrs converter."""
