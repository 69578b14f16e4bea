"""Service periods (recess, lunch, ...): every school gets a default period "Lunch" whose cut-off is
its existing canteen_cutoff (and late window its late_cutoff); existing menu items, orders and cut-off
runs join it, so what was one order per child and day is now one order per child, period and day."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F, Q

import core.clock


class Migration(migrations.Migration):
    dependencies = [
        ("canteen", "0002_order_allergen_alerts"),
        ("guardians", "0003_outbound_webhooks"),
    ]

    operations = [
        migrations.CreateModel(
            name="ServicePeriod",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=60)),
                ("cutoff", models.TimeField(help_text="School-local time orders for this period close on the day.")),
                ("late_cutoff", models.TimeField(blank=True, help_text="Late-menu items may be ordered until this local time.", null=True)),
                ("is_default", models.BooleanField(default=False)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(default=core.clock.now)),
                ("updated_at", models.DateTimeField(default=core.clock.now)),
                ("school", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="service_periods", to="guardians.school")),
            ],
            options={
                "ordering": ["cutoff", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("school", "name"), name="service_period_name_unique"),
                    models.UniqueConstraint(condition=Q(is_default=True), fields=("school",), name="one_default_period_per_school"),
                    models.CheckConstraint(
                        condition=Q(late_cutoff__isnull=True) | Q(late_cutoff__gt=F("cutoff")), name="service_period_late_after_cutoff"
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="menuitem",
            name="periods",
            field=models.ManyToManyField(blank=True, related_name="menu_items", to="canteen.serviceperiod"),
        ),
        migrations.AddField(
            model_name="order",
            name="period",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="orders", to="canteen.serviceperiod"),
        ),
        migrations.AddField(
            model_name="cutoffrun",
            name="period",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="canteen.serviceperiod"),
        ),
    ]
