"""The cohort at a glance: every intern of a course with their progress, for advisors."""
