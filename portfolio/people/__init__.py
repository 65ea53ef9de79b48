"""People, courses and memberships.

A person belongs to one LMS platform (keyed by the platform's ``sub``) or, for a
workplace supervisor without an LMS account, to none. Each course membership carries
exactly one role of this product; LMS role URIs never get past the LTI boundary.
"""
