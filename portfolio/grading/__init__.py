"""Assessment: each course's rubric (criteria with levels and points), the advisor's
grade of each intern's portfolio against it, kept as a draft until released, and the
delivery of released grades to the LMS gradebook through an outbox of scores."""
