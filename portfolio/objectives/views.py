from __future__ import annotations

from flask import Blueprint

bp = Blueprint("objectives", __name__)
