from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portfolio.journal.operations import MAX_TASK_HOURS, TaskData

MAX_TASKS = 30


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class HoursField(StringField):
    """Hours as typed ("7.5", "7,5"); a decimal between 0 and 80, quarter hours allowed."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.decimal = None
        text = (self.data or "").strip().replace(",", ".")
        if text:
            try:
                self.decimal = Decimal(text)
            except InvalidOperation:
                self.decimal = None

    def pre_validate(self, form):
        text = (self.data or "").strip()
        if not text:
            return
        if self.decimal is None or not self.decimal.is_finite():
            raise ValidationError(_l("Enter hours as a number, for example 7.5."))
        if not (Decimal(0) < self.decimal <= MAX_TASK_HOURS):
            raise ValidationError(_l("Between 0 and 80 hours."))
        if (self.decimal * 4) % 1:
            raise ValidationError(_l("Use quarter hours at most (for example 1.25)."))


class TaskForm(Form):
    description = TextAreaField(_l("What did you do?"), validators=[Optional(), Length(max=2000)])
    hours = HoursField(_l("Hours"))
    objectives = CheckboxList(_l("Objectives this task served"), coerce=int, validate_choice=True)

    def to_data(self) -> TaskData:
        return TaskData(description=self.description.data or "", hours=self.hours.decimal,
                        objective_ids=list(self.objectives.data or []))


class EntryForm(FlaskForm):
    reflection = TextAreaField(_l("Reflection"), validators=[Optional(), Length(max=20000)])
    tasks = FieldList(FormField(TaskForm), min_entries=1, max_entries=MAX_TASKS)

    def set_objective_choices(self, choices: list[tuple[int, str]]) -> None:
        for task in self.tasks:
            task.objectives.choices = choices

    def task_data(self) -> list[TaskData]:
        return [task.form.to_data() for task in self.tasks]

    def require_complete(self) -> bool:
        """The rules for submitting, each message next to its field; True when none fails."""
        ok = True
        if not (self.reflection.data or "").strip():
            self.reflection.errors = [*self.reflection.errors, _l("Write a reflection on the week.")]
            ok = False
        filled = [t for t in self.tasks if not t.form.to_data().is_blank]
        if not filled:
            first = self.tasks[0].form.description
            first.errors = [*first.errors, _l("Add at least one task.")]
            return False
        for task in filled:
            form = task.form
            if not (form.description.data or "").strip():
                form.description.errors = [*form.description.errors, _l("Describe the task.")]
                ok = False
            if form.hours.decimal is None and not form.hours.errors:
                form.hours.errors = [*form.hours.errors, _l("Enter the hours.")]
                ok = False
            if not form.objectives.data:
                form.objectives.errors = [*form.objectives.errors, _l("Choose at least one objective.")]
                ok = False
        return ok


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("Comment for the intern"), validators=[Optional(), Length(max=5000)])
