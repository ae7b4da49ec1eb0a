"""Scale-out files: the Kubernetes manifests validate offline against the bundled schemas, and
the compose file and nginx config agree with each other and with the image (always run)."""

from __future__ import annotations

import re

import kubernetes_validate
import pytest
import yaml
from container_tools import REPO_ROOT

KUBERNETES_DIR = REPO_ROOT / "deploy" / "kubernetes"
RESOURCES = sorted(path for path in KUBERNETES_DIR.glob("*.yaml") if path.name != "kustomization.yaml")


def documents(path):
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def by_kind() -> dict[str, dict]:
    return {document["kind"]: document for path in RESOURCES for document in documents(path)}


@pytest.mark.parametrize("path", RESOURCES, ids=lambda path: path.name)
def test_manifest_validates_offline(path):
    for document in documents(path):
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_validator_rejects_a_broken_manifest():
    deployment = by_kind()["Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError, match="paht"):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((KUBERNETES_DIR / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(path.name for path in RESOURCES)


def test_deployment_probes_security_and_cache():
    kinds = by_kind()
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readiness"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["ports"][0]["containerPort"] == 9001
    assert {"requests", "limits"} <= set(container["resources"])
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert mounts == {"model-cache": "/models", "tmp": "/tmp"}
    claims = [
        volume["persistentVolumeClaim"]["claimName"]
        for volume in pod["volumes"]
        if "persistentVolumeClaim" in volume
    ]
    assert claims == [kinds["PersistentVolumeClaim"]["metadata"]["name"]]
    assert container["envFrom"][0]["configMapRef"]["name"] == kinds["ConfigMap"]["metadata"]["name"]
    assert kinds["ConfigMap"]["data"]["MODEL_CACHE_DIR"] == "/models"


def test_service_and_autoscaler_point_at_the_deployment():
    kinds = by_kind()
    deployment = kinds["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert kinds["Service"]["spec"]["selector"].items() <= labels.items()
    target = kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    autoscaler = kinds["HorizontalPodAutoscaler"]["spec"]
    assert 1 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"]


def test_compose_runs_replicas_behind_nginx_with_a_shared_cache():
    compose = yaml.safe_load((REPO_ROOT / "docker" / "compose.yaml").read_text())
    server, balancer = compose["services"]["server"], compose["services"]["lb"]
    assert server["deploy"]["replicas"] == 2
    assert "model-cache:/models" in server["volumes"] and "model-cache" in compose["volumes"]
    assert server["read_only"] is True and "/tmp" in server["tmpfs"]
    assert server["build"]["dockerfile"] == "docker/Dockerfile.cpu"
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in balancer["volumes"]
    published = balancer["ports"][0].rsplit(":", 1)[-1]
    nginx = (REPO_ROOT / "docker" / "nginx.conf").read_text()
    assert re.search(rf"listen {published};", nginx)
    assert re.search(r"server server:9001 max_fails=\d+ fail_timeout=\d+s;", nginx)
    assert "proxy_next_upstream error timeout" in nginx
