"""Assessment as SIMS-style tracking models it: subjects; aspects with grade sets of ordered,
pointed grades; results per pupil, aspect and date; targets per pupil and subject; and progress
against the flight path from baseline to target."""
