"""Administration for a platform's admins, without a shell: the courses of their platform
and how long each keeps its data, the outbox of mails and scores waiting or failed, and
the audit trail. An admin is a member with the admin role in any course of the platform
and answers for every course of it; the ``admin`` CLI group does the same from a shell."""
