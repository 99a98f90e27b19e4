"""Two nodes on this machine: the manager (this engine) and a second dockerd in the network
namespace rcnode2, joined as a worker by `scripts/swarm-setup.sh worker` (docs/swarm-nodes.md)
and torn down after. A built image is pushed to the loopback registry (forwarded into the
namespace as localhost:5000), the worker pulls it by digest, the replicas spread over both
nodes, and each replica is reached over the overlay network by service name (dnsrr) and on its
node's host-mode port. Host mode and dnsrr: this kernel has no IPVS (no ingress mesh, no VIP).
"""

from __future__ import annotations

import subprocess
import textwrap
import urllib.request
from collections.abc import Iterator

import docker
import pytest

from reconciler.engine import Engine
from reconciler.execute.context import ExecOptions
from reconciler.load.loader import load_spec
from reconciler.reconcile import apply_pass
from tests.integration.swarm.conftest import ROOT
from tests.polling import wait_for

WORKER_SOCK = "unix:///run/rcnode2/docker.sock"
WORKER_ADDR = "10.231.0.2"
PORT = 24931  # host-mode port, fixed: one task per node


@pytest.fixture(scope="module")
def worker(swarm_manager) -> Iterator[docker.DockerClient]:
    setup = ROOT / "scripts/swarm-setup.sh"
    proc = subprocess.run(["bash", str(setup), "worker"], capture_output=True, text=True)
    if proc.returncode != 0:
        subprocess.run(["bash", str(setup), "teardown-worker"], capture_output=True)
        pytest.fail(f"scripts/swarm-setup.sh worker failed:\n{proc.stderr}")
    client = docker.DockerClient(base_url=WORKER_SOCK)
    try:
        yield client
    finally:
        client.close()
        subprocess.run(["bash", str(setup), "teardown-worker"], capture_output=True, text=True)


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.read().decode().strip()
    except OSError:
        return None


def test_replicas_on_two_nodes(tmp_path, swarm_project, docker_client, worker):
    project = swarm_project
    (tmp_path / "Dockerfile").write_text(
        f"FROM stand-in/busybox:latest\nRUN echo {project} > /www/p.txt\n"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            project: {project}
            target: swarm
            registry: localhost:5000
            images:
              app:
                build: .
            containers:
              web:
                image: app
                command: ["sh", "-c", "hostname > /www/host.txt; exec httpd -f -p 8080 -h /www"]
                replicas: 2
                endpoint_mode: dnsrr
                ports:
                  - {{container: 8080, host: {PORT}, mode: host}}
                stop_timeout: 1s
            """
        )
    )
    with Engine.connect() as engine:
        result = apply_pass(load_spec(spec), engine, exec_options=ExecOptions(wait_timeout=120))
        assert not result.failed, result.outcomes
    service = docker_client.services.get(f"{project}_web")
    image = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    digest = image.split("@", 1)[1]
    tasks = [
        t
        for t in service.tasks(filters={"desired-state": "running"})
        if t["Status"]["State"] == "running"
    ]
    manager_id = docker_client.info()["Swarm"]["NodeID"]
    worker_id = worker.info()["Swarm"]["NodeID"]
    by_node = {t["NodeID"]: t["Status"]["ContainerStatus"]["ContainerID"] for t in tasks}
    assert set(by_node) == {manager_id, worker_id}  # one replica on each node

    # the worker pulled the image from the registry, by digest
    pulled = worker.images.get(image)
    assert any(d.endswith(digest) for d in pulled.attrs["RepoDigests"])

    on_manager = docker_client.containers.get(by_node[manager_id])
    on_worker = worker.containers.get(by_node[worker_id])
    hosts = {
        manager_id: on_manager.exec_run(["cat", "/www/host.txt"]).output.decode().strip(),
        worker_id: on_worker.exec_run(["cat", "/www/host.txt"]).output.decode().strip(),
    }
    # over the overlay: the service name resolves to both tasks (dnsrr); each answers
    lookup = (
        "for ip in $(nslookup {0}_web 2>/dev/null"
        " | awk '/^Address/ && !/127.0.0.11/ {{print $NF}}');"
        " do timeout 5 wget -qO- http://$ip:8080/host.txt; done"
    )
    for container in (on_manager, on_worker):

        def seen(container=container) -> set[str]:
            out = container.exec_run(["sh", "-c", lookup.format(project)]).output.decode()
            return set(out.split())

        wait_for(lambda: seen() >= set(hosts.values()), 30, "both replicas over the overlay", 0.5)

    # each node's host-mode port answers with its own replica
    wait_for(
        lambda: fetch(f"http://127.0.0.1:{PORT}/host.txt") == hosts[manager_id],
        30,
        "the manager's host-mode port",
        0.2,
    )
    wait_for(
        lambda: fetch(f"http://{WORKER_ADDR}:{PORT}/host.txt") == hosts[worker_id],
        30,
        "the worker's host-mode port",
        0.2,
    )
