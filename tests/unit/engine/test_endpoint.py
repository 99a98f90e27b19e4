"""engine/endpoint.py: the engine address resolved like the docker CLI (DOCKER_HOST,
DOCKER_CONTEXT, config.json currentContext, context meta/TLS folders, TLS variables)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from reconciler.engine.endpoint import DEFAULT_HOST, resolve
from reconciler.errors import EngineUnavailable


def make_context(config: Path, name: str, host: str, tls: bool = False, skip: bool = False) -> Path:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    docker = {"Host": host, "SkipTLSVerify": skip}
    (meta / "meta.json").write_text(
        json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": docker}})
    )
    tls_dir = config / "contexts" / "tls" / digest / "docker"
    if tls:
        tls_dir.mkdir(parents=True)
        for f in ("ca.pem", "cert.pem", "key.pem"):
            (tls_dir / f).write_text("x")
    return tls_dir


def env_for(config: Path, **extra: str) -> dict[str, str]:
    return {"DOCKER_CONFIG": str(config), "HOME": "/nonexistent", **extra}


def test_nothing_set_is_the_default_socket(tmp_path):
    assert resolve(env_for(tmp_path)).host == DEFAULT_HOST
    assert resolve(env_for(tmp_path)).unix_socket == "/var/run/docker.sock"


def test_docker_host_plain(tmp_path):
    ep = resolve(env_for(tmp_path, DOCKER_HOST="tcp://127.0.0.1:2375"))
    assert (ep.host, ep.tls, ep.unix_socket) == ("tcp://127.0.0.1:2375", False, None)


def test_docker_host_unix_path(tmp_path):
    ep = resolve(env_for(tmp_path, DOCKER_HOST="unix:///run/user/1000/docker.sock"))
    assert ep.unix_socket == "/run/user/1000/docker.sock"


def test_tls_verify_uses_cert_path(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    for f in ("ca.pem", "cert.pem", "key.pem"):
        (certs / f).write_text("x")
    ep = resolve(
        env_for(
            tmp_path,
            DOCKER_HOST="tcp://h:2376",
            DOCKER_TLS_VERIFY="1",
            DOCKER_CERT_PATH=str(certs),
        )
    )
    assert ep.tls and ep.verify
    assert (ep.ca, ep.cert, ep.key) == tuple(
        str(certs / f) for f in ("ca.pem", "cert.pem", "key.pem")
    )


def test_tls_verify_defaults_cert_path_to_the_config_dir(tmp_path):
    (tmp_path / "ca.pem").write_text("x")
    ep = resolve(env_for(tmp_path, DOCKER_HOST="tcp://h:2376", DOCKER_TLS_VERIFY="1"))
    assert ep.tls and ep.ca == str(tmp_path / "ca.pem") and ep.cert is None


def test_cert_path_without_tls_verify_is_plain_like_the_cli(tmp_path):
    ep = resolve(env_for(tmp_path, DOCKER_HOST="tcp://h:2375", DOCKER_CERT_PATH=str(tmp_path)))
    assert not ep.tls


def test_current_context_from_config_json(tmp_path):
    make_context(tmp_path, "remote", "tcp://10.0.0.9:2375")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    ep = resolve(env_for(tmp_path))
    assert (ep.context, ep.host, ep.tls) == ("remote", "tcp://10.0.0.9:2375", False)


def test_docker_context_overrides_config_json(tmp_path):
    make_context(tmp_path, "a", "tcp://a:2375")
    make_context(tmp_path, "b", "unix:///b.sock")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "a"}))
    ep = resolve(env_for(tmp_path, DOCKER_CONTEXT="b"))
    assert (ep.context, ep.unix_socket) == ("b", "/b.sock")


def test_docker_host_overrides_contexts(tmp_path):
    make_context(tmp_path, "a", "tcp://a:2375")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "a"}))
    ep = resolve(env_for(tmp_path, DOCKER_HOST="unix:///x.sock", DOCKER_CONTEXT="a"))
    assert (ep.context, ep.host) == ("default", "unix:///x.sock")


def test_base_url_overrides_everything(tmp_path):
    ep = resolve(env_for(tmp_path, DOCKER_CONTEXT="a", DOCKER_HOST="tcp://x:1"), "unix:///y")
    assert ep.host == "unix:///y"


def test_default_context_by_name_is_the_env(tmp_path):
    ep = resolve(env_for(tmp_path, DOCKER_CONTEXT="default"))
    assert ep.host == DEFAULT_HOST


def test_context_tls_files_and_skip_verify(tmp_path):
    tls_dir = make_context(tmp_path, "secure", "tcp://s:2376", tls=True)
    ep = resolve(env_for(tmp_path, DOCKER_CONTEXT="secure"))
    assert ep.tls and ep.verify and ep.ca == str(tls_dir / "ca.pem")
    make_context(tmp_path, "skip", "tcp://s:2376", skip=True)
    ep = resolve(env_for(tmp_path, DOCKER_CONTEXT="skip"))
    assert ep.tls and not ep.verify


def test_missing_context_is_a_clear_error(tmp_path):
    with pytest.raises(EngineUnavailable, match="context 'nope' not found"):
        resolve(env_for(tmp_path, DOCKER_CONTEXT="nope"))


def test_broken_config_json_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(EngineUnavailable, match=r"config\.json"):
        resolve(env_for(tmp_path))


def test_docker_tls_without_verify(tmp_path):
    ep = resolve(env_for(tmp_path, DOCKER_HOST="tcp://h:2376", DOCKER_TLS="1"))
    assert ep.tls and not ep.verify
