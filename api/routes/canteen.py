from django.urls import path

from api.views import canteen_menu, canteen_orders

urlpatterns = [
    path("canteen/settings", canteen_menu.CanteenSettingsView.as_view(), name="canteen-settings"),
    path("canteen/periods", canteen_menu.ServicePeriodListView.as_view(), name="canteen-periods"),
    path("canteen/periods/<int:period_id>", canteen_menu.ServicePeriodDetailView.as_view(), name="canteen-period"),
    path("canteen/menu-items", canteen_menu.MenuItemListView.as_view(), name="canteen-menu-items"),
    path("canteen/menu-items/<int:item_id>", canteen_menu.MenuItemDetailView.as_view(), name="canteen-menu-item"),
    path("canteen/reminders", canteen_menu.ReminderPreferenceView.as_view(), name="canteen-reminders"),
    path("canteen/orders/<int:order_id>", canteen_orders.OrderDetailView.as_view(), name="canteen-order"),
    path("canteen/orders/<int:order_id>/cancel", canteen_orders.OrderCancelView.as_view(), name="canteen-order-cancel"),
    path("canteen/orders/<int:order_id>/refund", canteen_orders.StaffOrderRefundView.as_view(), name="canteen-order-refund"),
    path("canteen/orders/<int:order_id>/collect", canteen_orders.StaffOrderCollectView.as_view(), name="canteen-order-collect"),
    path("canteen/prep-list", canteen_orders.PrepListView.as_view(), name="canteen-prep-list"),
    path("canteen/prep-list.csv", canteen_orders.PrepListCsvView.as_view(), name="canteen-prep-list-csv"),
    path("canteen/labels.pdf", canteen_orders.LabelsPdfView.as_view(), name="canteen-labels"),
    path("canteen/days/close", canteen_orders.DayCloseView.as_view(), name="canteen-day-close"),
    path("students/<int:student_id>/food-profile", canteen_menu.FoodProfileView.as_view(), name="food-profile"),
    path("students/<int:student_id>/menu", canteen_menu.StudentMenuView.as_view(), name="student-menu"),
    path("students/<int:student_id>/orders", canteen_orders.StudentOrderListView.as_view(), name="student-orders"),
    path("terminal/canteen/sales", canteen_orders.CounterSaleView.as_view(), name="terminal-canteen-sales"),
]
