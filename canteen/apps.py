from django.apps import AppConfig


class CanteenConfig(AppConfig):
    name = "canteen"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from canteen import webhook_events  # noqa: F401 - registers the app's webhook event types
        from canteen.leavers import leaver_food_profile_deidentify, leaver_orders_cancel
        from canteen.models import FoodProfile, MenuItem
        from canteen.receivers import (
            cancel_orders_for_absence,
            recheck_orders_for_food_profile,
            recheck_orders_for_menu_item,
        )
        from guardians.signals import absence_reported, student_deidentify, student_left

        # guardians cannot import canteen (dependency direction), so it announces absences by signal.
        absence_reported.connect(cancel_orders_for_absence, dispatch_uid="canteen_cancel_orders_for_absence")
        student_left.connect(leaver_orders_cancel, dispatch_uid="canteen_leaver_orders_cancel")
        student_deidentify.connect(leaver_food_profile_deidentify, dispatch_uid="canteen_leaver_food_profile_deidentify")
        post_save.connect(recheck_orders_for_food_profile, sender=FoodProfile, dispatch_uid="canteen_food_profile_saved")
        post_delete.connect(recheck_orders_for_food_profile, sender=FoodProfile, dispatch_uid="canteen_food_profile_deleted")
        post_save.connect(recheck_orders_for_menu_item, sender=MenuItem, dispatch_uid="canteen_menu_item_saved")
