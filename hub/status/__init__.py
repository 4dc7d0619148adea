"""Dossier statuses to the citizen profile (DOSIS) and notifications to Mijn Burgerprofiel."""
