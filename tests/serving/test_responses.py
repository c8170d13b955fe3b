"""Write responses (registry.api) and read responses (serving) render a version the same way,
trust summary included: signing contributes it to writes from SigningConfig.ready."""

from __future__ import annotations

import pytest

from registry.models import ServerVersion
from tests.conftest import manifest

pytestmark = pytest.mark.django_db
TRUST = "io.mcpindex/trust"
PATH = "/servers/io.github.acme%2Fsigned/versions/1.0.0"


def test_write_responses_carry_the_trust_summary_as_reads_do(api, publisher, sign):
    published = publisher.publish(manifest("io.github.acme/signed", "1.0.0"))
    assert published.status_code == 200
    assert TRUST not in published.json()["_meta"]  # nothing is signed yet, and publish adds none
    sign(ServerVersion.objects.get(name="io.github.acme/signed"))

    patched = publisher.send("PATCH", PATH + "/status", {"status": "deprecated", "statusMessage": "m"})
    assert patched.status_code == 200
    read = api.get(PATH).json()
    assert read["_meta"][TRUST]["verifiedSigners"] == [{"principal": "sec", "displayName": "Security"}]
    assert patched.json() == read

    replaced = publisher.send("PUT", PATH, manifest("io.github.acme/signed", "1.0.0",
                                                    description="Another description"))
    assert replaced.status_code == 200, replaced.content
    assert replaced.json() == api.get(PATH).json()

    everything = publisher.send("PATCH", "/servers/io.github.acme%2Fsigned/status", {"status": "active"})
    assert everything.status_code == 200
    assert everything.json()["servers"] == [api.get(PATH).json()]
