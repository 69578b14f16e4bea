from django.urls import path

from api.views import webhooks

urlpatterns = [
    path("webhooks/event-types", webhooks.WebhookEventTypeListView.as_view(), name="webhook-event-types"),
    path("webhooks/subscriptions", webhooks.WebhookSubscriptionListView.as_view(), name="webhook-subscriptions"),
    path("webhooks/subscriptions/<int:subscription_id>", webhooks.WebhookSubscriptionDetailView.as_view(), name="webhook-subscription"),
    path(
        "webhooks/subscriptions/<int:subscription_id>/rotate-secret",
        webhooks.WebhookSecretRotateView.as_view(),
        name="webhook-subscription-rotate-secret",
    ),
    path("webhooks/subscriptions/<int:subscription_id>/deliveries", webhooks.WebhookDeliveryListView.as_view(), name="webhook-deliveries"),
    path("webhooks/subscriptions/<int:subscription_id>/ping", webhooks.WebhookPingView.as_view(), name="webhook-subscription-ping"),
]
