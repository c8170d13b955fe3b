"""discovery: ranked search behaviour through serving.search.search_page, the one contract.

A small registry of real-looking servers (descriptions in the style of the official
registry's), published through the real services; the embedding model is the real one.
"""

from __future__ import annotations

import pytest

from curation.selectors import catalog_resolve
from discovery import ranking
from discovery.lexical import Analyzer, stem
from discovery.models import Embedding, SearchDocument
from discovery.services import documents_refresh, embeddings_compute
from discovery.tasks import search_embeddings_task
from registry.models import ServerVersion
from registry.services import version_set_status
from serving.search import SearchFilters, search_page
from tests.support.factories import ServerVersionFactory
from tests.support.manifests import NPM, PYPI

pytestmark = pytest.mark.django_db

SERVERS = {
    "io.github.pgco/postgres-mcp": ("Query and manage PostgreSQL databases: schemas, SQL, "
                                    "indexes and slow queries.", NPM),
    "io.github.dbtools/mysql": ("MCP server for interacting with MySQL databases", PYPI),
    "io.github.mailer/gmail": ("Read emails, send messages, and manage labels in your Gmail "
                               "account.", None),
    "io.github.mailer/smtp-send": ("Send e-mail through any SMTP relay, with attachments.", NPM),
    "io.github.wx/weather": ("Weather forecasts and alerts for any city, from Open-Meteo.", PYPI),
    "io.github.files/filesystem": ("Read, create, and edit files on the local disk.", NPM),
    "io.github.music/spotify": ("Control Spotify playback and playlists.", None),
    "io.github.kube/k8s-admin": ("Inspect and manage Kubernetes clusters: pods, deployments, "
                                 "logs.", NPM),
}


@pytest.fixture(autouse=True)
def fresh_indexes() -> None:
    ranking.forget()


@pytest.fixture
def registry(django_capture_on_commit_callbacks) -> dict[str, ServerVersion]:
    """The servers, published; their documents and vectors made by the tasks (inline here)."""
    made = {}
    with django_capture_on_commit_callbacks(execute=True):
        for name, (description, packages) in SERVERS.items():
            remote = [{"type": "streamable-http", "url": f"https://{name.split('/')[1]}.example/mcp"}]
            fields = {"packages": packages} if packages else {"remotes": remote}
            made[name] = ServerVersionFactory(name=name, description=description, **fields)
    return made


@pytest.fixture
def embedded(registry) -> dict[str, ServerVersion]:
    assert SearchDocument.objects.count() == Embedding.objects.count() == len(SERVERS)
    return registry


ANY = SearchFilters()


def names(text: str, filters: SearchFilters = ANY, **kwargs) -> list[str]:
    return [hit.row.name for hit in search_page(catalog_resolve("all"), text, filters,
                                                **kwargs).hits]


def test_a_task_in_words_finds_the_right_servers_first(embedded) -> None:
    assert names("query my postgres database")[0] == "io.github.pgco/postgres-mcp"
    assert set(names("send an email")[:2]) == {"io.github.mailer/gmail",
                                              "io.github.mailer/smtp-send"}
    assert names("weather forecast for Paris")[0] == "io.github.wx/weather"


def test_gmail_finds_email_servers_and_no_unrelated_padding(embedded) -> None:
    found = names("gmail")
    assert found[0] == "io.github.mailer/gmail"
    assert "io.github.mailer/smtp-send" in found  # by meaning: it sends e-mail, says no gmail
    assert "io.github.music/spotify" not in found and "io.github.wx/weather" not in found


def test_a_typo_still_finds_and_suggests(embedded) -> None:
    page = search_page(catalog_resolve("all"), "postgress")
    assert page.hits[0].row.name == "io.github.pgco/postgres-mcp"
    assert page.suggestion == "postgresql" or page.suggestion == "postgres"
    assert names("kubernets")[0] == "io.github.kube/k8s-admin"


def test_nothing_related_gives_nothing(embedded) -> None:
    assert names("zzqx vorpal") == []


def test_filters_apply_before_ranking(embedded) -> None:
    assert names("databases", SearchFilters(registry_type="pypi")) == ["io.github.dbtools/mysql"]
    assert names("email", SearchFilters(remote_only=True)) == ["io.github.mailer/gmail"]
    assert names("email", SearchFilters(package_only=True)) == ["io.github.mailer/smtp-send"]
    assert names("email", SearchFilters(trusted_only=True)) == []


def test_exact_name_and_package_identifier_come_first(embedded) -> None:
    assert names("io.github.dbtools/mysql")[0] == "io.github.dbtools/mysql"
    assert names("acme-files")[0] in {"io.github.dbtools/mysql", "io.github.wx/weather"}


def test_deleted_servers_leave_the_results(embedded, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        version_set_status(name="io.github.wx/weather", version="1.0.0", status="deleted",
                           message="gone", actor="test")
    assert "io.github.wx/weather" not in names("weather")
    assert names("weather", include_deleted=True)[0] == "io.github.wx/weather"


def test_lexical_alone_before_vectors_exist(settings, django_capture_on_commit_callbacks
                                            ) -> None:
    settings.MCP_INDEX_SEARCH_SEMANTIC = False  # the tasks embed nothing
    with django_capture_on_commit_callbacks(execute=True):
        for name, (description, packages) in SERVERS.items():
            ServerVersionFactory(name=name, description=description, packages=packages or NPM)
    settings.MCP_INDEX_SEARCH_SEMANTIC = True
    assert SearchDocument.objects.count() == len(SERVERS) and not Embedding.objects.exists()
    page = search_page(catalog_resolve("all"), "postgres database")
    assert page.semantic is False
    assert page.hits[0].row.name == "io.github.pgco/postgres-mcp"
    assert "<mark>PostgreSQL</mark>" in page.hits[0].highlights["description"]
    assert embeddings_compute().embedded == len(SERVERS)  # then the vectors arrive
    assert search_page(catalog_resolve("all"), "postgres database").semantic is True


def test_a_cached_search_page_is_ranked_again_when_vectors_arrive(
        settings, client, django_capture_on_commit_callbacks) -> None:
    settings.MCP_INDEX_SEARCH_SEMANTIC = False  # published before any vector exists
    with django_capture_on_commit_callbacks(execute=True):
        for name, (description, packages) in SERVERS.items():
            ServerVersionFactory(name=name, description=description, packages=packages or NPM)
    settings.MCP_INDEX_SEARCH_SEMANTIC = True

    def found() -> tuple[str, list[str]]:
        response = client.get("/v0.1/servers", {"search": "gmail", "version": "latest"})
        assert response.status_code == 200
        return response["X-Cache"], [s["server"]["name"] for s in response.json()["servers"]]

    assert found() == ("MISS", ["io.github.mailer/gmail"])  # lexical alone: the name
    assert found() == ("HIT", ["io.github.mailer/gmail"])
    with django_capture_on_commit_callbacks(execute=True):
        assert embeddings_compute().embedded == len(SERVERS)
    state, servers = found()  # not the cached lexical page: the semantic leg takes part
    assert state == "MISS" and "io.github.mailer/smtp-send" in servers


def test_a_full_refresh_changes_nothing_when_nothing_changed(embedded) -> None:
    report = documents_refresh()
    assert (report.written, report.unchanged, report.removed) == (0, len(SERVERS), 0)


def test_embeddings_are_computed_once_per_text(embedded, django_capture_on_commit_callbacks
                                               ) -> None:
    before = Embedding.objects.count()
    assert search_embeddings_task() == "embedded=0 remaining=0"
    with django_capture_on_commit_callbacks(execute=True):  # same text, new version
        ServerVersionFactory(name="io.github.wx/weather", version="1.1.0",
                             description=SERVERS["io.github.wx/weather"][0], packages=PYPI)
    assert SearchDocument.objects.filter(name="io.github.wx/weather").count() == 1
    assert Embedding.objects.count() == before
    with django_capture_on_commit_callbacks(execute=True):  # a new text: one more vector
        ServerVersionFactory(name="io.github.wx/weather", version="1.2.0",
                             description="Weather and tides for sailors", packages=PYPI)
    assert Embedding.objects.count() == before + 1


def test_pages_cover_the_ranking_once(embedded) -> None:
    scope = catalog_resolve("all")
    whole = [h.row.name for h in search_page(scope, "manage", limit=50).hits]
    first = search_page(scope, "manage", limit=2)
    second = search_page(scope, "manage", limit=2, offset=2)
    assert [h.row.name for h in first.hits + second.hits] == whole[:4]
    assert first.total == len(whole)


@pytest.mark.parametrize("order", [("Databases galore", "A database"), ("A database", "Databases galore")])
def test_a_suggestion_word_does_not_depend_on_what_was_read_first(order):
    """One process indexes many scopes: the word a correction suggests for a term is its
    shortest word, whichever document (or earlier index) brought which word first."""
    analyzer = Analyzer()
    documents = [analyzer.analysed(text, [(text, 1.0)]) for text in order]
    index = analyzer.index(documents)
    [fix] = index.correct(stem("databse"))[:1]
    assert index.surface[fix] == "database"
