"""Assessment as SIMS-style tracking models it: subjects; aspects with grade sets of ordered,
pointed grades; results per pupil, aspect and date; targets per pupil and subject; and progress
against the flight path from baseline to target. The school's calendar of assessment points and
their locks is ``calendar``; which grades count as expected and greater depth, ``standards``;
results from a spreadsheet (staged, previewed, imported all or nothing), ``uploads``."""
