from rest_framework import serializers

from guardians.leavers_models import LeaverReason


class StudentLeaverInput(serializers.Serializer):
    leaving_on = serializers.DateField(help_text="The first school day the student is no longer at the school (school-local).")
    reason = serializers.ChoiceField(choices=LeaverReason.choices, default=LeaverReason.OTHER)


class StudentLeaverOutput(serializers.Serializer):
    id = serializers.IntegerField()
    student_id = serializers.IntegerField()
    leaving_on = serializers.DateField()
    reason = serializers.ChoiceField(choices=LeaverReason.choices)
    status = serializers.SerializerMethodField(
        help_text="scheduled (the leaving day is ahead), left (card closed, balance returned, orders and sign-ups "
        "cancelled), deidentified (past the retention period), undone."
    )
    marked_at = serializers.DateTimeField()
    marked_by_user_id = serializers.IntegerField(source="marked_by_id")
    processed_at = serializers.DateTimeField(allow_null=True)
    undone_at = serializers.DateTimeField(allow_null=True)
    retain_until = serializers.DateField(help_text="Personal data is de-identified on or after this day (docs/privacy.md).")
    deidentified_at = serializers.DateTimeField(allow_null=True)

    def get_status(self, leaver) -> str:
        if leaver.undone_at is not None:
            return "undone"
        if leaver.deidentified_at is not None:
            return "deidentified"
        return "left" if leaver.processed_at is not None else "scheduled"
