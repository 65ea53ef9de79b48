"""Placements: where, when and in which time zone an intern works. One per intern per
course; its dates, read in the intern's time zone at the host, give the journal weeks."""
