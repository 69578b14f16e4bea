from django.apps import AppConfig


class CanteenConfig(AppConfig):
    name = "canteen"

    def ready(self):
        # guardians cannot import canteen (dependency direction), so it announces absences by signal.
        try:
            from guardians.signals import absence_reported
        except ImportError:  # absence notes not installed yet
            return
        from canteen.receivers import cancel_orders_for_absence

        absence_reported.connect(cancel_orders_for_absence, dispatch_uid="canteen_cancel_orders_for_absence")
