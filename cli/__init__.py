"""The terminal face: the `newsdesk` command."""
