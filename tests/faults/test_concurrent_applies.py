"""Concurrent applies of one project from processes with different environments (another
XDG_RUNTIME_DIR, TMPDIR and HOME, so no shared lock file): the engine-side lease lets one
run; the other is refused with the holder named, and nothing is left half-done."""

from __future__ import annotations

from tests.faults.harness import env_for, run, start

SPEC = """\
version: 1
project: {project}
containers:
  web:
    image: {image}
    command: ["sleep", "100000"]
    env: {{GEN: "{gen}"}}
    replicas: 3
    stop_timeout: 1s
"""


def test_two_applies_with_different_environments_never_interleave(
    tmp_path, project, images, docker_client
):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(project=project, image=images.base, gen=1))
    assert run("apply", str(path))[0] == 0
    path.write_text(SPEC.format(project=project, image=images.base, gen=2))
    envs = []
    for side in ("a", "b"):
        folder = tmp_path / side
        folder.mkdir()
        envs.append(env_for(XDG_RUNTIME_DIR=str(folder), TMPDIR=str(folder), HOME=str(folder)))
    procs = [start("apply", str(path), env=env) for env in envs]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    errors = "\n".join(err for _, _, err in results)
    assert "same name as its current name" not in errors, errors
    assert codes in ([0, 0], [0, 1]), errors  # one ran; the other ran after it, or was refused
    if codes == [0, 1]:
        assert "is locked by another reconciler" in errors, errors
    assert run("plan", str(path), "--detailed-exitcode")[0] == 0
    names = sorted(
        c.name
        for c in docker_client.containers.list(
            all=True, filters={"label": f"io.reconciler.project={project}"}
        )
    )
    assert names == [f"{project}-web-{i}" for i in (1, 2, 3)], names
