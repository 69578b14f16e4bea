"""Signals other apps listen to. Sent after commit, so a receiver never sees a rolled-back write.

`absence_reported(sender, absence_note_id: int, student_id: int, dates: list[date])`:
a guardian reported a child away on each of `dates` (every calendar day of the
note, in the school's local calendar; receivers keep the days that matter to them).
"""

from django.dispatch import Signal

absence_reported = Signal()

# `student_left(sender, leaver_id: int, student_id: int, leaving_on: date, by_user_id: int)`: the
# leaving day of a student came (guardians/leavers.py). Sent outside any transaction: each receiver
# makes its own (cards close, balances and fees go back to the families) and must be safe to run
# again, since a failed run is repeated by the next sweep.
student_left = Signal()

# `student_deidentify(sender, leaver_id: int, student_id: int)`: the retention period of a leaver
# ended (guardians/retention.py). Sent inside the transaction that de-identifies the student, so the
# receivers' blanking of what their app holds about the child commits or rolls back with it.
student_deidentify = Signal()
