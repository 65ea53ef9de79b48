"""Personal data and its lifecycle: the privacy notice each intern and supervisor
acknowledges once, the export of everything the tool holds about one person, erasure
(pseudonymisation of what others still need, deletion of the rest), and retention per
course: portfolios are archived after the course ends, then the course's personal data
goes. A data protection officer answers an access or erasure request from the admin
pages or the ``privacy`` CLI group."""
