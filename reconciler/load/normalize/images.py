"""The `images` section: pull, build and commit entries -> ImageSpec (model/spec.py).

Called by load/normalize/normalizer.py; references between images are checked later by
load/semantics.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.load.hints import type_problem
from reconciler.load.normalize.fields import ProjectFields
from reconciler.load.normalize.runtime_values import parse_extra_host, parse_size
from reconciler.load.normalize.scalars import (
    PROTOCOLS,
    port_number,
    reference_problem,
    resolve_host_path,
)
from reconciler.load.source import PathT
from reconciler.model import spec as S
from reconciler.model.labels import default_image_tag


class Images(ProjectFields):
    """Normalises image entries of a project (whose name gives the default tags)."""

    def image(self, key: str, value: Any) -> S.ImageSpec | None:
        path: PathT = ("images", key)
        location = self.loc(path)
        if isinstance(value, str):  # shorthand: `base: busybox:1` = pull
            value = {"pull": value}
        d = self.mapping(value, path)
        kinds = [k for k in ("pull", "build", "commit") if k in d]
        if len(kinds) != 1:
            if not kinds:
                self.err(path, "an image needs one of pull, build or commit", at_key=True)
            else:
                self.err(
                    (*path, kinds[1]),
                    f"an image has exactly one of pull, build or commit, not both "
                    f"{kinds[0]} and {kinds[1]}",
                    at_key=True,
                )
            return None
        kind = kinds[0]
        tag = self.opt_string(d, "tag", path)
        if tag is not None:
            if kind == "pull":
                self.err(
                    (*path, "tag"),
                    "tag is only for build and commit; pull names the reference itself",
                    at_key=True,
                )
            elif (why := reference_problem(tag)) is not None:
                self.err((*path, "tag"), why)
        policy = self.opt_string(d, "policy", path) or "if-missing"
        if "policy" in d and kind != "pull":
            self.err((*path, "policy"), "policy is only for pull", at_key=True)
        elif policy not in S.PULL_POLICIES:
            self.err(
                (*path, "policy"), f"must be one of {', '.join(S.PULL_POLICIES)}, not {policy!r}"
            )
        if kind == "pull":
            ref = self.string(d["pull"], (*path, "pull"))
            if ref is None:
                return None
            if (why := reference_problem(ref)) is not None:
                self.err((*path, "pull"), why)
            return S.ImageSpec(key, "pull", ref, policy=policy, location=location)
        reference = tag or default_image_tag(self.project, key)
        if tag is None and self.project and reference_problem(reference) is not None:
            self.err(
                path,
                f"the default tag {reference} is not a valid image reference",
                "set tag:, or use a lowercase key without a trailing - or .",
                at_key=True,
            )
        if kind == "build":
            build = self.build((*path, "build"), d["build"])
            if build is None:
                return None
            return S.ImageSpec(key, "build", reference, build=build, location=location)
        commit = self.commit((*path, "commit"), d["commit"])
        if commit is None:
            return None
        return S.ImageSpec(key, "commit", reference, commit=commit, location=location)

    def build(self, path: PathT, value: Any) -> S.BuildSpec | None:
        if isinstance(value, str):
            value = {"context": value}
        d = self.mapping(value, path)
        context = self.opt_string(d, "context", path) or "."
        dockerfile = self.opt_string(d, "dockerfile", path) or "Dockerfile"
        return S.BuildSpec(
            context=resolve_host_path(context, self.folder),
            dockerfile=dockerfile,
            args=self.str_map(d.get("args"), (*path, "args")),
            target=self.opt_string(d, "target", path),
            labels=self.str_map(d.get("labels"), (*path, "labels")),
            **self.build_options(path, d),
        )

    def build_options(self, path: PathT, d: Mapping[str, Any]) -> dict[str, Any]:
        """How the image is built: builder, cache_from, secrets, ssh, network, extra_hosts,
        shm_size (BuildSpec's fields of the same names)."""
        out: dict[str, Any] = {}
        builder = self.opt_string(d, "builder", path)
        if builder is not None and builder not in S.BUILDERS:
            self.err((*path, "builder"), f"must be one of {', '.join(S.BUILDERS)}, not {builder!r}")
        elif builder is not None:
            out["builder"] = builder
        for key in ("cache_from", "ssh"):
            if d.get(key) is not None:
                out[key] = self.string_list(d[key], (*path, key))
        if d.get("secrets") is not None:
            secrets = self.str_map(d["secrets"], (*path, "secrets"), allow_list=False)
            out["secrets"] = {k: resolve_host_path(v, self.folder) for k, v in secrets.items()}
        network = self.opt_string(d, "network", path)
        if network is not None:
            out["network"] = network
        hosts: list[str] = []
        for i, item in enumerate(
            self.string_list(d.get("extra_hosts") or [], (*path, "extra_hosts"))
        ):
            try:
                hosts.append(parse_extra_host(item))
            except ValueError as exc:
                self.err((*path, "extra_hosts", i), str(exc))
        if hosts:
            out["extra_hosts"] = tuple(hosts)
        for key in ("secrets", "ssh"):
            if out.get(key) and out.get("builder") == "classic":
                self.err((*path, key), f"build.{key} needs BuildKit; `builder: classic` has none")
        if d.get("shm_size") is not None:
            try:
                out["shm_size"] = parse_size(d["shm_size"], "shm_size")
            except ValueError as exc:
                self.err((*path, "shm_size"), str(exc))
        return out

    def string_list(self, value: Any, path: PathT) -> tuple[str, ...]:
        """A list of strings (a single string is a list of one)."""
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.problems.append(type_problem(self.doc, path, "a list of strings", value))
            return ()
        found = (self.string(item, (*path, i)) for i, item in enumerate(value))
        return tuple(s for s in found if s is not None)

    def commit(self, path: PathT, value: Any) -> S.CommitSpec | None:
        d = self.mapping(value, path)
        base = self.opt_string(d, "from", path)
        if base is None:
            if "from" not in d:
                self.err(path, 'missing required key "from"', at_key=True)
            return None
        run_value = d.get("run", [])
        if isinstance(run_value, str):
            run_value = [run_value]
        steps: list[str] = []
        if isinstance(run_value, list):
            for i, step in enumerate(run_value):
                s = self.string(step, (*path, "run", i))
                if s is not None:
                    steps.append(s)
        elif run_value is not None:
            self.problems.append(
                type_problem(self.doc, (*path, "run"), "a list of strings", run_value)
            )
        cpath = (*path, "changes")
        c = self.mapping(d.get("changes"), cpath)
        expose: list[str] = []
        raw_expose = c.get("expose") or []
        if not isinstance(raw_expose, list):
            self.problems.append(type_problem(self.doc, (*cpath, "expose"), "a list", raw_expose))
            raw_expose = []
        for i, item in enumerate(raw_expose):
            ipath = (*cpath, "expose", i)
            if isinstance(item, int) and not isinstance(item, bool):
                item = str(item)
            s = self.string(item, ipath)
            if s is None:
                continue
            number, slash, proto = s.partition("/")
            try:
                port_number(number, "port")
                if slash and proto not in PROTOCOLS:
                    raise ValueError(f"invalid protocol {proto!r}: expected tcp, udp or sctp")
            except ValueError as exc:
                self.err(ipath, str(exc))
                continue
            expose.append(s)
        changes = S.CommitChanges(
            cmd=self.words(c.get("cmd"), (*cpath, "cmd")),
            entrypoint=self.words(c.get("entrypoint"), (*cpath, "entrypoint")),
            env=self.str_map(c.get("env"), (*cpath, "env")),
            workdir=self.opt_string(c, "workdir", cpath),
            expose=tuple(expose),
            user=self.opt_string(c, "user", cpath),
            labels=self.str_map(c.get("labels"), (*cpath, "labels")),
        )
        return S.CommitSpec(base=base, run=tuple(steps), changes=changes)
