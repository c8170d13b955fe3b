from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ProofUse",
            fields=[
                ("digest", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("method", models.CharField(max_length=32)),
                ("expires_at", models.DateTimeField(db_index=True)),
                ("used_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
