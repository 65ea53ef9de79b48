from __future__ import annotations

from flask import Blueprint

bp = Blueprint("journal", __name__)
