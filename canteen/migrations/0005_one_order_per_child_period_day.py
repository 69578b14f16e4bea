"""Orders and cut-off runs now always have a period: one live order per child, period and day; one run per period."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Q

LIVE_ORDER_STATUSES = ["placed", "fulfilled", "not_collected"]


class Migration(migrations.Migration):
    dependencies = [("canteen", "0004_default_service_periods")]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="period",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="orders", to="canteen.serviceperiod"),
        ),
        migrations.AlterField(
            model_name="cutoffrun",
            name="period",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="canteen.serviceperiod"),
        ),
        migrations.RemoveConstraint(model_name="order", name="one_live_order_per_child_day"),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(
                condition=Q(status__in=LIVE_ORDER_STATUSES),
                fields=("student", "service_date", "period"),
                name="one_live_order_per_child_period_day",
            ),
        ),
        migrations.RemoveConstraint(model_name="cutoffrun", name="one_cutoff_run_per_school_day"),
        migrations.AddConstraint(
            model_name="cutoffrun",
            constraint=models.UniqueConstraint(fields=("school", "service_date", "period"), name="one_cutoff_run_per_school_period_day"),
        ),
    ]
