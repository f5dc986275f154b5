"""The work order itself: registration, lifecycle moves, notes, links; reading and listing."""
