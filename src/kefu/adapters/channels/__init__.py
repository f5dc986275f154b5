"""Channel adapters: the protocols customers use, turned into the intake's `Inbound` and back."""
