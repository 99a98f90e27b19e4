"""The engine's own limit: a plain script that creates and starts the same containers through
the Docker API (docker SDK `APIClient`) with a thread pool, and stops and removes them.

Run as its own process, like the tools it is compared with (interpreter start and SDK import
included):
    python -m benchmarks.limit up   --project P --n 50 [--image I] [--workers 8] [--init]
    python -m benchmarks.limit down --project P [--workers 8]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor

from benchmarks.workload import (
    BENCH_LABEL,
    DEFAULT_IMAGE,
    STOP_TIMEOUT_S,
    keys,
    limit_container_name,
    limit_create_body,
    limit_network_name,
)

DEFAULT_WORKERS = 8


def up(
    api, project: str, n: int, image: str, workers: int, init: bool, project_network: bool
) -> None:
    if project_network:
        api.create_network(
            limit_network_name(project), driver="bridge", labels={BENCH_LABEL: project}
        )

    def one(key: str) -> None:
        body = limit_create_body(project, key, image, init=init, project_network=project_network)
        created = api.create_container_from_config(body, name=limit_container_name(project, key))
        api.start(created["Id"])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(one, key) for key in keys(n)]:
            future.result()


def down(api, project: str, workers: int) -> int:
    found = api.containers(all=True, filters={"label": f"{BENCH_LABEL}={project}"})

    def one(container_id: str) -> None:
        api.stop(container_id, timeout=STOP_TIMEOUT_S)
        api.remove_container(container_id, force=True)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(one, c["Id"]) for c in found]:
            future.result()
    for network in api.networks(filters={"label": f"{BENCH_LABEL}={project}"}) or ():
        api.remove_network(network["Id"])
    return len(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limit")
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--project", required=True)
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--image", default=DEFAULT_IMAGE)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--init", action="store_true")
    parser.add_argument("--bridge", action="store_true", help="default bridge, no project network")
    args = parser.parse_args(argv)

    import docker
    import docker.utils

    api = docker.APIClient(
        version="auto", max_pool_size=max(10, args.workers), **docker.utils.kwargs_from_env()
    )
    try:
        if args.action == "up":
            up(api, args.project, args.n, args.image, args.workers, args.init, not args.bridge)
        else:
            down(api, args.project, args.workers)
    finally:
        api.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
