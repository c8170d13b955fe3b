"""Search documents (one per served latest version) and embeddings keyed by content hash."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('discovery', '0001_initial'),
        ('registry', '0004_index_rows_bounded'),
    ]

    operations = [
        migrations.CreateModel(
            name='SearchDocument',
            fields=[
                ('server_version', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_document', serialize=False, to='registry.serverversion')),
                ('name', models.CharField(db_index=True, max_length=200)),
                ('title', models.TextField(blank=True)),
                ('description', models.TextField(blank=True)),
                ('packages', models.TextField(blank=True)),
                ('hosts', models.TextField(blank=True)),
                ('repository', models.TextField(blank=True)),
                ('tools', models.TextField(blank=True, help_text='tool names and descriptions (inventory)')),
                ('keys', models.JSONField(default=list, help_text='exact-match keys: name, package ids')),
                ('registry_types', models.JSONField(default=list)),
                ('transports', models.JSONField(default=list)),
                ('has_remote', models.BooleanField(default=False)),
                ('has_package', models.BooleanField(default=False)),
                ('namespace', models.CharField(max_length=200)),
                ('content_hash', models.CharField(help_text='sha256 of every field above', max_length=64)),
                ('embed_hash', models.CharField(db_index=True, help_text='sha256 of the embedded text (Embedding.content_hash)', max_length=64)),
                ('updated_at', models.DateTimeField(auto_now=True, db_index=True)),
            ],
        ),
        migrations.CreateModel(
            name='Embedding',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('content_hash', models.CharField(max_length=64)),
                ('model', models.CharField(max_length=100)),
                ('vector', models.BinaryField(help_text='float32, L2-normalized')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('content_hash', 'model'), name='uniq_embedding')],
            },
        ),
    ]
