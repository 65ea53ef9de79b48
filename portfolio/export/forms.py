from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, StringField
from wtforms.validators import Length, Optional, Regexp

from portfolio.export.models import Scope

SHA256 = re.compile(r"^\s*[0-9a-fA-F]{64}\s*$")


class ExportForm(FlaskForm):
    scope = RadioField(_l("What to include"), default=Scope.everything.value, choices=[
        (Scope.everything.value, _l("Everything: every week written, in its newest revision")),
        (Scope.approved.value, _l("Approved weeks only")),
    ])


class VerifyForm(FlaskForm):
    document = FileField(_l("The PDF document"))
    sha256 = StringField(_l("…or its SHA-256 checksum"), validators=[
        Optional(), Length(max=80), Regexp(SHA256, message=_l("A SHA-256 checksum is 64 characters 0–9 and a–f."))])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.document.data and not (self.sha256.data or "").strip():
            self.document.errors = [_l("Choose the PDF file, or paste its SHA-256 checksum.")]
            return False
        return True
