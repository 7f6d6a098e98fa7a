"""A client of the Pagewise API; the demo and the end-to-end tests both use it."""
