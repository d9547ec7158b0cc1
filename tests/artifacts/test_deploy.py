"""deploy/: the systemd unit is hardened and keeps its state, the Kubernetes example holds together
(its rule file validates with the Secret's values, scraping and mounts agree)."""
from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from artifacts.tools import ROOT, run_tool
from watchdog.validation.envexpand import references
from watchdog.plan import build_plan

UNIT = ROOT / "deploy" / "systemd" / "watchdog.service"
ENV_EXAMPLE = ROOT / "deploy" / "systemd" / "watchdog.env.example"
KUBERNETES = ROOT / "deploy" / "kubernetes" / "watchdog.yaml"


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_the_unit_is_hardened_and_keeps_state_and_secrets_apart() -> None:
    settings = unit_settings()
    assert settings["DynamicUser"] == ["yes"] and settings["ProtectSystem"] == ["strict"]
    assert settings["NoNewPrivileges"] == ["yes"] and settings["CapabilityBoundingSet"] == [""]
    assert settings["StateDirectory"] == ["watchdog"]
    argv = shlex.split(settings["ExecStart"][0])
    assert argv[1] == "run" and argv[argv.index("--state") + 1].startswith("/var/lib/watchdog/")
    assert settings["EnvironmentFile"] == ["/etc/watchdog/watchdog.env"]


def test_the_environment_file_example_names_every_variable_of_the_example_rules() -> None:
    names = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if "=" in line and not line.startswith("#")}
    without_comments = yaml.safe_dump(yaml.safe_load((ROOT / "rules.yaml").read_text()))
    assert references(without_comments) <= names


def test_systemd_analyze_verify_is_silent(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not on PATH")
    # verify checks that the programs and files exist: point them at ones that do
    env = tmp_path / "watchdog.env"
    env.write_text(ENV_EXAMPLE.read_text())
    unit = tmp_path / "watchdog.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/watchdog", shutil.which("true") or "/bin/true")
                    .replace("/etc/watchdog/watchdog.env", str(env)))
    done = run_tool([analyze, "verify", str(unit)])
    assert done.stdout == "" and done.stderr == ""


def kubernetes_objects() -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(KUBERNETES.read_text(encoding="utf-8"))}


def test_the_kubernetes_rule_file_validates_with_the_secrets_values(tmp_path: Path) -> None:
    objects = kubernetes_objects()
    assert set(objects) == {"ConfigMap", "Secret", "Deployment", "Service", "ServiceMonitor"}
    rules = tmp_path / "rules.yaml"
    rules.write_text(objects["ConfigMap"]["data"]["rules.yaml"])
    plan = build_plan(rules, env=objects["Secret"]["stringData"])
    assert [r.name for r in plan.rules] == ["jobs_pending"]


def test_the_deployment_reads_the_configmap_and_secret_and_is_scraped_on_its_port() -> None:
    objects = kubernetes_objects()
    pod = objects["Deployment"]["spec"]["template"]
    [container] = pod["spec"]["containers"]
    args = container["args"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert args[args.index("-c") + 1] == f"{mounts['rules']}/rules.yaml"
    assert volumes["rules"]["configMap"]["name"] == objects["ConfigMap"]["metadata"]["name"]
    assert container["envFrom"] == [{"secretRef": {"name": objects["Secret"]["metadata"]["name"]}}]
    assert args[args.index("--state") + 1].startswith(mounts["state"] + "/")
    port = container["ports"][0]["containerPort"]
    assert args[args.index("--listen") + 1].endswith(f":{port}")
    for annotated in (pod["metadata"], objects["Service"]["metadata"]):
        assert annotated["annotations"]["prometheus.io/scrape"] == "true"
        assert annotated["annotations"]["prometheus.io/port"] == str(port)
    monitor = objects["ServiceMonitor"]["spec"]
    assert monitor["selector"]["matchLabels"].items() <= objects["Service"]["metadata"]["labels"].items()
    assert objects["Service"]["metadata"]["labels"][monitor["jobLabel"]] == "watchdog"
