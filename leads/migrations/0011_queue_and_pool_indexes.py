# The rep's queue and the pool, a page at a time (see the comments on Lead.Meta.indexes).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0010_lead_search_and_filter_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(models.F('owner'), models.Case(models.When(first_touch_at__isnull=True, then=models.F('sla_due_at'))), models.F('created_at'), models.F('id'), condition=models.Q(('status__in', ['assigned', 'accepted', 'contacted', 'qualified'])), name='lead_queue_order'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('owner__isnull', True), ('pool__isnull', False)), fields=['pool', 'created_at', 'id'], name='lead_pool_waiting'),
        ),
    ]
