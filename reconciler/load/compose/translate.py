"""The merged Compose model -> a spec v1 document (plain data), with where each spec v1 value
came from (`links`: spec v1 path -> model path) and what was rewritten (`notes`, the comments
`reconciler convert` writes).

Services become `containers` (same keys); a service with `build` gets an `images` entry built
from its context (tag: `image`, else `<project>-<service>`), one with only `image` an `images`
entry pulled by its `pull_policy`. Called by load/compose/loader.py; the result goes through
spec v1's own schema, normaliser and semantic checks, so both inputs mean the same.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.load.compose.bindings import Bindings
from reconciler.load.compose.build_options import build_options
from reconciler.load.compose.keys import PASSED_FIELDS
from reconciler.load.compose.merge import Tree
from reconciler.load.compose.resources import Resources
from reconciler.load.compose.values import V1, boolean, integer, text
from reconciler.load.source import PathT

CONDITIONS = {
    "service_started": "started",
    "service_healthy": "healthy",
    "service_completed_successfully": "completed",
}
PULL = {
    "always": "always",
    "never": "never",
    "missing": "if-missing",
    "if_not_present": "if-missing",
}
# service key -> spec v1 container key, for the keys copied as they are (modulo types)
RENAMED = {"working_dir": "workdir", "container_name": "name", "stop_grace_period": "stop_timeout"}
SAME = ("user", "restart", "hostname")
PASSED_BOOLEANS = ("privileged", "read_only", "tty", "stdin_open")


class Translator:
    def __init__(
        self,
        tree: Tree,
        project: str,
        variables: Mapping[str, str],
        folder: Path,
        out_folder: Path | None = None,
    ):
        self.tree = tree
        self.project = project
        self.variables = variables  # `FOO:` / `- FOO` take FOO from here
        self.folder = folder  # the project folder: relative paths resolve here
        self.out_folder = out_folder or folder  # paths are written relative to this one
        self.out = V1({"version": 1, "project": project})
        self.out.links[("containers",)] = ("services",)
        self.pulled: dict[tuple[str, str], str] = {}  # (reference, policy) -> images key

    def err(self, path: PathT, message: str, hint: str | None = None) -> None:
        self.out.problems.append(self.tree.problem(path, message, hint))

    def link(self, v1: PathT, model: PathT) -> None:
        self.out.links[v1] = model

    def run(self) -> V1:
        data = self.tree.data
        images: dict[str, Any] = {}
        containers: dict[str, Any] = {}
        for name, service in (data.get("services") or {}).items():
            if not isinstance(service, dict):
                self.err(("services", name), "a service must be a mapping")
                continue
            containers[name] = self.service(name, service, images)
        resources = Resources(self.err, self.link, self.host_path)
        networks = {k: resources.network(k, v) for k, v in (data.get("networks") or {}).items()}
        volumes = {k: resources.volume(k, v) for k, v in (data.get("volumes") or {}).items()}
        files = {
            section: {k: resources.file_source(section, k, v) for k, v in entries.items()}
            for section in ("secrets", "configs")
            if isinstance(entries := data.get(section), dict)
        }
        for section, value in (
            ("secrets", files.get("secrets")),
            ("configs", files.get("configs")),
            ("images", images),
            ("containers", containers),
            ("networks", networks),
            ("volumes", volumes),
        ):
            if value:
                self.out.data[section] = value
        return self.out

    # --- services ------------------------------------------------------------------------------

    def service(self, name: str, s: dict[str, Any], images: dict[str, Any]) -> dict[str, Any]:
        path: PathT = ("services", name)
        c: dict[str, Any] = {"image": self.image(name, s, images)}
        for key in ("command", "entrypoint"):
            if key in s and s[key] is not None:
                value = s[key]
                c[key] = [text(w) for w in value] if isinstance(value, list) else value
        env = self.env(s.get("environment"))
        for key, value in (s.get("environment") or {}).items():
            if value is None and key in env:
                self.out.notes[("containers", name, "env", key)] = "from the environment"
        if env:
            c["env"] = env
            self.link(("containers", name, "env"), (*path, "environment"))
        files = self.env_files(s.get("env_file"), (*path, "env_file"))
        if files:
            c["env_file"] = files
        bindings = Bindings(self.tree, self.err, self.link, self.host_path)
        if s.get("ports"):
            c["ports"] = [bindings.port(p, (*path, "ports", i)) for i, p in enumerate(s["ports"])]
        if s.get("volumes"):
            c["volumes"] = [
                m
                for i, v in enumerate(s["volumes"])
                if (m := bindings.mount(v, (*path, "volumes", i))) is not None
            ]
        for key, v1 in RENAMED.items():
            if s.get(key) is not None:
                c[v1] = s[key]
                self.link(("containers", name, v1), (*path, key))
        for key in SAME:
            if s.get(key) is not None:
                c[key] = s[key]
        if "init" in s:
            c["init"] = boolean(s["init"])
        for key in PASSED_FIELDS:  # the Compose names spec v1 has (load/compose/keys.py)
            if s.get(key) is not None:
                c[key] = boolean(s[key]) if key in PASSED_BOOLEANS else s[key]
        if s.get("secrets"):
            self.out.notes[("containers", name, "secrets")] = (
                "each secret file becomes a read-only bind mount at /run/secrets/NAME "
                "(as Compose does without Swarm)"
            )
        replicas = s.get("scale")
        deploy: dict[str, Any] = s["deploy"] if isinstance(s.get("deploy"), dict) else {}
        if deploy.get("mode", "replicated") != "replicated":
            self.err((*path, "deploy", "mode"), "deploy.mode: global needs Swarm; use replicas")
        if deploy.get("resources") is not None:
            c["deploy"] = {"resources": deploy["resources"]}
        if deploy.get("replicas") is not None:
            replicas = deploy["replicas"]
            self.link(("containers", name, "replicas"), (*path, "deploy", "replicas"))
        elif replicas is not None:
            self.link(("containers", name, "replicas"), (*path, "scale"))
        if replicas is not None:
            c["replicas"] = integer(replicas)
        deps = self.depends_on(name, s.get("depends_on"))
        if deps:
            c["depends_on"] = deps
        if isinstance(s.get("healthcheck"), dict):
            hc = self.healthcheck(s["healthcheck"], path)
            if hc is not None:
                c["healthcheck"] = hc
        if s.get("labels"):
            c["labels"] = self.strings(s["labels"])
        nets = s.get("networks")
        if isinstance(nets, dict) and nets:
            c["networks"] = {k: self.attachment(v) for k, v in nets.items()}
        return c

    def attachment(self, value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if isinstance(value, dict):
            if value.get("aliases"):
                out["aliases"] = [text(a) for a in value["aliases"]]
            for key in ("ipv4_address", "ipv6_address"):
                if value.get(key):
                    out[key] = value[key]
        return out

    def image(self, name: str, s: dict[str, Any], images: dict[str, Any]) -> str:
        path: PathT = ("services", name)
        ref = s.get("image")
        policy = s.get("pull_policy")
        if "build" in s and s["build"] is not None:
            build = s["build"]
            b: dict[str, Any] = {}
            if isinstance(build, str):
                build = {"context": build}
            context = build.get("context", ".")
            if isinstance(context, str) and ("://" in context or context.startswith("git@")):
                self.err(
                    (*path, "build", "context"),
                    "build.context: a remote (Git) context is "
                    "not supported; clone it and give the folder",
                )
            b["context"] = self.host_path(str(context))
            for key in ("dockerfile", "target"):
                if build.get(key) is not None:
                    b[key] = build[key]
            for key in ("args", "labels"):
                if build.get(key):
                    b[key] = self.strings(build[key], take_env=key == "args")
            b.update(
                build_options(build, (*path, "build"), self.tree.data, self.err, self.host_path)
            )
            entry: dict[str, Any] = {"build": b, "tag": ref or f"{self.project}-{name}"}
            if ref is None:
                self.out.notes[("images", name, "tag")] = (
                    "Compose's default tag for a built service: <project>-<service>"
                )
            if policy not in (None, "build", "missing", "if_not_present"):
                self.err(
                    (*path, "pull_policy"),
                    f"pull_policy: {policy!r} on a built service "
                    "is not supported yet (it is built when its sources change)",
                )
            images[name] = entry
            self.link(("images", name), (*path, "build"))
            self.link(("images", name, "build"), (*path, "build"))
            self.link(("images", name, "tag"), (*path, "image") if ref else (*path, "build"))
            return name
        if ref is None:
            self.err(path, "a service needs image or build")
            return ""
        found = PULL.get(str(policy)) if policy is not None else "if-missing"
        if found is None:
            self.err(
                (*path, "pull_policy"),
                f"pull_policy: {policy!r} is not supported yet "
                "(use always, never, missing or if_not_present)",
            )
        mapped = found or "if-missing"
        image_key = self.pulled.get((ref, mapped))
        if image_key is None:
            image_key = self.pulled[(ref, mapped)] = name
            images[image_key] = {
                "pull": ref,
                **({"policy": mapped} if mapped != "if-missing" else {}),
            }
            self.link(("images", image_key), (*path, "image"))
            self.link(("images", image_key, "pull"), (*path, "image"))
            self.link(("images", image_key, "policy"), (*path, "pull_policy"))
        return image_key

    def env(self, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            return {}
        return self.strings(value, take_env=True)

    def strings(self, value: Any, take_env: bool = False) -> dict[str, str]:
        """A mapping (list forms were made mappings) with text values; `KEY:` with no value
        is taken from the environment (left out when unset)."""
        out: dict[str, str] = {}
        for k, v in (value or {}).items():
            if v is None:
                if take_env and k in self.variables:
                    out[str(k)] = self.variables[k]
                elif not take_env:
                    out[str(k)] = ""
                continue
            out[str(k)] = text(v)
        return out

    def env_files(self, value: Any, path: PathT) -> list[Any]:
        items = [value] if isinstance(value, (str, dict)) else value or []
        out: list[Any] = []
        for i, item in enumerate(items):
            ipath = path if isinstance(value, (str, dict)) else (*path, i)
            required = True
            if isinstance(item, dict):
                required = boolean(item.get("required", True))
                item = item.get("path")
            if not isinstance(item, str):
                self.err(ipath, "env_file: expected a path")
                continue
            if required is False:
                out.append({"path": self.host_path(item), "required": False})
            else:
                out.append(self.host_path(item))
        return out

    def host_path(self, name: str) -> str:
        """A host path as spec v1 writes it: relative to the project folder when inside it."""
        absolute = os.path.normpath(os.path.join(self.folder, os.path.expanduser(name)))
        relative = os.path.relpath(absolute, self.out_folder)
        if relative == ".":
            return "."
        return absolute if relative.startswith("..") else "./" + relative

    def depends_on(self, name: str, value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for target, options in (value or {}).items() if isinstance(value, dict) else ():
            path = ("services", name, "depends_on", target)
            condition = "service_started"
            if isinstance(options, dict):
                condition = options.get("condition", "service_started")
            mapped = CONDITIONS.get(condition)
            if mapped is None:
                self.err(
                    (*path, "condition"),
                    f"unknown condition {condition!r}",
                    "use service_started, service_healthy or service_completed_successfully",
                )
                continue
            extra = {
                k: boolean(options[k])
                for k in ("restart", "required")
                if isinstance(options, dict) and k in options
            }
            out[target] = {"condition": mapped, **extra} if extra else mapped
            if condition != "service_started":
                self.out.notes[("containers", name, "depends_on", target)] = (
                    f"condition: {condition}"
                )
            self.link(
                ("containers", name, "depends_on", target),
                (*path, "condition") if isinstance(options, dict) else path,
            )
        return out

    def healthcheck(self, h: dict[str, Any], path: PathT) -> dict[str, Any] | None:
        if boolean(h.get("disable", False)) is True:
            return {"test": ["NONE"]}
        out: dict[str, Any] = {}
        test = h.get("test")
        if isinstance(test, list):
            out["test"] = [text(w) for w in test]
        elif test is not None:
            out["test"] = test
        else:
            self.err(
                (*path, "healthcheck"),
                "healthcheck: timings without a test (tuning the image's own check) are not "
                "supported yet",
                "give the test too",
            )
            return None
        for key in ("interval", "timeout", "start_period", "start_interval"):
            if h.get(key) is not None:
                out[key] = h[key]
        if h.get("retries") is not None:
            out["retries"] = integer(h["retries"])
        return out
