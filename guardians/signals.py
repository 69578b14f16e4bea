"""Signals other apps listen to. Sent after commit, so a receiver never sees a rolled-back write.

`absence_reported(sender, absence_note_id: int, student_id: int, dates: list[date])`:
a guardian reported a child away on each of `dates` (every calendar day of the
note, in the school's local calendar; receivers keep the days that matter to them).
"""

from django.dispatch import Signal

absence_reported = Signal()
