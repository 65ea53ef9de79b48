"""Supervisor sign-off. A workplace supervisor, usually without a university account,
is invited by email and signs in through a single-use link (stored only as a hash; a
GET only shows a confirmation page, signing in takes a POST). Mentors launched from the
LMS see the interns they mentor. Each decision on a submitted week records who, when,
and a hash of exactly the content approved; one decision per submission, whoever
clicks first."""
