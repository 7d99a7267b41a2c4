"""Named experiments, one or more per claim, registered for `lrkd sweep` and `lrkd report`."""
