"""Time limits (SLA): the clocks of work orders, their administration, and the timers that fire them."""
