# Two branches each added a 0004: the opening-balance account kind and card acceptance. They touch
# different tables; this only joins the histories.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0004_account_kind_opening_balance"),
        ("wallet", "0004_card_acceptance_and_merchant_categories"),
    ]

    operations = []
