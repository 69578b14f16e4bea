import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import core.clock


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0005_merge_opening_balance_and_card_acceptance"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField(model_name="terminal", old_name="last_seen_at", new_name="last_used_at"),
        migrations.AddField(model_name="terminal", name="key_rotated_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.CreateModel(
            name="MerchantAdministrator",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(default=core.clock.now)),
                (
                    "merchant",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="administrators", to="wallet.merchant"),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="merchant_admin", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
        ),
    ]
