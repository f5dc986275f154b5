"""The channels through which customers reach kefu and hear from it: intake, calls, the portal, outgoing messages."""
