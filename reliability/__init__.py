"""Hardening tools run by `make fuzz`, `make chaos` and `make load`; figures go to docs/reliability.md."""
