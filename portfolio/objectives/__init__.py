"""Learning objectives: a course's framework of what an internship should achieve.

Advisors define objectives once per course (code, title, description, an optional
competency area, and a target: how many approved tasks count as covered), reuse them
next term by copying, or bring them from CSV or a Mahara SmartEvidence ``.matrix``.
An objective that a task uses is never deleted, only retired.
"""
