"""Organisations, teams, agents and reference data (the category tree, the starting organisation)."""
