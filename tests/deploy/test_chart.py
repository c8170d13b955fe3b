"""The Helm chart renders into the objects the deployment guide promises."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support.deploy import CHART, load_compose
from tests.support.helm_render import TemplateError, render_documents

SECRETS = {
    "DJANGO_SECRET_KEY": "s3cret",
    "MCP_INDEX_JWT_PRIVATE_KEY": "33" * 32,
    "DATABASE_URL": "postgres://mcp:pw@db:5432/mcp_index",
    "REDIS_URL": "redis://cache:6379/0",
    "CELERY_BROKER_URL": "redis://broker:6379/0",
}
PREFIX = "reg-mcp-index"


def render(**values: Any) -> dict[tuple[str, str], dict[str, Any]]:
    values.setdefault("secret", SECRETS)
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in render_documents(CHART, values)}


def container(doc: dict[str, Any]) -> dict[str, Any]:
    containers = doc["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    return render(ingress={"enabled": True, "tls": [{"secretName": "tls", "hosts": ["r.example"]}]},
                  serviceMonitor={"enabled": True})


def test_renders_every_object(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert set(objects) == {
        ("ConfigMap", PREFIX), ("Secret", PREFIX), ("Service", PREFIX), ("Ingress", PREFIX),
        ("ServiceMonitor", PREFIX),
        ("Deployment", f"{PREFIX}-web"), ("Deployment", f"{PREFIX}-worker"),
        ("Deployment", f"{PREFIX}-beat"), ("HorizontalPodAutoscaler", f"{PREFIX}-web"),
        ("PodDisruptionBudget", f"{PREFIX}-web"),
        ("Job", f"{PREFIX}-migrations"), ("Secret", f"{PREFIX}-migrations"),
    }
    for doc in objects.values():
        assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == "reg"


def test_web_probes_health_and_readiness(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    web = container(objects["Deployment", f"{PREFIX}-web"])
    assert web["command"] == ["gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"]
    assert web["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    probes = {name: web[name]["httpGet"] for name in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["startupProbe"] == {"path": "/healthz", "port": "http"}
    assert probes["livenessProbe"] == {"path": "/healthz", "port": "http"}
    assert probes["readinessProbe"] == {"path": "/readyz", "port": "http"}
    assert web["resources"]["requests"]["cpu"]
    assert web["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    env = {item["name"]: item["value"] for item in web["env"]}
    assert env == {"WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "1"}


def test_probe_host_header(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert "httpHeaders" not in container(objects["Deployment", f"{PREFIX}-web"])["livenessProbe"]["httpGet"]
    web = container(render(web={"probeHost": "r.example"})["Deployment", f"{PREFIX}-web"])
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert web[probe]["httpGet"]["httpHeaders"] == [{"name": "Host", "value": "r.example"}]


def test_hpa_scales_the_web_deployment(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    hpa = objects["HorizontalPodAutoscaler", f"{PREFIX}-web"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": f"{PREFIX}-web"}
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    # With the HPA on, the Deployment leaves replicas to it (an upgrade must not reset them).
    assert "replicas" not in objects["Deployment", f"{PREFIX}-web"]["spec"]
    fixed = render(web={"autoscaling": {"enabled": False}, "replicaCount": 4})
    assert ("HorizontalPodAutoscaler", f"{PREFIX}-web") not in fixed
    assert fixed["Deployment", f"{PREFIX}-web"]["spec"]["replicas"] == 4


def test_worker_and_beat(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    worker_doc = objects["Deployment", f"{PREFIX}-worker"]
    worker = container(worker_doc)
    assert worker_doc["spec"]["replicas"] == 2
    assert worker["command"][:4] == ["celery", "-A", "config", "worker"]
    assert worker["livenessProbe"]["exec"]["command"] == [
        "sh", "-c", "celery -A config inspect ping --destination celery@$HOSTNAME --timeout 10"]
    beat_doc = objects["Deployment", f"{PREFIX}-beat"]
    beat = container(beat_doc)
    assert beat_doc["spec"]["replicas"] == 1
    assert beat_doc["spec"]["strategy"] == {"type": "Recreate"}
    assert beat["command"][:4] == ["celery", "-A", "config", "beat"]
    assert beat["livenessProbe"]["exec"]["command"] == [
        "python", "deploy/healthcheck.py", "--fresh", "/tmp/celerybeat-schedule", "600"]


def test_processes_match_compose(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    services = load_compose()["services"]
    for role in ("web", "beat"):
        assert container(objects["Deployment", f"{PREFIX}-{role}"])["command"] == services[role]["command"]
    assert container(objects["Job", f"{PREFIX}-migrations"])["command"] == services["migrate"]["command"]


def test_migrations_job_is_a_pre_install_and_pre_upgrade_hook(
        objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    job = objects["Job", f"{PREFIX}-migrations"]
    hook_secret = objects["Secret", f"{PREFIX}-migrations"]
    for doc, weight in ((hook_secret, "-10"), (job, "0")):
        annotations = doc["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert annotations["helm.sh/hook-weight"] == weight
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    migrate = container(job)
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    # On a first install the release's own Secret does not exist yet when hooks run.
    assert migrate["envFrom"] == [{"secretRef": {"name": f"{PREFIX}-migrations"}}]
    assert hook_secret["stringData"] == SECRETS
    assert {"name": "LOG_FORMAT", "value": "json"} in migrate["env"]


def test_every_workload_loads_the_configmap_and_secret_and_runs_locked_down(
        objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    for role in ("web", "worker", "beat"):
        doc = objects["Deployment", f"{PREFIX}-{role}"]
        pod = doc["spec"]["template"]["spec"]
        main = container(doc)
        assert main["envFrom"] == [{"configMapRef": {"name": PREFIX}}, {"secretRef": {"name": PREFIX}}]
        assert main["image"] == "ghcr.io/example/mcp-index:0.1.0"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert main["securityContext"]["readOnlyRootFilesystem"] is True
        assert main["securityContext"]["allowPrivilegeEscalation"] is False
        assert main["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
        assert pod["volumes"][0] == {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}
        assert pod["automountServiceAccountToken"] is False
        selector = doc["spec"]["selector"]["matchLabels"]
        assert selector["app.kubernetes.io/component"] == role
        assert doc["spec"]["template"]["metadata"]["labels"] == selector
        assert set(doc["spec"]["template"]["metadata"]["annotations"]) == {
            "checksum/config", "checksum/secret"}


def test_config_and_secret_contents(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    config = objects["ConfigMap", PREFIX]["data"]
    assert config["DJANGO_SECURE_SSL_REDIRECT"] == "1"
    assert config["LOG_FORMAT"] == "json"
    assert all(isinstance(value, str) for value in config.values())
    secret = objects["Secret", PREFIX]
    assert secret["type"] == "Opaque"
    # Empty optional values are left out rather than overriding the app's defaults with "".
    assert secret["stringData"] == SECRETS
    with_replica = render(secret={**SECRETS, "DATABASE_REPLICA_URL": "postgres://ro@replica/db"})
    assert with_replica["Secret", PREFIX]["stringData"]["DATABASE_REPLICA_URL"] == "postgres://ro@replica/db"


def test_a_config_change_rolls_the_pods(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    changed = render(config={"LOG_LEVEL": "DEBUG"})
    for role in ("web", "worker", "beat"):
        name = ("Deployment", f"{PREFIX}-{role}")
        before = objects[name]["spec"]["template"]["metadata"]["annotations"]
        after = changed[name]["spec"]["template"]["metadata"]["annotations"]
        assert before["checksum/config"] != after["checksum/config"]
        assert before["checksum/secret"] == after["checksum/secret"]


@pytest.mark.parametrize("key", ["DJANGO_SECRET_KEY", "MCP_INDEX_JWT_PRIVATE_KEY", "DATABASE_URL",
                                 "REDIS_URL", "CELERY_BROKER_URL"])
def test_required_secrets(key: str) -> None:
    with pytest.raises(TemplateError, match=f"secret.{key} is required"):
        render(secret={**SECRETS, key: ""})


def test_existing_secret_replaces_the_charts_own() -> None:
    objects = render(existingSecret="mcp-index-prod", secret={})
    assert ("Secret", PREFIX) not in objects
    assert ("Secret", f"{PREFIX}-migrations") not in objects
    for role in ("web", "worker", "beat"):
        doc = objects["Deployment", f"{PREFIX}-{role}"]
        assert container(doc)["envFrom"][1] == {"secretRef": {"name": "mcp-index-prod"}}
        assert set(doc["spec"]["template"]["metadata"]["annotations"]) == {"checksum/config"}
    job = container(objects["Job", f"{PREFIX}-migrations"])
    assert job["envFrom"] == [{"secretRef": {"name": "mcp-index-prod"}}]


def test_ingress_routes_to_the_service_with_tls(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    ingress = objects["Ingress", PREFIX]
    assert ingress["spec"]["tls"] == [{"secretName": "tls", "hosts": ["r.example"]}]
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "registry.example.com"
    assert rule["http"]["paths"][0]["backend"] == {"service": {"name": PREFIX, "port": {"name": "http"}}}
    service = objects["Service", PREFIX]
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "web"
    assert ("Ingress", PREFIX) not in render()


def test_service_monitor_scrapes_metrics_with_the_token() -> None:
    plain = render(serviceMonitor={"enabled": True})["ServiceMonitor", PREFIX]
    assert plain["spec"]["endpoints"][0]["path"] == "/metrics"
    assert "bearerTokenSecret" not in plain["spec"]["endpoints"][0]
    token = render(serviceMonitor={"enabled": True},
                   secret={**SECRETS, "MCP_INDEX_METRICS_TOKEN": "t"})["ServiceMonitor", PREFIX]
    assert token["spec"]["endpoints"][0]["bearerTokenSecret"] == {
        "name": PREFIX, "key": "MCP_INDEX_METRICS_TOKEN", "optional": True}


def test_image_tag_and_names_can_be_overridden() -> None:
    objects = render(image={"tag": "1.2.3"}, fullnameOverride="index")
    web = objects["Deployment", "index-web"]
    assert container(web)["image"] == "ghcr.io/example/mcp-index:1.2.3"


def test_chart_metadata() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "mcp-index"
    assert chart["type"] == "application"
