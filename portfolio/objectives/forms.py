from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation

from portfolio.objectives.importers import (
    AREA_LENGTH, CODE_LENGTH, DESCRIPTION_LENGTH, MAX_TARGET, TITLE_LENGTH,
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ObjectiveForm(FlaskForm):
    code = StringField(_l("Code"), filters=[_strip], validators=[
        DataRequired(_l("Enter a code, such as A.1.")),
        Length(max=CODE_LENGTH, message=_l("At most %(max)d characters.", max=CODE_LENGTH)),
    ])
    title = StringField(_l("Title"), filters=[_strip], validators=[
        DataRequired(_l("Enter a title.")),
        Length(max=TITLE_LENGTH, message=_l("At most %(max)d characters.", max=TITLE_LENGTH)),
    ])
    description = TextAreaField(_l("Description"), filters=[_strip], validators=[
        Length(max=DESCRIPTION_LENGTH, message=_l("At most %(max)d characters.", max=DESCRIPTION_LENGTH)),
    ])
    area = StringField(_l("Competency area (optional)"), filters=[_strip], validators=[
        Length(max=AREA_LENGTH, message=_l("At most %(max)d characters.", max=AREA_LENGTH)),
    ])
    target = IntegerField(_l("Target"), default=3)

    def validate_target(self, field):
        if field.data is None or not 1 <= field.data <= MAX_TARGET:
            field.errors.clear()  # one clear message instead of WTForms' generic one plus ours
            raise StopValidation(_l("Enter a whole number from 1 to %(max)d.", max=MAX_TARGET))

    def values(self) -> dict:
        return {"code": self.code.data, "title": self.title.data, "description": self.description.data or "",
                "area": self.area.data or None, "target": self.target.data}


class ImportForm(FlaskForm):
    format = SelectField(_l("Format"), default="csv", choices=[
        ("csv", _l("CSV (code, title, description, area, target, retired)")),
        ("matrix", _l("Mahara SmartEvidence (.matrix)")),
    ])
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to import."))])
