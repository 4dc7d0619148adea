"""The operator surface of a worker: health, metrics and a JSON API on its own port."""
