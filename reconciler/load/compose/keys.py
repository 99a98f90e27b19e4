"""THE table of Compose Specification keys: each one honoured (and how it maps onto spec v1)
or refused (and why). One table, two readers: load/compose/checks.py refuses keys with it
(a located error naming the key and the reason), and load/compose/doc.py writes
docs/compose.md from it (scripts/gen-compose-doc.py; tests/unit/load/test_compose_doc.py
checks that the committed doc is the generated one, so the two cannot drift).

A key is a dotted pattern: `*` stands for any name (a service, a network), `[]` for the items
of a list written in the long (mapping) form. `x-*` extension keys are accepted anywhere, as
the Compose Specification says, and ignored.
"""

from __future__ import annotations

from msgspec import Struct

HONOURED = "honoured"
REFUSED = "refused"
NOT_YET = "not supported yet"


class Rule(Struct, frozen=True):
    """One row of the table: a key pattern, honoured or refused, and how or why."""

    key: str  # dotted pattern, e.g. services.*.build.args
    verdict: str  # HONOURED | REFUSED
    how: str  # honoured: how it maps onto spec v1; refused: why


def _h(key: str, how: str) -> Rule:
    return Rule(key, HONOURED, how)


def _r(key: str, why: str = NOT_YET) -> Rule:
    return Rule(key, REFUSED, why)


_S = "services.*"
# container fields spec v1 has under Compose's own names and forms: translate.py copies them
PASSED_FIELDS = (
    "expose", "secrets", "configs", "stop_signal", "cap_add", "cap_drop", "privileged",
    "security_opt", "read_only", "tmpfs", "devices", "sysctls", "ulimits", "shm_size",
    "mem_limit", "memswap_limit", "mem_reservation", "cpus", "cpu_shares", "cpuset",
    "pids_limit", "extra_hosts", "dns", "dns_search", "dns_opt", "network_mode",
    "mac_address", "platform", "runtime", "tty", "stdin_open", "logging",
)  # fmt: skip

RULES: tuple[Rule, ...] = (
    # --- top level ---------------------------------------------------------------------------
    _h("version", "ignored with a note (obsolete in the Compose Specification)"),
    _h("name", "the project name (after -p and COMPOSE_PROJECT_NAME; must be a valid name)"),
    _h(
        "include",
        "the listed Compose files are loaded and their services, networks and "
        "volumes added; a name defined twice is an error",
    ),
    _h("include[].path", "a file or a list of files (merged as with -f)"),
    _h("include[].project_directory", "relative paths of the included file resolve here"),
    _h("include[].env_file", "variables for interpolating the included file"),
    _h("services", "each enabled service becomes a `containers` entry of the same key"),
    _h("networks", "`networks` entries"),
    _h("volumes", "`volumes` entries"),
    _h(
        "secrets",
        "`secrets` entries: file (a host path) or environment; mounted read-only at "
        "/run/secrets/NAME in the services that list them, as Compose does without Swarm",
    ),
    _h("secrets.*.file", "secrets.*.file"),
    _h("secrets.*.environment", "secrets.*.environment"),
    _h("secrets.*.name", "secrets.*.name"),
    _h("secrets.*.external", "secrets.*.external (Swarm only; refused by spec v1 elsewhere)"),
    _h(
        "configs",
        "`configs` entries: file, environment or content; mounted read-only at /NAME or the target",
    ),
    _r("secrets.*.driver", "secret drivers need Swarm"),
    _r("secrets.*.driver_opts", "secret drivers need Swarm"),
    _r("secrets.*.template_driver", "templated secrets need Swarm"),
    _r("secrets.*.labels", "labels of Swarm secrets"),
    _r("configs.*.template_driver", "templated configs need Swarm"),
    _r("configs.*.labels", "labels of Swarm configs"),
    _h("configs.*.file", "configs.*.file"),
    _h("configs.*.environment", "configs.*.environment"),
    _h("configs.*.content", "configs.*.content"),
    _h("configs.*.name", "configs.*.name"),
    _h("configs.*.external", "configs.*.external (Swarm only; refused by spec v1 elsewhere)"),
    _r("models", "AI models need Docker Model Runner, which reconciler does not drive"),
    # --- services ------------------------------------------------------------------------------
    _h(
        f"{_S}.image",
        "with `build`: the tag of the built image; alone: an `images` entry "
        "pulled by `pull_policy`",
    ),
    _h(
        f"{_S}.build",
        "an `images` entry built from the context (tag: `image`, else "
        "`<project>-<service>`) and the container runs it; a string is the context",
    ),
    _h(f"{_S}.build.context", "build.context (a local folder; a Git URL is refused)"),
    _h(f"{_S}.build.dockerfile", "build.dockerfile"),
    _h(
        f"{_S}.build.args", "build.args (list or mapping; `- NAME` takes NAME from the environment)"
    ),
    _h(f"{_S}.build.target", "build.target"),
    _h(f"{_S}.build.labels", "build.labels (list or mapping)"),
    _r(f"{_S}.build.dockerfile_inline"),
    _r(f"{_S}.build.additional_contexts"),
    _h(f"{_S}.build.cache_from", "build.cache_from"),
    _r(f"{_S}.build.cache_to", "exporting a build cache needs buildx"),
    _h(
        f"{_S}.build.secrets",
        "build.secrets (id: the secret's `target` or name; its top-level `file`; BuildKit)",
    ),
    _h(f"{_S}.build.ssh", "build.ssh (list or mapping; BuildKit)"),
    _h(f"{_S}.build.network", "build.network"),
    _h(f"{_S}.build.extra_hosts", "build.extra_hosts (list or mapping)"),
    _h(f"{_S}.build.shm_size", "build.shm_size (classic builder; BuildKit says it is not applied)"),
    _r(f"{_S}.build.isolation", "Windows containers only"),
    _r(f"{_S}.build.privileged"),
    _r(f"{_S}.build.no_cache", "builds are cached by source hash; change an input to rebuild"),
    _r(f"{_S}.build.pull"),
    _r(f"{_S}.build.platforms", "multi-platform builds need buildx"),
    _r(f"{_S}.build.tags", "one tag per built image: set `image`"),
    _r(f"{_S}.build.ulimits"),
    _r(f"{_S}.build.entitlements"),
    _r(f"{_S}.build.provenance", "attestations need buildx"),
    _r(f"{_S}.build.sbom", "attestations need buildx"),
    _h(
        f"{_S}.pull_policy",
        "the pulled image's policy: always, never, missing / "
        "if_not_present (= if-missing); build and missing on a built service",
    ),
    _h(f"{_S}.command", "command (a string is split like a shell, a list is kept)"),
    _h(f"{_S}.entrypoint", "entrypoint (string or list)"),
    _h(
        f"{_S}.environment",
        "env (list or mapping; `FOO:` or `- FOO` takes FOO from the "
        "environment, and is left out when it is unset; numbers and booleans become text)",
    ),
    _h(
        f"{_S}.env_file",
        "env_file (a path, a list of paths, or `{path, required}`: a "
        "missing file that is not required is skipped)",
    ),
    _h(f"{_S}.env_file[].path", "env_file"),
    _h(f"{_S}.env_file[].required", "false: skipped when missing"),
    _r(f"{_S}.env_file[].format", "only the default format is read"),
    _h(f"{_S}.ports", "ports (short `[IP:][HOST:]CONTAINER[/PROTO]`, numbers too)"),
    _h(f"{_S}.ports[].target", "ports[].container"),
    _h(f"{_S}.ports[].published", "ports[].host (a port or a range)"),
    _h(f"{_S}.ports[].host_ip", "ports[].host_ip"),
    _h(f"{_S}.ports[].protocol", "ports[].protocol"),
    _h(f"{_S}.ports[].mode", "host or ingress: the same on one engine (ingress is Swarm's)"),
    _h(f"{_S}.ports[].name", "descriptive only (Compose does not send it to the engine)"),
    _h(f"{_S}.ports[].app_protocol", "descriptive only (Compose does not send it to the engine)"),
    _h(
        f"{_S}.volumes",
        "volumes (short `SRC:TARGET[:ro|rw]`; a relative path is a bind "
        "mount resolved beside the Compose file)",
    ),
    _h(f"{_S}.volumes[].type", "volume or bind (tmpfs, npipe, cluster and image are refused)"),
    _h(f"{_S}.volumes[].source", "volumes[].source"),
    _h(f"{_S}.volumes[].target", "volumes[].target"),
    _h(f"{_S}.volumes[].read_only", "volumes[].read_only"),
    _h(f"{_S}.volumes[].consistency", "descriptive only (no effect on Linux, as in Compose)"),
    _h(f"{_S}.volumes[].bind", "volumes[].bind: propagation, create_host_path, selinux"),
    _h(f"{_S}.volumes[].volume", "volumes[].volume: nocopy (subpath is refused by spec v1)"),
    _r(f"{_S}.volumes[].tmpfs", "use the service's tmpfs key"),
    _r(f"{_S}.volumes[].image", NOT_YET),
    _r(f"{_S}.volumes_from", "name the volumes each container mounts instead"),
    _h(f"{_S}.working_dir", "workdir"),
    _h(f"{_S}.user", "user"),
    _h(f"{_S}.restart", "restart (no, always, on-failure[:N], unless-stopped)"),
    _h(f"{_S}.scale", "replicas"),
    _h(f"{_S}.deploy", "replicas, mode: replicated and resources (the single-engine meaning)"),
    _h(f"{_S}.deploy.replicas", "replicas"),
    _h(f"{_S}.deploy.mode", "replicated only (global needs Swarm)"),
    _h(
        f"{_S}.deploy.resources",
        "deploy.resources: limits (cpus, memory, pids) and reservations (cpus, memory)",
    ),
    _r(f"{_S}.deploy.restart_policy", "use restart"),
    _r(f"{_S}.deploy.labels", "labels of Swarm services; use labels"),
    _r(f"{_S}.deploy.placement", "needs Swarm"),
    _r(
        f"{_S}.deploy.update_config",
        "needs Swarm; reconciler replaces one container at a time with rollback",
    ),
    _r(f"{_S}.deploy.rollback_config", "needs Swarm"),
    _r(f"{_S}.deploy.endpoint_mode", "needs Swarm"),
    _h(f"{_S}.depends_on", "depends_on (list or mapping)"),
    _h(
        f"{_S}.depends_on.*.condition",
        "service_started -> started, service_healthy -> "
        "healthy, service_completed_successfully -> completed",
    ),
    _h(
        f"{_S}.depends_on.*.required",
        "false: a dependency on a service that is not enabled (profiles) is left out",
    ),
    _h(f"{_S}.depends_on.*.restart", "depends_on.*.restart"),
    _h(f"{_S}.healthcheck", "healthcheck"),
    _h(f"{_S}.healthcheck.test", "healthcheck.test (a string is CMD-SHELL)"),
    _h(f"{_S}.healthcheck.interval", "healthcheck.interval"),
    _h(f"{_S}.healthcheck.timeout", "healthcheck.timeout"),
    _h(f"{_S}.healthcheck.retries", "healthcheck.retries"),
    _h(f"{_S}.healthcheck.start_period", "healthcheck.start_period"),
    _h(f"{_S}.healthcheck.disable", "true: the image's health check is off (test NONE)"),
    _h(f"{_S}.healthcheck.start_interval", "healthcheck.start_interval"),
    _h(f"{_S}.labels", "labels (list or mapping)"),
    _h(f"{_S}.stop_grace_period", "stop_timeout"),
    _h(f"{_S}.init", "init"),
    _h(f"{_S}.container_name", "name"),
    _h(f"{_S}.hostname", "hostname"),
    _h(f"{_S}.networks", "networks (list or mapping)"),
    _h(f"{_S}.networks.*.aliases", "networks[].aliases"),
    _h(f"{_S}.networks.*.ipv4_address", "networks.*.ipv4_address"),
    _h(f"{_S}.networks.*.ipv6_address", "networks.*.ipv6_address"),
    _r(f"{_S}.networks.*.link_local_ips"),
    _r(f"{_S}.networks.*.mac_address"),
    _r(f"{_S}.networks.*.driver_opts"),
    _r(f"{_S}.networks.*.priority"),
    _r(f"{_S}.networks.*.gw_priority"),
    _r(f"{_S}.networks.*.interface_name"),
    _h(
        f"{_S}.profiles",
        "the service is enabled only when one of its profiles is active "
        "(--profile, COMPOSE_PROFILES)",
    ),
    _h(
        f"{_S}.extends",
        "the service starts from another one (same file or `file:`), merged by Compose's rules",
    ),
    _h(f"{_S}.extends.service", "the service extended"),
    _h(f"{_S}.extends.file", "the file that defines it (relative to this file)"),
    _h(f"{_S}.attach", "accepted: apply never attaches to output (use reconciler logs -f)"),
    _r(f"{_S}.develop", "use reconciler watch (it re-applies on spec and build-context changes)"),
    _r(
        f"{_S}.links",
        "containers reach each other by service name on their networks; use "
        "networks.*.aliases for another name",
    ),
    _r(f"{_S}.external_links", "join the other project's network instead"),
    _r(f"{_S}.post_start", NOT_YET + " (spec v1's exec runs commands after start)"),
    _r(f"{_S}.pre_stop", NOT_YET),
    _r(f"{_S}.pull_refresh_after", NOT_YET + " (use pull_policy: always)"),
    _r(f"{_S}.provider", "provider services run external tools, which reconciler does not"),
    _r(f"{_S}.models", "AI models need Docker Model Runner"),
    _r(f"{_S}.gpus", NOT_YET),
    _r(f"{_S}.use_api_socket", "would give the container the engine's credentials"),
    _r(f"{_S}.credential_spec", "Windows containers only"),
    _r(f"{_S}.isolation", "Windows containers only"),
    _r(f"{_S}.label_file", NOT_YET),
    _r(f"{_S}.annotations", NOT_YET),
    _r(f"{_S}.blkio_config", NOT_YET),
    _r(f"{_S}.cgroup", NOT_YET),
    _r(f"{_S}.cgroup_parent", NOT_YET),
    _r(f"{_S}.cpu_count", "Windows containers only"),
    _r(f"{_S}.cpu_percent", "Windows containers only"),
    _r(f"{_S}.cpu_period", NOT_YET),
    _r(f"{_S}.cpu_quota", NOT_YET),
    _r(f"{_S}.cpu_rt_period", NOT_YET),
    _r(f"{_S}.cpu_rt_runtime", NOT_YET),
    _r(f"{_S}.device_cgroup_rules", NOT_YET),
    _r(f"{_S}.domainname", NOT_YET),
    _r(f"{_S}.group_add", NOT_YET),
    _r(f"{_S}.ipc", NOT_YET),
    _r(f"{_S}.mem_swappiness", NOT_YET),
    _r(f"{_S}.oom_kill_disable", NOT_YET),
    _r(f"{_S}.oom_score_adj", NOT_YET),
    _r(f"{_S}.pid", NOT_YET),
    _r(f"{_S}.storage_opt", NOT_YET),
    _r(f"{_S}.userns_mode", NOT_YET),
    _r(f"{_S}.uts", NOT_YET),
    # container fields spec v1 has under Compose's names and forms: copied as written
    *(_h(f"{_S}.{name}", f"{name} (same name and forms in spec v1)") for name in PASSED_FIELDS),
    # --- networks ----------------------------------------------------------------------------
    _h("networks.*.driver", "driver"),
    _h("networks.*.internal", "internal"),
    _h("networks.*.labels", "labels (list or mapping)"),
    _h("networks.*.external", "external (the network must exist; never created or removed)"),
    _h("networks.*.name", "name (the engine name)"),
    _h("networks.*.ipam", "ipam (a single pool with only a subnet is written subnet)"),
    _h("networks.*.ipam.config", "ipam.config (address pools)"),
    _h("networks.*.ipam.config[].subnet", "subnet"),
    _h("networks.*.ipam.driver", "ipam.driver"),
    _h("networks.*.ipam.options", "ipam.options"),
    _h("networks.*.ipam.config[].ip_range", "ipam.config[].ip_range"),
    _h("networks.*.ipam.config[].gateway", "ipam.config[].gateway"),
    _h("networks.*.ipam.config[].aux_addresses", "ipam.config[].aux_addresses"),
    _h("networks.*.driver_opts", "driver_opts"),
    _h("networks.*.attachable", "attachable"),
    _h("networks.*.enable_ipv6", "enable_ipv6"),
    _r("networks.*.enable_ipv4", NOT_YET),
    # --- volumes -----------------------------------------------------------------------------
    _h("volumes.*.driver", "driver"),
    _h("volumes.*.driver_opts", "driver_opts"),
    _h("volumes.*.labels", "labels (list or mapping)"),
    _h("volumes.*.external", "external (the volume must exist; never created or removed)"),
    _h("volumes.*.name", "name (the engine name)"),
)

TABLE: dict[str, Rule] = {rule.key: rule for rule in RULES}
# patterns that have sub-keys in the table: their mappings' keys are checked one by one
PARENTS: frozenset[str] = frozenset(
    rule.key.rsplit(".", 1)[0] for rule in RULES if "." in rule.key
) | {""}


# levels whose keys are names (a service, a network), not keys of the table
NAME_LEVELS = frozenset(
    {"services", "networks", "volumes", "secrets", "configs", f"{_S}.depends_on", f"{_S}.networks"}
)


def child_pattern(parent: str, key: str) -> str:
    """The table pattern of `key` under `parent` (a name level gives `*`)."""
    if parent in NAME_LEVELS:
        return f"{parent}.*"
    return f"{parent}.{key}" if parent else key


def refusal(pattern: str) -> Rule | None:
    """The rule of a refused key, else None."""
    rule = TABLE.get(pattern)
    return rule if rule is not None and rule.verdict == REFUSED else None
