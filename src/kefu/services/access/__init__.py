"""Who may do what and see what: accounts, sessions and tokens, permissions, data scope."""
