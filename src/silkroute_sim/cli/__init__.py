"""The ``silkroute`` command: one module per command; parses, calls the API, prints."""
