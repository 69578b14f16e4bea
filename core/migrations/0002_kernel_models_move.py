"""Notifications and outbound webhooks move from guardians into the kernel (core), keeping their tables.

State only, but for the schools: a subscription or event now names its school by id, as it already
named its program, so the kernel keeps no foreign key into an app above it. Pending outbox jobs and
content types follow the renamed tasks and models.
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import core.clock

DROP_SCHOOL_FOREIGN_KEYS = """
DO $$
DECLARE fk record;
BEGIN
    FOR fk IN
        SELECT conname, conrelid::regclass AS tbl FROM pg_constraint
        WHERE contype = 'f' AND confrelid = 'guardians_school'::regclass
          AND conrelid IN ('guardians_webhooksubscription'::regclass, 'guardians_webhookevent'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;
END $$;
ALTER TABLE guardians_webhooksubscription ADD CONSTRAINT guardians_webhooksubscription_school_id_check CHECK (school_id >= 0);
ALTER TABLE guardians_webhookevent ADD CONSTRAINT guardians_webhookevent_school_id_check CHECK (school_id >= 0);
"""

RENAME_TASKS_AND_CONTENT_TYPES = """
UPDATE core_outboxjob SET task = 'core.tasks.' || substring(task FROM length('core.tasks.') + 1)
WHERE task LIKE 'core.tasks.%';
UPDATE django_content_type SET app_label = 'core'
WHERE app_label = 'guardians'
  AND model IN ('notification', 'notificationpreference', 'webhooksubscription', 'webhookevent',
                'webhookdelivery', 'webhookdeliveryattempt')
  AND NOT EXISTS (SELECT 1 FROM django_content_type moved WHERE moved.app_label = 'core'
                  AND moved.model = django_content_type.model);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_outbox'),
        ('guardians', '0004_kernel_models_move'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='WebhookEvent',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('type', models.CharField(max_length=60)),
                        ('school_id', models.PositiveBigIntegerField(blank=True, null=True)),
                        ('program_id', models.PositiveBigIntegerField(blank=True, null=True)),
                        ('data', models.JSONField(default=dict)),
                        ('created_at', models.DateTimeField(default=core.clock.now)),
                    ],
                    options={
                        'db_table': 'guardians_webhookevent',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookSubscription',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('school_id', models.PositiveBigIntegerField(blank=True, help_text='A guardians.School id.', null=True)),
                        ('program_id', models.PositiveBigIntegerField(blank=True, help_text='A vouchers.Program id.', null=True)),
                        ('url', models.URLField(max_length=500)),
                        ('description', models.CharField(blank=True, max_length=200)),
                        ('event_types', models.JSONField(default=list)),
                        ('secret', models.CharField(max_length=80)),
                        ('previous_secret', models.CharField(blank=True, max_length=80)),
                        ('previous_secret_expires_at', models.DateTimeField(blank=True, null=True)),
                        ('is_active', models.BooleanField(default=True)),
                        ('disabled_at', models.DateTimeField(blank=True, null=True)),
                        ('disabled_reason', models.CharField(blank=True, choices=[('gone', 'The endpoint answered 410 Gone'), ('by_user', 'Paused by its owner')], max_length=20)),
                        ('created_at', models.DateTimeField(default=core.clock.now)),
                        ('updated_at', models.DateTimeField(default=core.clock.now)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'guardians_webhooksubscription',
                        'ordering': ['-id'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='pending', max_length=10)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('response_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('response_body_excerpt', models.CharField(blank=True, max_length=500)),
                        ('last_error', models.CharField(blank=True, max_length=300)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(default=core.clock.now)),
                        ('event', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='core.webhookevent')),
                        ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='core.webhooksubscription')),
                    ],
                    options={
                        'db_table': 'guardians_webhookdelivery',
                        'ordering': ['-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=40)),
                        ('title', models.CharField(max_length=200)),
                        ('body', models.TextField(blank=True)),
                        ('data', models.JSONField(blank=True, default=dict)),
                        ('dedupe_key', models.CharField(blank=True, max_length=200, null=True)),
                        ('created_at', models.DateTimeField(default=core.clock.now)),
                        ('read_at', models.DateTimeField(blank=True, null=True)),
                        ('emailed_at', models.DateTimeField(blank=True, null=True)),
                        ('pushed_at', models.DateTimeField(blank=True, null=True)),
                        ('email_body', models.TextField(blank=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'guardians_notification',
                        'ordering': ['-id'],
                        'indexes': [models.Index(fields=['user', '-id'], name='notification_feed_idx'), models.Index(condition=models.Q(('read_at__isnull', True)), fields=['user'], name='notification_unread_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('dedupe_key__isnull', False)), fields=('user', 'dedupe_key'), name='notification_dedupe')],
                    },
                ),
                migrations.CreateModel(
                    name='NotificationPreference',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=40)),
                        ('by_email', models.BooleanField(default=True)),
                        ('updated_at', models.DateTimeField(default=core.clock.now)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notification_preferences', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'guardians_notificationpreference',
                        'ordering': ['kind'],
                        'constraints': [models.UniqueConstraint(fields=('user', 'kind'), name='notification_preference_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookDeliveryAttempt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveSmallIntegerField()),
                        ('started_at', models.DateTimeField(default=core.clock.now)),
                        ('duration_ms', models.PositiveIntegerField(default=0)),
                        ('response_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('response_body_excerpt', models.CharField(blank=True, max_length=500)),
                        ('error', models.CharField(blank=True, max_length=300)),
                        ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempt_log', to='core.webhookdelivery')),
                    ],
                    options={
                        'db_table': 'guardians_webhookdeliveryattempt',
                        'ordering': ['delivery_id', 'number'],
                        'constraints': [models.UniqueConstraint(fields=('delivery', 'number'), name='webhook_attempt_number_unique')],
                    },
                ),
                migrations.AddIndex(
                    model_name='webhooksubscription',
                    index=models.Index(condition=models.Q(('is_active', True)), fields=['school_id'], name='webhook_sub_school_active_idx'),
                ),
                migrations.AddIndex(
                    model_name='webhooksubscription',
                    index=models.Index(condition=models.Q(('is_active', True)), fields=['program_id'], name='webhook_sub_program_active_idx'),
                ),
                migrations.AddConstraint(
                    model_name='webhooksubscription',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('school_id__isnull', False), ('program_id__isnull', True)), models.Q(('school_id__isnull', True), ('program_id__isnull', False)), _connector='OR'), name='webhook_subscription_one_tenant'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(condition=models.Q(('status', 'pending')), fields=['next_attempt_at'], name='webhook_delivery_due_idx'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(fields=['subscription', '-id'], name='webhook_delivery_sub_idx'),
                ),
                migrations.AddConstraint(
                    model_name='webhookdelivery',
                    constraint=models.UniqueConstraint(fields=('event', 'subscription'), name='webhook_delivery_once_per_subscription'),
                ),
            ],
            database_operations=[migrations.RunSQL(DROP_SCHOOL_FOREIGN_KEYS, reverse_sql=migrations.RunSQL.noop)],
        ),
        migrations.RunSQL(RENAME_TASKS_AND_CONTENT_TYPES, reverse_sql=migrations.RunSQL.noop),
    ]
