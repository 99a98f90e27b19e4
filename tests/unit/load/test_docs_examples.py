"""The YAML examples in README.md and docs/ are specs that validate.

A block with `version:` is a whole spec and must validate as written. A fragment (a block
without `version:`) is completed the way a reader would: a version, a project and a `base`
image when it uses one but does not define it, and build contexts with a Dockerfile.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from reconciler.errors import SpecError
from reconciler.load.loader import load_spec

ROOT = Path(__file__).resolve().parents[3]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    out = []
    for doc in DOCS:
        text = doc.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            out.append((f"{doc.relative_to(ROOT)}:{line}", match.group(1)))
    return out


def complete(doc: dict, folder: Path) -> dict:
    doc = dict(doc)
    doc.setdefault("version", 1)
    doc.setdefault("project", "docs")
    images = dict(doc.get("images") or {})
    uses_base = any(
        isinstance(c, dict) and c.get("image") == "base"
        for c in (doc.get("containers") or {}).values()
    ) or any(
        isinstance(i, dict) and (i.get("commit") or {}).get("from") == "base"
        for i in images.values()
    )
    if uses_base and "base" not in images:
        images["base"] = {"pull": "localhost:5000/stand-in/busybox:1"}
    if images:
        doc["images"] = images
    for image in images.values():
        build = image.get("build") if isinstance(image, dict) else None
        context = build if isinstance(build, str) else (build or {}).get("context")
        if context:
            ctx = folder / context
            ctx.mkdir(parents=True, exist_ok=True)
            name = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else None
            (ctx / (name or "Dockerfile")).write_text("FROM stand-in/busybox:latest\n")
    for container in (doc.get("containers") or {}).values():
        env_files = container.get("env_file") if isinstance(container, dict) else None
        for name in [env_files] if isinstance(env_files, str) else env_files or []:
            (folder / name).write_text("")
    for section in ("secrets", "configs"):  # file sources exist
        for source in (doc.get(section) or {}).values():
            if isinstance(source, dict) and isinstance(source.get("file"), str):
                (folder / source["file"]).write_text("x")
    return doc


def environ_for(doc: dict) -> dict[str, str]:
    """A value for each variable a secret or config reads (`environment:` sources)."""
    sources = [*(doc.get("secrets") or {}).values(), *(doc.get("configs") or {}).values()]
    return {s["environment"]: "x" for s in sources if isinstance(s, dict) and "environment" in s}


@pytest.mark.parametrize(("where", "text"), blocks(), ids=[w for w, _ in blocks()])
def test_doc_example_is_a_valid_spec(where: str, text: str, tmp_path: Path) -> None:
    doc = yaml.safe_load(text)
    sections = {"containers", "images", "networks", "volumes"}
    if not isinstance(doc, dict) or not (sections & set(doc)):
        assert text.strip(), f"{where}: empty example"
        return  # a comment or a single value, not a spec
    if "version" not in doc:
        doc = complete(doc, tmp_path)
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(doc, sort_keys=False) if "version" not in text else text)
    try:
        load_spec(spec_path, environ=environ_for(doc))
    except SpecError as exc:
        pytest.fail(f"{where}: the example does not validate:\n{exc.render()}")
