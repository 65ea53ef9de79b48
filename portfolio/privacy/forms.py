from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional


class EraseForm(FlaskForm):
    """Erasure cannot be undone: the admin types the person's number to confirm."""

    confirm = StringField(_l("Type the person's number to confirm"), validators=[InputRequired()])

    def __init__(self, *args, person_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.person_id = person_id

    def validate_confirm(self, field):
        from wtforms.validators import ValidationError

        if (field.data or "").strip().lstrip("#") != str(self.person_id):
            raise ValidationError(_l("Type %(number)s to confirm the erasure.", number=self.person_id))


class RetentionForm(FlaskForm):
    keep_days = IntegerField(_l("Days to keep the data after the course ends"),
                             validators=[InputRequired(), NumberRange(min=0, max=36500)])
    course_end = DateField(_l("Course end (when the placements do not tell)"), validators=[Optional()])
