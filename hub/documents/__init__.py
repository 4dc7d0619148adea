"""Documents: render a certificate model and sign it."""
