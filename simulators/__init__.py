"""Simulated government back ends that speak the same WSDL/SOAP and REST as the real ones."""
