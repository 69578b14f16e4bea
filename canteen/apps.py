from django.apps import AppConfig


class CanteenConfig(AppConfig):
    name = "canteen"

    def ready(self):
        # guardians cannot import canteen (dependency direction), so it announces absences by signal.
        from canteen.receivers import cancel_orders_for_absence
        from guardians.signals import absence_reported

        absence_reported.connect(cancel_orders_for_absence, dispatch_uid="canteen_cancel_orders_for_absence")
