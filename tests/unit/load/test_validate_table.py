# ruff: noqa: E501  (the table holds exact one-line messages)
"""A table of bad specs and the exact problems `validate` reports for them, with locations.

Each case writes `spec.yaml` (plus a few helper files) into a temporary folder, loads it from
there and compares every rendered problem (`FILE:LINE:COL: PATH: MESSAGE (HINT)`); `{tmp}`
stands for the folder.
"""

from __future__ import annotations

import pytest

from reconciler.errors import SpecError
from reconciler.load.loader import load_spec

H = "version: 1\nproject: shop\n"


def case(name: str, text: str, expected: list[str]):
    return pytest.param(text, expected, id=name)


CASES = [
    case(
        "missing-project",
        "version: 1\n",
        [
            'spec.yaml:1:1: missing required key "project"',
        ],
    ),
    case(
        "missing-version",
        "project: shop\n",
        [
            'spec.yaml:1:1: missing required key "version"',
        ],
    ),
    case(
        "bad-version",
        "version: 2\nproject: shop\n",
        [
            "spec.yaml:1:10: version: must be 1, not 2",
        ],
    ),
    case(
        "version-string",
        'version: "1"\nproject: shop\n',
        [
            "spec.yaml:1:10: version: must be 1, not '1' (write 1)",
        ],
    ),
    case(
        "bad-project-name",
        "version: 1\nproject: Shop_1\n",
        [
            "spec.yaml:2:10: project: invalid value 'Shop_1': a project name uses lowercase letters, digits, - and _, starting with a letter or digit, at most 63 characters",
        ],
    ),
    case(
        "top-level-list",
        "- version: 1\n",
        [
            "spec.yaml:1:1: the spec must be a mapping (version, project, images, ...), not a list",
        ],
    ),
    case(
        "scalar-document",
        "hello\n",
        [
            "spec.yaml:1:1: the spec must be a mapping (version, project, images, ...), not a string",
        ],
    ),
    case(
        "empty-file",
        "",
        [
            "spec.yaml:1:1: spec file is empty (start with `version: 1` and `project:`)",
        ],
    ),
    case(
        "comments-only",
        "# nothing here\n",
        [
            "spec.yaml:1:1: spec file is empty (start with `version: 1` and `project:`)",
        ],
    ),
    case(
        "syntax-error",
        H + "containers:\n  web: {image: base\n",
        [
            "spec.yaml:5:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 4, column 8)",
        ],
    ),
    case(
        "tab-indent",
        H + "containers:\n\tweb: {}\n",
        [
            "spec.yaml:4:1: YAML syntax error: found character that cannot start any token (indent YAML with spaces, not tabs)",
        ],
    ),
    case(
        "duplicate-key",
        H + "containers:\n  web: {image: a}\n  web: {image: b}\n",
        [
            "spec.yaml:5:3: containers.web: duplicate key 'web' (first at line 4)",
        ],
    ),
    case(
        "two-documents",
        H + "---\nversion: 1\nproject: shop\n",
        [
            "spec.yaml:3:1: YAML syntax error: but found another document (expected a single document in the stream at line 1, column 1)",
        ],
    ),
    case(
        "python-tag",
        H + "images:\n  a: !!python/object/apply:os.system [ls]\n",
        [
            "spec.yaml:4:6: images.a: unsupported YAML tag !!python/object/apply:os.system",
        ],
    ),
    case(
        "unknown-top-key",
        H + "service:\n  web: {}\n",
        [
            'spec.yaml:3:1: service: unknown key (did you mean "containers"?)',
        ],
    ),
    case(
        "compose-services",
        H + "services:\n  web: {image: base}\n",
        [
            "spec.yaml:3:1: services: unknown key (Compose's services are called containers in a spec v1 file; a file with top-level services and no containers or images is read as a Compose file)",
        ],
    ),
    case(
        "expose-reversed-range",  # expose is a spec v1 field since issue 13
        H + 'containers:\n  web:\n    image: busybox:1\n    expose: ["90-80"]\n',
        [
            "spec.yaml:6:14: containers.web.expose[0]: invalid exposed port '90-80': ports are 1-65535, ranges ascend",
        ],
    ),
    case(
        "network-mode-bad",  # network_mode is a spec v1 field since issue 13
        H + "containers:\n  web:\n    image: busybox:1\n    network_mode: bogus\n",
        [
            "spec.yaml:6:19: containers.web.network_mode: invalid network_mode 'bogus': expected host, none, bridge, container:NAME or service:KEY",
        ],
    ),
    case(
        "compose-volumes-from",
        H + "containers:\n  web:\n    image: busybox:1\n    volumes_from: [db]\n",
        [
            'spec.yaml:6:5: containers.web.volumes_from: unknown key (Compose\'s volumes_from has no spec field: mount the same named volume in both containers, volumes: ["data:/path"])',
        ],
    ),
    case(
        "compose-links",
        H + "containers:\n  web:\n    image: busybox:1\n    links: [db]\n",
        [
            "spec.yaml:6:5: containers.web.links: unknown key (Compose's links are not needed: containers on a shared network reach each other by their key)",
        ],
    ),
    case(
        "ports-string",
        H + 'containers:\n  web:\n    image: busybox:1\n    ports: "8080:80"\n',
        [
            'spec.yaml:6:12: containers.web.ports: must be a list, not a string (write ports: ["8080:80"])',
        ],
    ),
    case(
        "null-env-bare",
        H + "containers:\n  web:\n    image: busybox:1\n    env:\n      FOO:\n",
        [
            'spec.yaml:7:11: containers.web.env.FOO: must be a string, not null (to take FOO from the environment, write env as a list with - FOO; for an empty value write FOO: "")',
        ],
    ),
    case(
        "null-env-word",
        H + "containers:\n  web:\n    image: busybox:1\n    env:\n      FOO: null\n",
        [
            'spec.yaml:7:12: containers.web.env.FOO: must be a string, not null (to take FOO from the environment, write env as a list with - FOO; for an empty value write FOO: "")',
        ],
    ),
    case(
        "duplicate-key-and-others",
        H + "containers:\n  web: {image: a}\n  web: {image: b}\n  x: {image: busybox:1, imag: 2}\n",
        [
            "spec.yaml:5:3: containers.web: duplicate key 'web' (first at line 4)",
            'spec.yaml:6:25: containers.x.imag: unknown key (did you mean "image"?)',
        ],
    ),
    case(
        "image-key-typo-one-edit",
        H + "images:\n  base: {pull: busybox:1}\ncontainers:\n  web: {image: bse}\n",
        [
            "spec.yaml:6:16: containers.web.image: unknown images key 'bse' (did you mean \"base\"? To use the image bse itself, write bse:latest)",
        ],
    ),
    case(
        "unknown-container-key",
        H + "containers:\n  web:\n    image: busybox:1\n    enviroment: {A: b}\n",
        [
            'spec.yaml:6:5: containers.web.enviroment: unknown key (did you mean "env"?)',
        ],
    ),
    case(
        "unknown-key-no-guess",
        H + "containers:\n  web:\n    image: busybox:1\n    zzz: 1\n",
        [
            "spec.yaml:6:5: containers.web.zzz: unknown key (expected one of: image, command, entrypoint, env, env_file, ports, volumes, workdir, user, hostname, restart, replicas, depends_on, healthcheck, labels, state, exec, stop_timeout, init, name, networks, update, endpoint_mode, working_dir, expose, secrets, configs, stop_signal, cap_add, cap_drop, privileged, security_opt, read_only, tmpfs, devices, sysctls, ulimits, shm_size, mem_limit, memswap_limit, mem_reservation, cpus, cpu_shares, cpuset, pids_limit, deploy, extra_hosts, dns, dns_search, dns_opt, network_mode, mac_address, platform, runtime, tty, stdin_open, logging, pull_policy)",
        ],
    ),
    case(
        "missing-image",
        H + "containers:\n  web:\n    command: [sh]\n",
        [
            'spec.yaml:4:3: containers.web: missing required key "image"',
        ],
    ),
    case(
        "container-not-mapping",
        H + "containers:\n  web: busybox\n",
        [
            "spec.yaml:4:8: containers.web: must be a mapping, not a string",
        ],
    ),
    case(
        "containers-list",
        H + "containers:\n  - web\n",
        [
            "spec.yaml:4:3: containers: must be a mapping, not a list",
        ],
    ),
    case(
        "bad-key-name",
        H + "containers:\n  'we b': {image: busybox:1}\n",
        [
            "spec.yaml:4:3: containers[\"we b\"]: invalid key 'we b': a key uses letters, digits, _, . and -, starting with a letter or digit",
        ],
    ),
    case(
        "sexagesimal-port",
        H + "containers:\n  web:\n    image: busybox:1\n    ports: [22:22]\n",
        [
            'spec.yaml:6:13: containers.web.ports[0]: YAML 1.1 reads 22:22 as the number 1342 (quote it: "22:22")',
        ],
    ),
    case(
        "int-port",
        H + "containers:\n  web:\n    image: busybox:1\n    ports:\n      - 8080\n",
        [
            'spec.yaml:7:9: containers.web.ports[0]: must be a string or a mapping, not an integer (quote it: "8080")',
        ],
    ),
    case(
        "bool-env",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        "    env:\n"
        "      DEBUG: yes\n"
        "      TLS: on\n",
        [
            'spec.yaml:7:14: containers.web.env.DEBUG: must be a string, not a boolean (YAML 1.1 reads yes as true; quote it: "yes")',
            'spec.yaml:8:12: containers.web.env.TLS: must be a string, not a boolean (YAML 1.1 reads on as true; quote it: "on")',
        ],
    ),
    case(
        "int-env",
        H + "containers:\n  web:\n    image: busybox:1\n    env: {WORKERS: 4}\n",
        [
            'spec.yaml:6:20: containers.web.env.WORKERS: must be a string, not an integer (quote it: "4")',
        ],
    ),
    case(
        "octal-env",
        H + "containers:\n  web:\n    image: busybox:1\n    env: {UMASK: 0755}\n",
        [
            'spec.yaml:6:18: containers.web.env.UMASK: YAML 1.1 reads 0755 as the octal number 493 (quote it: "0755", or write 493 if you mean that number)',
        ],
    ),
    case(
        "null-env",
        H + "containers:\n  web:\n    image: busybox:1\n    env: {EMPTY: }\n",
        [
            'spec.yaml:6:18: containers.web.env.EMPTY: must be a string, not null (to take EMPTY from the environment, write env as a list with - EMPTY; for an empty value write EMPTY: "")',
        ],
    ),
    case(
        "date-label",
        H + "containers:\n  web:\n    image: busybox:1\n    labels: {since: 2024-01-31}\n",
        [
            'spec.yaml:6:21: containers.web.labels.since: must be a string, not a date (YAML reads 2024-01-31 as a date; quote it: "2024-01-31")',
        ],
    ),
    case(
        "bad-port-string",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        '    ports: ["80:80:80:80", "x:80", "8080/icmp", "70000:80"]\n',
        [
            "spec.yaml:6:13: containers.web.ports[0]: invalid port '80:80:80:80': expected [[HOST_IP:]HOST:]CONTAINER[/PROTOCOL] (put an IPv6 host IP in brackets)",
            "spec.yaml:6:28: containers.web.ports[1]: invalid host port 'x': expected a number from 1 to 65535",
            "spec.yaml:6:36: containers.web.ports[2]: invalid protocol 'icmp': expected tcp, udp or sctp",
            "spec.yaml:6:49: containers.web.ports[3]: invalid host port 70000: expected a number from 1 to 65535",
        ],
    ),
    case(
        "container-port-range",
        H + 'containers:\n  web:\n    image: busybox:1\n    ports: ["8000-8002:80-81"]\n',
        [
            "spec.yaml:6:13: containers.web.ports[0]: invalid port '8000-8002:80-81': the host range must have as many ports as the container range",
        ],
    ),
    case(
        "bad-host-ip",
        H + 'containers:\n  web:\n    image: busybox:1\n    ports: ["300.1.1.1:80:80"]\n',
        [
            "spec.yaml:6:13: containers.web.ports[0]: invalid host IP '300.1.1.1': expected an IPv4 or IPv6 address",
        ],
    ),
    case(
        "reversed-range",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        '    ports: ["8081-8080:80"]\n'
        "    replicas: 2\n",
        [
            "spec.yaml:6:13: containers.web.ports[0]: invalid host port range '8081-8080': the end is before the start",
        ],
    ),
    case(
        "replicas-fixed-port",
        H + 'containers:\n  web:\n    image: busybox:1\n    replicas: 3\n    ports: ["8080:80"]\n',
        [
            'spec.yaml:7:13: containers.web.ports[0]: replicas is 3 but the host port 8080 is a single port: every replica would publish it (give a range of 3 ports like "8080-8082", or omit the host port)',
        ],
    ),
    case(
        "project-too-long",  # found by the fault suite: a 3 MiB project name was accepted
        "version: 1\nproject: " + "a" * 64 + "\n",
        [
            "spec.yaml:2:10: project: invalid value '" + "a" * 64 + "': a project name uses "
            "lowercase letters, digits, - and _, starting with a letter or digit, at most 63 "
            "characters",
        ],
    ),
    case(
        "replicas-huge",  # found by the property test: names were expanded per replica
        H + "containers:\n  web:\n    image: busybox:1\n    replicas: 1099511627775\n",
        [
            "spec.yaml:6:15: containers.web.replicas: 1099511627775 is greater than the maximum "
            "of 10000",
        ],
    ),
    case(
        "range-size",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        "    replicas: 2\n"
        '    ports: ["8080-8082:80"]\n',
        [
            'spec.yaml:7:13: containers.web.ports[0]: the host port range 8080-8082 has 3 ports but replicas is 2 (a range gives one port per replica: use "8080-8081")',
        ],
    ),
    case(
        "port-clash",
        H + "containers:\n"
        "  a:\n"
        "    image: busybox:1\n"
        '    ports: ["8080:80"]\n'
        "  b:\n"
        "    image: busybox:1\n"
        '    ports: ["127.0.0.1:8080:81"]\n',
        [
            "spec.yaml:9:13: containers.b.ports[0]: host port 8080/tcp on 127.0.0.1 is already published by containers.a at containers.a.ports[0]",
        ],
    ),
    case(
        "port-clash-replica",
        H + "containers:\n"
        "  a:\n"
        "    image: busybox:1\n"
        "    replicas: 2\n"
        '    ports: ["127.0.0.1:8080-8081:80"]\n'
        "  b:\n"
        "    image: busybox:1\n"
        '    ports: ["127.0.0.1:8081:80"]\n',
        [
            "spec.yaml:10:13: containers.b.ports[0]: host port 8081/tcp on 127.0.0.1 is already published by containers.a (replica 2) at containers.a.ports[0]",
        ],
    ),
    case(
        "port-clash-same-container",
        H + 'containers:\n  a:\n    image: busybox:1\n    ports: ["8080:80", "8080:81"]\n',
        [
            "spec.yaml:6:24: containers.a.ports[1]: host port 8080/tcp is already published by containers.a at containers.a.ports[0]",
        ],
    ),
    case(
        "long-port-missing-container",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        "    ports:\n"
        "      - {host: 8080, protocol: tcp}\n",
        [
            'spec.yaml:7:9: containers.web.ports[0]: missing required key "container"',
        ],
    ),
    case(
        "long-port-unknown-key",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        "    ports:\n"
        "      - {container: 80, published: 8080}\n",
        [
            'spec.yaml:7:25: containers.web.ports[0].published: unknown key (did you mean "host"?)',
        ],
    ),
    case(
        "bad-duration",
        H + "containers:\n  web:\n    image: busybox:1\n    stop_timeout: 10 seconds\n",
        [
            "spec.yaml:6:19: containers.web.stop_timeout: invalid value '10 seconds': a duration is a number and a unit (ns, us, ms, s, m, h), like 5s, 1m30s or 500ms",
        ],
    ),
    case(
        "negative-duration",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        "    healthcheck: {test: [CMD, 'true'], interval: -5}\n",
        [
            "spec.yaml:6:50: containers.web.healthcheck.interval: must be at least 0, not -5",
        ],
    ),
    case(
        "healthcheck-no-cmd",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        "    healthcheck:\n"
        "      test: [curl, -f, localhost]\n",
        [
            'spec.yaml:7:13: containers.web.healthcheck.test: a test list starts with "CMD", "CMD-SHELL" or "NONE" (write ["CMD", "curl", "-f", "localhost"])',
        ],
    ),
    case(
        "healthcheck-missing-test",
        H + "containers:\n  web:\n    image: busybox:1\n    healthcheck: {interval: 5s}\n",
        [
            'spec.yaml:6:5: containers.web.healthcheck: missing required key "test"',
        ],
    ),
    case(
        "bad-restart",
        H + "containers:\n  web:\n    image: busybox:1\n    restart: sometimes\n",
        [
            "spec.yaml:6:14: containers.web.restart: invalid value 'sometimes': must be one of no, always, on-failure, on-failure:N, unless-stopped",
        ],
    ),
    case(
        "bad-state",
        H + "containers:\n  web:\n    image: busybox:1\n    state: runing\n",
        [
            "spec.yaml:6:12: containers.web.state: must be one of running, stopped, absent, not 'runing' (did you mean \"running\"?)",
        ],
    ),
    case(
        "replicas-negative",
        H + "containers:\n  web:\n    image: busybox:1\n    replicas: -1\n",
        [
            "spec.yaml:6:15: containers.web.replicas: must be at least 0, not -1",
        ],
    ),
    case(
        "replicas-string",
        H + "containers:\n  web:\n    image: busybox:1\n    replicas: two\n",
        [
            "spec.yaml:6:15: containers.web.replicas: must be an integer, not a string",
        ],
    ),
    case(
        "depends-unknown",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        "    depends_on: [dbb]\n"
        "  db:\n"
        "    image: busybox:1\n",
        [
            "spec.yaml:6:18: containers.web.depends_on[0]: unknown container 'dbb' (did you mean \"db\"?)",
        ],
    ),
    case(
        "depends-cycle",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        "    depends_on: [db]\n"
        "  db:\n"
        "    image: busybox:1\n"
        "    depends_on: {web: healthy}\n",
        [
            "spec.yaml:9:18: containers.db.depends_on.web: depends_on forms a cycle: db -> web -> db",
        ],
    ),
    case(
        "depends-self",
        H + "containers:\n  web:\n    image: busybox:1\n    depends_on: [web]\n",
        [
            "spec.yaml:6:18: containers.web.depends_on[0]: depends_on forms a cycle: web -> web",
        ],
    ),
    case(
        "depends-bad-condition",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        "    depends_on: {db: service_healthy}\n"
        "  db:\n"
        "    image: busybox:1\n",
        [
            "spec.yaml:6:22: containers.web.depends_on.db: must be one of started, healthy, completed, not 'service_healthy' (did you mean \"healthy\"?)",
        ],
    ),
    case(
        "image-key-typo",
        H + 'images:\n  base: {pull: "busybox:1"}\ncontainers:\n  web:\n    image: bsae\n',
        [
            "spec.yaml:7:12: containers.web.image: unknown images key 'bsae' (did you mean \"base\"? To use the image bsae itself, write bsae:latest)",
        ],
    ),
    case(
        "bad-reference",
        H + 'containers:\n  web:\n    image: "Busybox:1"\n  db:\n    image: "busybox::1"\n',
        [
            "spec.yaml:5:12: containers.web.image: invalid image reference 'Busybox:1': the repository name must be lowercase, and not an images key",
            "spec.yaml:7:12: containers.db.image: invalid image reference 'busybox::1', and not an images key",
        ],
    ),
    case(
        "image-two-kinds",
        H + 'images:\n  base:\n    pull: "busybox:1"\n    build: .\n',
        [
            "spec.yaml:6:5: images.base.build: has both pull and build: an image has exactly one of pull, build or commit",
        ],
    ),
    case(
        "image-no-kind",
        H + "images:\n  base:\n    policy: always\n",
        [
            "spec.yaml:4:3: images.base: needs one of pull, build or commit",
        ],
    ),
    case(
        "bad-policy",
        H + 'images:\n  base:\n    pull: "busybox:1"\n    policy: sometimes\n',
        [
            "spec.yaml:6:13: images.base.policy: must be one of if-missing, always, never, not 'sometimes'",
        ],
    ),
    case(
        "pull-with-tag",
        H + 'images:\n  base:\n    pull: "busybox:1"\n    tag: mine:1\n',
        [
            "spec.yaml:6:5: images.base.tag: tag is only for build and commit; pull names the reference itself",
        ],
    ),
    case(
        "build-context-missing",
        H + "images:\n  web:\n    build: ./nope\n",
        [
            "spec.yaml:5:12: images.web.build: build context not found: {tmp}/nope",
        ],
    ),
    case(
        "dockerfile-missing",
        H + "images:\n  web:\n    build:\n      context: ctx\n      dockerfile: Dockerfile.prod\n",
        [
            "spec.yaml:7:19: images.web.build.dockerfile: Dockerfile not found: {tmp}/ctx/Dockerfile.prod",
        ],
    ),
    case(
        "commit-from-unknown",
        H + "images:\n"
        '  base: {pull: "busybox:1"}\n'
        "  tools:\n"
        "    commit:\n"
        "      from: bas\n"
        '      run: ["true"]\n',
        [
            "spec.yaml:7:13: images.tools.commit.from: unknown images key 'bas' (did you mean \"base\"? To use the image bas itself, write bas:latest)",
        ],
    ),
    case(
        "commit-missing-from",
        H + 'images:\n  tools:\n    commit:\n      run: ["true"]\n',
        [
            'spec.yaml:5:5: images.tools.commit: missing required key "from"',
        ],
    ),
    case(
        "commit-cycle",
        H + "images:\n  a: {commit: {from: b}}\n  b: {commit: {from: a}}\n",
        [
            "spec.yaml:4:22: images.a.commit.from: images commit from each other in a cycle: a -> b -> a",
        ],
    ),
    case(
        "same-tag-twice",
        H + 'images:\n  a: {build: ctx, tag: "shop/x:1"}\n  b: {build: ctx, tag: "shop/x:1"}\n',
        [
            "spec.yaml:5:24: images.b.tag: images.a already produces the tag shop/x:1 (give each built or committed image its own tag)",
        ],
    ),
    case(
        "env-file-missing",
        H + "containers:\n  web:\n    image: busybox:1\n    env_file: [web.env, missing.env]\n",
        [
            "spec.yaml:6:25: containers.web.env_file[1]: env file not found: {tmp}/missing.env",
        ],
    ),
    case(
        "env-file-bad-line",
        H + "containers:\n  web:\n    image: busybox:1\n    env_file: bad.env\n",
        [
            "bad.env:3:1: containers.web.env_file: expected KEY=VALUE, not 'not a line'",
        ],
    ),
    case(
        "name-with-replicas",
        H + "containers:\n  web:\n    image: busybox:1\n    replicas: 2\n    name: web\n",
        [
            "spec.yaml:7:11: containers.web.name: an explicit name needs replicas: 1, not 2 (remove name to get <project>-<key>-<replica> names)",
        ],
    ),
    case(
        "name-duplicate",
        H + "containers:\n  a: {image: busybox:1, name: app}\n  b: {image: busybox:1, name: app}\n",
        [
            "spec.yaml:5:31: containers.b.name: containers.a already has the name 'app'",
        ],
    ),
    case(
        "name-generated",
        H + "containers:\n  a: {image: busybox:1, name: shop-b-1}\n  b: {image: busybox:1}\n",
        [
            "spec.yaml:4:31: containers.a.name: 'shop-b-1' is the generated name of containers.b",
        ],
    ),
    case(
        "bad-name",
        H + "containers:\n  a: {image: busybox:1, name: -app}\n",
        [
            "spec.yaml:4:31: containers.a.name: invalid value '-app': a container name uses letters, digits, _, . and -, starting with a letter or digit",
        ],
    ),
    case(
        "unknown-network",
        H + "networks:\n  backend: {}\ncontainers:\n  a: {image: busybox:1, networks: [backnd]}\n",
        [
            "spec.yaml:6:36: containers.a.networks[0]: unknown network 'backnd' (did you mean \"backend\"?)",
        ],
    ),
    case(
        "bad-subnet",
        H + "networks:\n  backend: {subnet: 10.0.0.1/24}\n",
        [
            "spec.yaml:4:21: networks.backend.subnet: invalid subnet '10.0.0.1/24': 10.0.0.1/24 has host bits set",
        ],
    ),
    case(
        "volume-relative-target",
        H + 'containers:\n  a:\n    image: busybox:1\n    volumes: ["data:data"]\n',
        [
            "spec.yaml:6:15: containers.a.volumes[0]: the mount target must be an absolute path, not 'data'",
        ],
    ),
    case(
        "volume-bad-mode",
        H + 'containers:\n  a:\n    image: busybox:1\n    volumes: ["data:/data:rx"]\n',
        [
            "spec.yaml:6:15: containers.a.volumes[0]: invalid volume mode 'rx': expected ro or rw, and z, Z, nocopy or a propagation (rprivate, private, rshared, shared, rslave, slave), comma-separated",
        ],
    ),
    case(
        "volume-duplicate-target",
        H + 'containers:\n  a:\n    image: busybox:1\n    volumes: ["data:/data", "./d:/data"]\n',
        [
            "spec.yaml:6:29: containers.a.volumes[1]: /data is already mounted by volumes[0]",
        ],
    ),
    case(
        "workdir-relative",
        H + "containers:\n  a:\n    image: busybox:1\n    workdir: www\n",
        [
            "spec.yaml:6:14: containers.a.workdir: must be an absolute path, not 'www'",
        ],
    ),
    case(
        "unbalanced-quote",
        H + "containers:\n  a:\n    image: busybox:1\n    command: echo 'hi\n",
        [
            'spec.yaml:6:14: containers.a.command: cannot split "echo \'hi" into words: No closing quotation',
        ],
    ),
    case(
        "unset-variable",
        H + 'containers:\n  a:\n    image: "busybox:${TAG}"\n',
        [
            "spec.yaml:5:12: containers.a.image: variable TAG is not set (set it, give a default with ${TAG:-default}, or write $$ for a literal $)",
        ],
    ),
    case(
        "required-variable",
        H + "containers:\n"
        "  a:\n"
        "    image: busybox:1\n"
        '    env: {DB: "${DB_URL:?set DB_URL to the database}"}\n',
        [
            "spec.yaml:6:15: containers.a.env.DB: variable DB_URL is not set: set DB_URL to the database",
        ],
    ),
    case(
        "bad-interpolation",
        H + 'containers:\n  a:\n    image: busybox:1\n    command: "echo ${}"\n',
        [
            "spec.yaml:6:14: containers.a.command: invalid interpolation ${}: expected a variable name (write $$ for a literal $)",
        ],
    ),
    case(
        "alias-bomb",
        H + "x-a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        "x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "x-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "x-e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "x-f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
        [
            "spec.yaml:1:1: aliases expand the document to more than 100000 values (an alias bomb); refusing to expand it",
        ],
    ),
    case(
        "many-at-once",
        H + "containers:\n"
        "  web:\n"
        "    image: busybox:1\n"
        "    ports: [22:22]\n"
        "    restart: sometimes\n"
        "    enviroment: {}\n"
        "  db:\n"
        "    depends_on: [web]\n",
        [
            'spec.yaml:6:13: containers.web.ports[0]: YAML 1.1 reads 22:22 as the number 1342 (quote it: "22:22")',
            "spec.yaml:7:14: containers.web.restart: invalid value 'sometimes': must be one of no, always, on-failure, on-failure:N, unless-stopped",
            'spec.yaml:8:5: containers.web.enviroment: unknown key (did you mean "env"?)',
            'spec.yaml:9:3: containers.db: missing required key "image"',
        ],
    ),
    case(
        "default-tag-invalid",
        H + "images:\n  Web:\n    build: ctx\n",
        [
            "spec.yaml:4:3: images.Web: the default tag shop/Web:latest is not a valid image reference (set tag:, or use a lowercase key without a trailing - or .)",
        ],
    ),
]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "web.env").write_text("A=1\n")
    (tmp_path / "bad.env").write_text("# comment\nA=1\nnot a line\n")
    return tmp_path


def test_table_is_big_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("text, expected", CASES)
def test_bad_spec(folder, text, expected):
    (folder / "spec.yaml").write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec("spec.yaml", environ={})
    rendered = [p.render() for p in info.value.problems]
    assert rendered == [e.replace("{tmp}", str(folder)) for e in expected]
    assert all(p.location is not None for p in info.value.problems)
