"""The weekly journal: one entry per intern per week of the placement, with a
reflection, tasks (hours, objectives) and evidence.

States: draft → submitted → approved, or submitted → changes requested → submitted.
An approved entry is locked; correcting it makes a new revision, which needs approval
again, while the approved one stays readable.
"""
