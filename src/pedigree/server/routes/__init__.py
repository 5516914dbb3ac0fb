"""API routes, one module per area; each stays thin: check the caller, call the store,
shape the answer through ``pedigree.server.views``."""
