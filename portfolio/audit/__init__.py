"""The audit trail: an append-only record of every state change and sign-in."""
