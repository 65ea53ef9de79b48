from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portfolio.grading.models import Rubric
from portfolio.grading.operations import MAX_LEVELS, MAX_POINTS, TEXT_LENGTH, TITLE_LENGTH, LevelData


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PointsField(StringField):
    """Points as typed ("2.5", "2,5"): a number from 0, with at most two decimals."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.decimal = None
        text = (self.data or "").strip().replace(",", ".")
        if text:
            try:
                self.decimal = Decimal(text)
            except InvalidOperation:
                self.decimal = None

    def process_data(self, value):
        if value is None or isinstance(value, str):
            super().process_data(value)
            return
        super().process_data(f"{Decimal(str(value)).normalize():f}")

    def pre_validate(self, form):
        text = (self.data or "").strip()
        if not text:
            return
        if self.decimal is None or not self.decimal.is_finite():
            raise ValidationError(_l("Enter the points as a number, for example 2.5."))
        if self.decimal < 0:
            raise ValidationError(_l("Points cannot be negative."))
        if self.decimal > MAX_POINTS:
            raise ValidationError(_l("At most %(max)s points.", max=MAX_POINTS))
        if (self.decimal * 100) % 1:
            raise ValidationError(_l("Use at most two decimals."))


class LevelForm(Form):
    level_id = HiddenField()
    title = StringField(_l("Level"), filters=[_strip], validators=[
        Length(max=TITLE_LENGTH, message=_l("At most %(max)d characters.", max=TITLE_LENGTH))])
    description = TextAreaField(_l("What it looks like"), filters=[_strip], validators=[
        Length(max=TEXT_LENGTH, message=_l("At most %(max)d characters.", max=TEXT_LENGTH))])
    points = PointsField(_l("Points"))

    @property
    def is_blank(self) -> bool:
        return not (self.title.data or self.description.data or (self.points.data or "").strip())


class CriterionForm(FlaskForm):
    title = StringField(_l("Criterion"), filters=[_strip], validators=[
        DataRequired(_l("Enter a title for the criterion.")),
        Length(max=TITLE_LENGTH, message=_l("At most %(max)d characters.", max=TITLE_LENGTH))])
    description = TextAreaField(_l("Description"), filters=[_strip], validators=[
        Length(max=TEXT_LENGTH, message=_l("At most %(max)d characters.", max=TEXT_LENGTH))])
    levels = FieldList(FormField(LevelForm), min_entries=1, max_entries=MAX_LEVELS)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.level_problems: list[str] = []
        filled = [entry.form for entry in self.levels if not entry.form.is_blank]
        if not filled:
            self.level_problems.append(_l("A criterion needs at least one level: give it a title and points."))
            return False
        for level in filled:
            if not level.title.data:
                level.title.errors = [*level.title.errors, _l("Enter a title for the level.")]
                ok = False
            if not (level.points.data or "").strip():
                level.points.errors = [*level.points.errors, _l("Enter the points, 0 or more.")]
                ok = False
        return ok

    def level_data(self) -> list[LevelData]:
        result = []
        for entry in self.levels:
            level = entry.form
            if level.is_blank:
                continue
            raw = (level.level_id.data or "").strip()
            result.append(LevelData(id=int(raw) if raw.isdigit() else None, title=level.title.data,
                                    description=level.description.data or "", points=level.points.decimal))
        return result


def criterion_data(form: CriterionForm) -> dict:
    """What the form holds, to build it again in another order (reordering keeps the names in order)."""
    return {"title": form.title.data, "description": form.description.data,
            "levels": [{"level_id": e.form.level_id.data, "title": e.form.title.data,
                        "description": e.form.description.data, "points": e.form.points.data}
                       for e in form.levels]}


class ConfirmForm(FlaskForm):
    """A button behind a confirmation: the CSRF token is all it carries."""


class GradeFormBase(FlaskForm):
    comment = TextAreaField(_l("Overall comment"), filters=[_strip], validators=[
        Optional(), Length(max=TEXT_LENGTH, message=_l("At most %(max)d characters.", max=TEXT_LENGTH))])

    rubric: Rubric

    def level_field(self, criterion):
        return self[f"level_{criterion.id}"]

    def feedback_field(self, criterion):
        return self[f"feedback_{criterion.id}"]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for criterion in self.rubric.criteria:
            field = self.level_field(criterion)
            if field.data is not None and field.data not in {level.id for level in criterion.levels}:
                field.errors = [*field.errors, _l("Choose one of the levels.")]
                ok = False
        return ok

    def levels(self) -> dict[int, int | None]:
        return {c.id: self.level_field(c).data for c in self.rubric.criteria}

    def feedback(self) -> dict[int, str]:
        return {c.id: self.feedback_field(c).data or "" for c in self.rubric.criteria}


def _level_id(value):
    if value in (None, ""):
        return None
    return int(value)


def grade_form(rubric: Rubric, grade=None) -> GradeFormBase:
    """A form with one group of radio buttons and one feedback box per criterion of the rubric."""
    fields = {"rubric": rubric}
    for criterion in rubric.criteria:
        fields[f"level_{criterion.id}"] = RadioField(
            criterion.title, coerce=_level_id, validate_choice=False,
            choices=[(level.id, level.title) for level in criterion.levels])
        fields[f"feedback_{criterion.id}"] = TextAreaField(
            _l("Feedback on %(criterion)s", criterion=criterion.title), filters=[_strip],
            validators=[Optional(), Length(max=TEXT_LENGTH, message=_l("At most %(max)d characters.",
                                                                        max=TEXT_LENGTH))])
    form_class = type("GradeForm", (GradeFormBase,), fields)
    data = None
    if grade is not None:
        data = {"comment": grade.comment}
        for mark in grade.marks:
            data[f"level_{mark.criterion_id}"] = mark.level_id
            data[f"feedback_{mark.criterion_id}"] = mark.feedback
    return form_class(data=data)
