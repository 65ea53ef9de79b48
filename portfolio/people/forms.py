from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired

LANGUAGES = [("", _l("As in my LMS")), ("en", "English"), ("es", "Español"), ("fr", "Français"),
             ("de", "Deutsch"), ("zh_Hans", "简体中文")]


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=LANGUAGES, default="")
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(tz, tz.replace("_", " ")) for tz in sorted(available_timezones())]
        if not self.timezone.data:
            self.timezone.data = "UTC"
