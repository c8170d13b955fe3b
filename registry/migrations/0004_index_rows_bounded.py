"""Bound the text in b-tree index rows, in bytes, so that no value can overflow a row.

A b-tree row holds at most 2,704 bytes. The covering list index carries name, version and
search_text (a TEXT column), and the remote URL index a varchar(2000) counted in characters:
one long incompressible value failed the insert of a mirrored page. search_text is now kept
within a byte budget (registry.manifest.search_text_of); this migration shortens the rows
stored before that and adds CHECK constraints holding the database to the same bounds.
PostgreSQL only (SQLite has no such limit). The constraints are added NOT VALID and then
validated, so the table is not locked for the scan.
"""

from django.db import migrations

ROW_TEXT_BYTES = 2000  # registry.manifest.INDEX_ROW_TEXT_BYTES when this was written
URL_BYTES = 2000

SV_CHECK = ("sv_index_row_text_bounded",
            "octet_length(name) + octet_length(version) + octet_length(search_text) <= %d"
            % ROW_TEXT_BYTES)
URL_CHECK = ("remoteurl_url_bytes_bounded", "octet_length(url) <= %d" % URL_BYTES)


def _prefix(text, size):
    data = text.encode("utf-8", "surrogatepass")
    return text if len(data) <= size else data[:size].decode("utf-8", "ignore")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, name, version, search_text FROM registry_serverversion "
                       "WHERE octet_length(name) + octet_length(version) "
                       "+ octet_length(search_text) > %s", [ROW_TEXT_BYTES])
        for pk, name, version, text in cursor.fetchall():
            budget = ROW_TEXT_BYTES - len(name.encode()) - len(version.encode())
            cursor.execute("UPDATE registry_serverversion SET search_text = %s WHERE id = %s",
                           [_prefix(text, max(budget, 0)), pk])
        for table, (name, check) in (("registry_serverversion", SV_CHECK),
                                     ("registry_remoteurl", URL_CHECK)):
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({check}) NOT VALID")
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE NOT ({check}))")
            if not cursor.fetchone()[0]:  # an over-long remote URL stored before stays readable
                cursor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, (name, _) in (("registry_serverversion", SV_CHECK),
                             ("registry_remoteurl", URL_CHECK)):
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # each statement commits on its own: no long lock for the validation scan
    dependencies = [("registry", "0003_list_covering_index")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
