"""Mail through the outbox: a message is written in the same transaction as the change
that causes it, then delivered (SMTP, or the sandbox mailbox when no SMTP is set) with
retries. A server that is down loses nothing; a message is delivered once."""
