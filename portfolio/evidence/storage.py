"""Evidence files on disk: ``STORAGE_DIR/evidence/<aa>/<32 hex>``.

Names are random and chosen here; nothing a person typed ever becomes part of a path.
Revisions of an entry share their files, so a file goes only when no row names it.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from portfolio.db import db

_NAME = re.compile(r"[0-9a-f]{32}")


def _root() -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "evidence"


def path_for(stored_name: str) -> Path:
    """The file's path; only a name this module made is accepted."""
    if not isinstance(stored_name, str) or not _NAME.fullmatch(stored_name):
        raise ValueError("not a stored file name")
    return _root() / stored_name[:2] / stored_name


def save(data: bytes) -> str:
    """Write ``data`` under a new random name and return the name."""
    stored_name = secrets.token_hex(16)
    path = path_for(stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as file:  # "x": never overwrite, however unlikely a clash
        file.write(data)
    return stored_name


def delete_if_unreferenced(stored_name: str | None) -> bool:
    """Delete the file unless an Evidence row still names it (as file or thumbnail)."""
    from portfolio.evidence.models import Evidence

    if not stored_name:
        return False
    referenced = db.session.scalar(
        sa.select(
            sa.exists().where(sa.or_(Evidence.stored_name == stored_name, Evidence.thumbnail_name == stored_name))
        )
    )
    if referenced:
        return False
    path_for(stored_name).unlink(missing_ok=True)
    return True
