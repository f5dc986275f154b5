"""Notifications to staff: what makes one (`making`: the events of a change, the time-limit
worker), delivered from the outbox to the recipients' inboxes and, as each user chose, as copies by
e-mail or SMS; and what a user does with their own (`inbox`: the bell, the list, mark read,
preferences)."""
