"""Population register (Rijksregister) through MAGDA: certificates for ``population.attest``."""

from adapters.population.adapter import PopulationAdapter

__all__ = ["PopulationAdapter"]
