"""Which Docker engine to talk to, resolved the way the docker CLI does. Called by
engine/client.py `EngineClient.connect` (both the raw unix-socket path and the SDK path).

Order (docker CLI `resolveContextName`): DOCKER_HOST set -> the "default" context built from
DOCKER_HOST / DOCKER_TLS / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH; else DOCKER_CONTEXT; else the
`currentContext` of $DOCKER_CONFIG/config.json (~/.docker/config.json); else "default".
A named context is read from $DOCKER_CONFIG/contexts/meta/<sha256(name)>/meta.json
(Endpoints.docker.Host / SkipTLSVerify) and its TLS files from
$DOCKER_CONFIG/contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem.
Standard library only (json, hashlib, os): the read path imports no SDK.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from reconciler.errors import EngineUnavailable

DEFAULT_HOST = "unix:///var/run/docker.sock"
DEFAULT_CONTEXT = "default"


class Endpoint(NamedTuple):
    """A resolved engine address. `tls` means https (tcp hosts only); `verify` checks the
    server against `ca`; `cert`/`key` are the client certificate (None: none)."""

    host: str
    context: str = DEFAULT_CONTEXT
    tls: bool = False
    verify: bool = False
    ca: str | None = None
    cert: str | None = None
    key: str | None = None

    @property
    def unix_socket(self) -> str | None:
        """The socket path when the host is unix://PATH (the raw read path), else None."""
        if self.host.startswith("unix://"):
            return self.host[len("unix://") :] or "/var/run/docker.sock"
        return None


def config_dir(env: Mapping[str, str]) -> str:
    """$DOCKER_CONFIG, else ~/.docker (as the CLI)."""
    return env.get("DOCKER_CONFIG") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".docker"
    )


def context_name(env: Mapping[str, str]) -> str:
    """The context the docker CLI would use with no --host/--context flags."""
    if env.get("DOCKER_HOST"):
        return DEFAULT_CONTEXT
    if env.get("DOCKER_CONTEXT"):
        return env["DOCKER_CONTEXT"]
    path = os.path.join(config_dir(env), "config.json")
    try:
        with open(path, "rb") as f:
            config = json.loads(f.read() or b"{}")
    except FileNotFoundError:
        return DEFAULT_CONTEXT
    except (OSError, ValueError) as exc:
        raise EngineUnavailable(f"cannot read the Docker client config {path}: {exc}") from exc
    current = config.get("currentContext") if isinstance(config, dict) else None
    return current if isinstance(current, str) and current else DEFAULT_CONTEXT


def resolve(env: Mapping[str, str] | None = None, base_url: str | None = None) -> Endpoint:
    """The endpoint for `env` (os.environ by default); `base_url` overrides the host (like
    `docker -H`, which also selects the default context)."""
    env = os.environ if env is None else env
    name = DEFAULT_CONTEXT if base_url else context_name(env)
    if name == DEFAULT_CONTEXT:
        return _default(env, base_url)
    return _named(env, name)


def _default(env: Mapping[str, str], base_url: str | None) -> Endpoint:
    host = base_url or env.get("DOCKER_HOST") or DEFAULT_HOST
    # The CLI (cli/flags/options.go): --tlsverify defaults to DOCKER_TLS_VERIFY != "",
    # --tls to DOCKER_TLS != ""; either turns TLS on, only the first verifies the server.
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    if not (verify or env.get("DOCKER_TLS")) or not host.startswith("tcp://"):
        return Endpoint(host=host)
    certs = env.get("DOCKER_CERT_PATH") or config_dir(env)
    return Endpoint(
        host=host,
        tls=True,
        verify=verify,
        ca=_existing(os.path.join(certs, "ca.pem")),
        cert=_existing(os.path.join(certs, "cert.pem")),
        key=_existing(os.path.join(certs, "key.pem")),
    )


def _named(env: Mapping[str, str], name: str) -> Endpoint:
    digest = hashlib.sha256(name.encode()).hexdigest()
    base = config_dir(env)
    meta_path = os.path.join(base, "contexts", "meta", digest, "meta.json")
    try:
        with open(meta_path, "rb") as f:
            meta = json.loads(f.read())
        docker = meta["Endpoints"]["docker"]
        host = docker.get("Host") or DEFAULT_HOST
    except FileNotFoundError as exc:
        raise EngineUnavailable(
            f"Docker context {name!r} not found ({meta_path} does not exist); "
            "see `docker context ls`"
        ) from exc
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EngineUnavailable(f"invalid Docker context {name!r} in {meta_path}: {exc}") from exc
    tls_dir = os.path.join(base, "contexts", "tls", digest, "docker")
    ca = _existing(os.path.join(tls_dir, "ca.pem"))
    cert = _existing(os.path.join(tls_dir, "cert.pem"))
    key = _existing(os.path.join(tls_dir, "key.pem"))
    skip_verify = bool(docker.get("SkipTLSVerify", False))
    # The CLI (context/docker/load.go): TLS when the context has TLS data or SkipTLSVerify.
    tls = host.startswith("tcp://") and bool(ca or cert or skip_verify)
    return Endpoint(
        host=str(host),
        context=name,
        tls=tls,
        verify=tls and not skip_verify,
        ca=ca,
        cert=cert,
        key=key,
    )


def sdk_kwargs(endpoint: Endpoint) -> dict[str, Any]:
    """docker.APIClient arguments for a TCP/TLS/SSH endpoint (imports the SDK's tls module;
    called only on the SDK path). The SDK turns tcp:// into https:// when `tls` is given."""
    kwargs: dict[str, Any] = {"base_url": endpoint.host}
    if endpoint.tls:
        import docker.tls

        cert = (endpoint.cert, endpoint.key) if endpoint.cert and endpoint.key else None
        kwargs["tls"] = docker.tls.TLSConfig(
            client_cert=cert, ca_cert=endpoint.ca, verify=endpoint.verify
        )
    return kwargs


def keep_tls_verify(api: Any) -> None:
    """Make the SDK client's own CA (DOCKER_CERT_PATH's or the context's ca.pem) win over
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, which requests otherwise prefers for every request
    (psf/requests#3829); the docker CLI verifies against its CA whatever the environment
    says. Proxy settings from the environment still apply."""
    merge = api.merge_environment_settings

    def merged(url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        settings = merge(url, proxies, stream, verify, cert)
        settings["verify"] = api.verify if verify is None else verify
        return settings

    api.merge_environment_settings = merged


def _existing(path: str) -> str | None:
    return path if os.path.isfile(path) else None
