from django.urls import path

from api.views import payments, saved_cards

urlpatterns = [
    path("wallet/topups/quote", payments.TopUpQuoteView.as_view(), name="topup-quote"),
    path("wallet/topups", payments.TopUpListView.as_view(), name="topup-list"),
    path("wallet/topups/<int:topup_id>", payments.TopUpDetailView.as_view(), name="topup-detail"),
    path("wallet/topups/<int:topup_id>/simulate", payments.TopUpSimulateView.as_view(), name="topup-simulate"),
    path("wallet/refunds", payments.WalletRefundView.as_view(), name="wallet-refunds"),
    path("wallet/payment-method", saved_cards.SavedCardView.as_view(), name="payment-method"),
    path("wallet/payment-method/setup", payments.PaymentMethodSetupView.as_view(), name="payment-method-setup"),
    path("wallet/auto-topup", payments.AutoTopUpView.as_view(), name="auto-topup"),
    path("webhooks/stripe", payments.StripeWebhookView.as_view(), name="stripe-webhook"),
]
