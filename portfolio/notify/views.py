"""Mail has no pages of its own: the outbox is delivered by ``notify.delivery`` and, in
the sandbox, read in the sandbox LMS's mailbox."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notify", __name__)
