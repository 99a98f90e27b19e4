"""Loading `networks:` and `volumes:` (top level and per container): engine names, the default
network, externals, and the located problems of bad entries."""

from __future__ import annotations

import textwrap

import pytest

from reconciler.errors import SpecError
from reconciler.load.loader import load_spec
from reconciler.model.config import container_config
from reconciler.model.spec import NetworkAttachment


def load(tmp_path, text: str, project: str | None = None):
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    return load_spec(path, environ={}, project=project)


def problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        load(tmp_path, text)
    return [
        f"{p.location.line}:{p.location.column}: {p.path}: {p.message}" for p in info.value.problems
    ]


GOOD = """\
    version: 1
    project: shop
    networks:
      back: {internal: true, subnet: 10.99.0.0/24, labels: {tier: back}}
      corp: {external: true, name: corp-net}
      plain:
    volumes:
      data: {driver_opts: {type: tmpfs, device: tmpfs}}
      keep: {external: true}
      cache:
    containers:
      api:
        image: busybox:1
        networks:
          back: {aliases: [api.internal]}
          default:
          corp:
        volumes: ["data:/data", "keep:/keep", "loose:/loose"]
      web:
        image: busybox:1
"""


def test_engine_names_follow_the_project_unless_external(tmp_path):
    spec = load(tmp_path, GOOD, project="other")
    assert {k: n.name for k, n in spec.networks.items()} == {
        "back": "other_back",
        "corp": "corp-net",
        "plain": "other_plain",
    }
    assert {k: v.name for k, v in spec.volumes.items()} == {
        "data": "other_data",
        "keep": "keep",
        "cache": "other_cache",
    }
    back = spec.networks["back"]
    assert (back.internal, back.subnet, dict(back.labels)) == (
        True,
        "10.99.0.0/24",
        {"tier": "back"},
    )
    assert dict(spec.volumes["data"].driver_opts) == {"type": "tmpfs", "device": "tmpfs"}
    assert spec.volume_name("loose") == "loose"  # undeclared: its own name, like docker


def test_attachments_default_network_and_aliases(tmp_path):
    spec = load(tmp_path, GOOD)
    api, web = spec.containers["api"], spec.containers["web"]
    assert set(api.networks) == {
        NetworkAttachment("back", ("api.internal",)),
        NetworkAttachment("default"),
        NetworkAttachment("corp"),
    }
    assert spec.attachments(web) == (NetworkAttachment("default"),)
    networks = container_config(spec, api, 1, None)["networks"]
    assert networks == [
        {"network": "back", "name": "shop_back", "aliases": ["api", "api.internal"]},
        {"network": "corp", "name": "corp-net", "aliases": ["api"]},
        {"network": "default", "name": "shop_default", "aliases": ["api"]},
    ]


def test_bad_networks_and_volumes_are_located(tmp_path):
    found = problems(
        tmp_path,
        """\
        version: 1
        project: shop
        networks:
          ext: {external: true, name: "bad name!", subnet: 10.0.0.0/8}
          net: {subnet: 10.0.0.1/8}
        volumes:
          odd: {name: "x y"}
          ext: {external: true, driver: local, driver_opts: {a: b}}
        containers:
          app:
            image: busybox:1
            networks: [net, nope]
        """,
    )
    assert found == [
        "4:31: networks.ext.name: invalid network name 'bad name!': use letters, digits, _, . "
        "and -, starting with a letter or digit",
        "4:44: networks.ext.subnet: an external network is created outside this spec: "
        "`subnet` cannot be set",
        "5:17: networks.net.subnet: invalid subnet '10.0.0.1/8': 10.0.0.1/8 has host bits set",
        "7:15: volumes.odd.name: invalid volume name 'x y': use letters, digits, _, . and -, "
        "starting with a letter or digit",
        "8:25: volumes.ext.driver: an external volume is created outside this spec: "
        "`driver` cannot be set",
        "8:40: volumes.ext.driver_opts: an external volume is created outside this spec: "
        "`driver_opts` cannot be set",
        "12:21: containers.app.networks[1]: unknown network 'nope'",
    ]
