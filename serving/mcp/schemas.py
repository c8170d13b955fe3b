"""The MCP tools' typed arguments and results (their input and output JSON Schemas).

Results are pydantic models, so the SDK publishes an `outputSchema` for every tool and answers
with `structuredContent` that matches it. Fields are snake_case in Python and camelCase on the
wire, like the registry API's own JSON (`isLatest`, `publishedAt`, `verifiedSigners`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from mcp_index_common.input import text_problem

QUERY_MAX = 500  # characters of a search query
NAME_MAX = 200  # registry.models.ServerVersion.name
VERSION_MAX = 255  # registry.models.ServerVersion.version
CURSOR_MAX = 2048  # characters of a cursor this server minted (a few hundred in practice)
LIMIT_MAX = 50
LIMIT_DEFAULT = 10


def storable(value: str) -> str:
    """Refuse what no column can hold (NUL, lone surrogates): the one input boundary's check."""
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Query = Annotated[str, Field(max_length=QUERY_MAX, description="What the server should do, in "
                             "words or keywords (\"query a postgres database\"); empty lists all"),
                  AfterValidator(storable)]
ServerName = Annotated[str, Field(min_length=1, max_length=NAME_MAX, description="The server's "
                                  "reverse-DNS name, e.g. io.github.acme/weather"),
                       AfterValidator(storable)]
Version = Annotated[str, Field(min_length=1, max_length=VERSION_MAX), AfterValidator(storable)]
Cursor = Annotated[str, Field(min_length=1, max_length=CURSOR_MAX, description="nextCursor of "
                              "the previous page: it carries the query and filters"),
                   AfterValidator(storable)]
Limit = Annotated[int, Field(ge=1, le=LIMIT_MAX, description=f"Results per page, 1-{LIMIT_MAX}")]
RegistryType = Literal["npm", "pypi", "oci", "nuget", "mcpb"]
Transport = Literal["stdio", "streamable-http", "sse"]
Client = Literal["claude-desktop", "claude-code", "vscode", "cursor", "generic"]
Prefer = Literal["remote", "package", "npm", "pypi", "oci", "nuget"]


class Out(BaseModel):
    """Base of every result: camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Signer(Out):
    """A principal whose attestation of this exact version verified."""

    principal: str
    display_name: str


class TrustSummary(Out):
    """The registry's trust block (`<ns>/trust` in the API's `_meta`): who vouches, which
    trust policies the version satisfies."""

    verified_signers: list[Signer]
    satisfied_policies: list[str]


class ServerSummary(Out):
    """One server as a search lists it: its latest version in the scope."""

    name: str
    version: str
    title: str | None = None
    description: str
    status: str
    is_latest: bool
    published_at: str
    updated_at: str
    registry_types: list[str] = Field(description="Package registries it ships on (npm, pypi, …)")
    transports: list[str] = Field(description="stdio, streamable-http or sse, over packages and "
                                  "remotes")
    has_remote: bool = Field(description="A hosted endpoint exists: nothing to install")
    repository_url: str | None = None
    website_url: str | None = None
    score: float = Field(description="Relevance, higher first (comparable within one search)")
    trust: TrustSummary | None = Field(default=None, description="Verified attestations; null "
                                       "when nobody vouches for this version")
    catalog: dict[str, Any] | None = Field(default=None, description="The catalog's own block: "
                                           "tags, notes, featured, pinned")


class SearchResult(Out):
    """A page of servers, best first."""

    catalog: str = Field(description="The catalog searched (`all` at the registry root)")
    query: str
    servers: list[ServerSummary]
    total: int = Field(description="Matches over all pages")
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page")


class ServerDetail(Out):
    """One version: the server.json as published and the `_meta` the registry API serves."""

    catalog: str
    name: str
    version: str
    status: str
    is_latest: bool
    published_at: str
    server: dict[str, Any] = Field(description="The server.json, exactly as published")
    meta: dict[str, Any] = Field(description="The registry API's `_meta` for this version: "
                                 "official status, digest, catalog block, trust")
    trust: TrustSummary | None = None


class VersionInfo(Out):
    """A line of a server's history."""

    version: str
    status: str
    status_message: str | None = None
    is_latest: bool
    published_at: str
    updated_at: str
    trusted: bool = Field(description="A verified attestation exists for this version")


class VersionList(Out):
    """Every visible version of a server, newest publish first."""

    catalog: str
    name: str
    versions: list[VersionInfo]


class InstallPrompt(Out):
    """A value the user must supply; the configuration holds a placeholder for it."""

    id: str
    description: str
    secret: bool
    placeholder: str


class InstallOption(Out):
    """One way to run the server: a package or a remote endpoint."""

    label: str
    kind: Literal["package", "remote"]
    transport: str
    registry_type: str | None = None


class InstallConfig(Out):
    """Ready-to-use configuration of one server for one client."""

    catalog: str
    name: str
    version: str
    client: str
    format: Literal["json", "shell"] = Field(description="json: merge into the file named by "
                                             "`target`; shell: run the command")
    target: str = Field(description="Where the configuration goes")
    config: str = Field(description="The text to paste or run; secrets are placeholders")
    option: InstallOption
    prompts: list[InstallPrompt]
    note: str | None = None
    alternatives: list[InstallOption] = Field(description="Other ways to run it (use `prefer`)")
    trust: TrustSummary | None = None


class ToolMatch(Out):
    """A tool a server in this catalog was observed to offer (the registry's probe)."""

    name: str
    title: str | None = None
    description: str
    server: str = Field(description="The server offering it: pass to get_server / get_install_config")
    version: str


class ToolSearchResult(Out):
    """Tools of the latest versions in this catalog matching every word of the query."""

    catalog: str
    query: str
    tools: list[ToolMatch]
