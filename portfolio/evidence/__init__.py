"""Evidence files attached to journal entries: checked by their content, stored under
random names, served only as downloads to people who may see the entry."""
