from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portfolio.placements.countries import country_choices
from portfolio.placements.operations import PlacementData

WORK_LANGUAGES = [("", _l("Choose…")), ("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch"),
                  ("zh", "中文"), ("ja", "日本語"), ("ko", "한국어"), ("pt", "Português"), ("it", "Italiano"),
                  ("nl", "Nederlands"), ("ar", "العربية"), ("he", "עברית"), ("ru", "Русский"), ("hi", "हिन्दी"),
                  ("th", "ไทย"), ("other", _l("Another language"))]


class PlacementForm(FlaskForm):
    host_organisation = StringField(_l("Host organisation"), validators=[DataRequired(), Length(max=255)])
    country = SelectField(_l("Country"), validators=[DataRequired()])
    city = StringField(_l("City"), validators=[Optional(), Length(max=255)])
    start_date = DateField(_l("First day"), validators=[InputRequired(message=_l("Enter a date."))])
    end_date = DateField(_l("Last day"), validators=[InputRequired(message=_l("Enter a date."))])
    hours_per_week = DecimalField(_l("Expected hours per week"), places=2,
                                  validators=[DataRequired(message=_l("Enter a number of hours.")),
                                              NumberRange(min=1, max=80, message=_l("Between 1 and 80 hours."))])
    timezone = SelectField(_l("Time zone at the host"), validators=[DataRequired()])
    work_language = SelectField(_l("Language of work"), choices=WORK_LANGUAGES, validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("Choose…"))] + country_choices()
        self.timezone.choices = [(tz, tz.replace("_", " ")) for tz in sorted(available_timezones())]

    def validate_end_date(self, field):
        if self.start_date.data and field.data and field.data < self.start_date.data:
            raise ValidationError(_l("The last day cannot be before the first day."))
        if self.start_date.data and field.data and (field.data - self.start_date.data).days > 2 * 366:
            raise ValidationError(_l("A placement lasts two years at most."))

    def data_for_operation(self) -> PlacementData:
        return PlacementData(
            host_organisation=self.host_organisation.data.strip(), country=self.country.data,
            city=(self.city.data or "").strip(), start_date=self.start_date.data, end_date=self.end_date.data,
            hours_per_week=self.hours_per_week.data, timezone=self.timezone.data,
            work_language=self.work_language.data or "",
        )
