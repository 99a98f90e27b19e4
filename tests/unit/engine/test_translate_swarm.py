"""engine/translate_swarm.py without an engine: a service config -> the ServiceSpec body
(entrypoint vs command, restart, update and rollback configs, host/ingress ports, mounts,
task labels that roll on every config change) and raw service/task data -> model values."""

from __future__ import annotations

from reconciler.engine.translate_swarm import observed_service, observed_task, service_body
from reconciler.model.labels import LABEL_CONFIG_HASH, LABEL_KIND, LABEL_NAME, LABEL_PROJECT
from reconciler.model.spec import ContainerSpec, Mount, PortBinding, Spec, UpdatePolicy
from reconciler.model.swarm import service_config

SPEC = Spec(project="p", path="/x/s.yaml", target="swarm")


def body_of(container: ContainerSpec, replicas: int = 2) -> dict:
    config = service_config(SPEC, container, "sha256:1")
    labels = {LABEL_PROJECT: "p", LABEL_NAME: container.key, LABEL_CONFIG_HASH: "h1"}
    return service_body(config, labels, replicas, "img@sha256:abc")


def test_service_body():
    body = body_of(
        ContainerSpec(
            key="web",
            image="img",
            entrypoint=("sh", "-c"),
            command=("echo hi",),
            env={"B": "2", "A": "1"},
            labels={"team": "x"},
            init=True,
            stop_timeout=2.0,
            ports=(PortBinding(80, host_port=8080, mode="host"), PortBinding(81)),
            volumes=(Mount("/data", "data", "volume"), Mount("/site", "/srv", "bind", True)),
            endpoint_mode="dnsrr",
            update=UpdatePolicy(monitor=2.0, parallelism=0),
        )
    )
    spec = body["TaskTemplate"]["ContainerSpec"]
    assert body["Name"] == "p_web" and body["Mode"] == {"Replicated": {"Replicas": 2}}
    assert spec["Image"] == "img@sha256:abc"
    assert (spec["Command"], spec["Args"]) == (["sh", "-c"], ["echo hi"])
    assert spec["Env"] == ["A=1", "B=2"]
    assert spec["Init"] is True and spec["StopGracePeriod"] == 2_000_000_000
    assert spec["Labels"] == {
        "team": "x",
        LABEL_PROJECT: "p",
        LABEL_NAME: "web",
        LABEL_CONFIG_HASH: "h1",  # a changed config changes the task template: tasks roll
        LABEL_KIND: "task",  # never taken for a container of the project
    }
    assert spec["Mounts"] == [
        {"Type": "volume", "Target": "/data", "ReadOnly": False, "Source": "data"},
        {"Type": "bind", "Target": "/site", "ReadOnly": True, "Source": "/srv"},
    ]
    assert body["EndpointSpec"] == {
        "Mode": "dnsrr",
        "Ports": [
            {"Protocol": "tcp", "TargetPort": 80, "PublishMode": "host", "PublishedPort": 8080},
            {"Protocol": "tcp", "TargetPort": 81, "PublishMode": "ingress"},
        ],
    }
    # a fixed host-mode port: stop-first (start-first would never progress); rollback alike
    assert body["UpdateConfig"]["Order"] == body["RollbackConfig"]["Order"] == "stop-first"
    assert body["UpdateConfig"]["FailureAction"] == "rollback"
    assert body["UpdateConfig"]["Monitor"] == 2_000_000_000
    assert body["UpdateConfig"]["Parallelism"] == 0
    assert body["TaskTemplate"]["RestartPolicy"] == {"Condition": "none", "MaxAttempts": 0}
    assert body["TaskTemplate"]["Networks"] == [{"Target": "p_default", "Aliases": ["web"]}]


def test_observed_service_and_tasks():
    raw_task = {
        "ID": "t1",
        "ServiceID": "s1",
        "NodeID": "n1",
        "Slot": 2,
        "DesiredState": "shutdown",
        "Status": {"State": "failed", "Err": "task: non-zero exit (1)", "Timestamp": "T"},
    }
    task = observed_task(raw_task)
    assert (task.slot, task.state, task.error, task.running) == (2, "failed", task.error, False)
    raw = {
        "ID": "s1",
        "Version": {"Index": 7},
        "Spec": {
            "Name": "p_web",
            "Labels": {LABEL_PROJECT: "p", LABEL_NAME: "web", LABEL_CONFIG_HASH: "h"},
            "Mode": {"Replicated": {"Replicas": 3}},
            "TaskTemplate": {"ContainerSpec": {"Image": "img@sha256:abc"}},
            "EndpointSpec": {"Ports": [{"TargetPort": 80, "PublishMode": "ingress"}]},
        },
        "UpdateStatus": {"State": "rollback_completed", "Message": "rollback completed"},
    }
    service = observed_service(raw, [task])
    assert (service.key, service.version, service.replicas) == ("web", 7, 3)
    assert service.update_state == "rollback_completed" and service.ingress
    assert service.tasks == (task,) and service.running_tasks == ()
