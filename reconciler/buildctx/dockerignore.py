"""`.dockerignore` rules: parsing, Docker's pattern matching, and `is_excluded`.

Follows Docker's rules (moby/patternmatcher): one pattern per line, `#` comments, leading `/`
and `./` ignored, Go `filepath.Match` wildcards (`*`, `?`, `[...]`, `\\` escapes) where `*`
does not cross `/`, `**` matching any number of directories, `!` re-including, the last
matching pattern winning, and a pattern matching a folder excluding everything in it. An
excluded folder is only entered when a `!` pattern names something inside it (as the Docker
CLI does). The Dockerfile and `.dockerignore` are always sent.

Used by buildctx.context (the walk) and by watch (`is_excluded` filters file events).
"""

from __future__ import annotations

import os
import posixpath
import re
import threading

from msgspec import Struct

DOCKERIGNORE = ".dockerignore"


class Rule(Struct, frozen=True):
    """One `.dockerignore` pattern, cleaned and compiled."""

    pattern: str  # cleaned, without the leading `!`
    exclusion: bool  # a `!` pattern: re-includes what it matches
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.regex.match(path) is not None


def parse_dockerignore(text: str) -> tuple[Rule, ...]:
    """The rules of a `.dockerignore` text. ValueError for a lone `!`."""
    rules: list[Rule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip("\ufeff") if number == 1 else raw
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
            if not line:
                raise ValueError(f".dockerignore line {number}: a lone `!` is not a pattern")
        pattern = posixpath.normpath(line)
        if len(pattern) > 1 and pattern.startswith("/"):
            pattern = pattern.lstrip("/") or "/"
        if pattern == ".":
            continue  # matches only the context itself, which is always sent
        rules.append(Rule(pattern, exclusion, _compile(pattern)))
    return tuple(rules)


def _compile(pattern: str) -> re.Pattern[str]:
    """Docker's pattern -> regex translation (patternmatcher.Pattern.compile)."""
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1  # `**/` is `**`
                out.append(".*" if i >= n else "(.*/)?")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            if i < n:
                out.append(re.escape(pattern[i]))
                i += 1
            else:
                out.append(r"\\")
        elif ch == "[":
            end = _class_end(pattern, i)
            if end < 0:
                out.append(r"\[")
            else:
                body = pattern[i:end]
                if body.startswith("^") or body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        else:
            out.append(re.escape(ch))
    out.append("$")
    return re.compile("".join(out), re.DOTALL)


def _class_end(pattern: str, start: int) -> int:
    """Index of the `]` closing a character class opened before `start`, or -1."""
    j = start
    if j < len(pattern) and pattern[j] in "^!":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern):
        if pattern[j] == "\\":
            j += 2
            continue
        if pattern[j] == "]":
            return j
        j += 1
    return -1


def matches(rules: tuple[Rule, ...], relpath: str) -> bool:
    """Docker's MatchesOrParentMatches: does the last matching rule (on the path or one of its
    parent folders) exclude it?"""
    parts = relpath.split("/")
    parents = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
    matched = False
    for rule in rules:
        if rule.exclusion != matched:
            continue  # an include cannot change an excluded path and vice versa
        hit = rule.matches(relpath) or any(rule.matches(p) for p in parents)
        if hit:
            matched = not rule.exclusion
    return matched


def may_reinclude(rules: tuple[Rule, ...], reldir: str) -> bool:
    """Does a `!` pattern name something inside the excluded folder `reldir`? (Docker CLI:
    only then is the folder walked.)"""
    prefix = reldir + "/"
    return any(r.exclusion and (r.pattern + "/").startswith(prefix) for r in rules)


_RULES_CACHE: dict[str, tuple[tuple[int, int, int], tuple[Rule, ...]]] = {}
_LOCK = threading.Lock()


def load_rules(context: str) -> tuple[Rule, ...]:
    """The context's `.dockerignore` rules (none when there is no file); cached by stat.
    ValueError for an invalid file."""
    path = os.path.join(context, DOCKERIGNORE)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ()
    key = (st.st_size, st.st_mtime_ns, st.st_ino)
    with _LOCK:
        cached = _RULES_CACHE.get(path)
    if cached and cached[0] == key:
        return cached[1]
    with open(path, encoding="utf-8", errors="replace") as f:
        rules = parse_dockerignore(f.read())
    with _LOCK:
        _RULES_CACHE[path] = (key, rules)
    return rules


def _clean_rel(relpath: str) -> str:
    rel = posixpath.normpath(relpath.replace(os.sep, "/")).lstrip("/")
    return "" if rel == "." else rel


def effective_rules(rules: tuple[Rule, ...], dockerfile: str) -> tuple[Rule, ...]:
    """The rules plus `!<Dockerfile>` and `!.dockerignore` (the Docker CLI adds them too, so
    that both are sent even from an excluded folder)."""
    if not rules:
        return rules
    extra = []
    for name in (_clean_rel(dockerfile), DOCKERIGNORE):
        if name and not name.startswith(".."):
            extra.append(Rule(name, True, re.compile("^" + re.escape(name) + "$")))
    return (*rules, *extra)


def excluded_by(rules: tuple[Rule, ...], relpath: str, dockerfile: str = "Dockerfile") -> bool:
    """`is_excluded` with the rules given (pure)."""
    rel = _clean_rel(relpath)
    if not rel or rel.startswith("../") or rel == "..":
        return rel != ""  # outside the context: never sent; the context itself: sent
    rules = effective_rules(rules, dockerfile)
    if not rules:
        return False
    parts = rel.split("/")
    for i in range(1, len(parts)):  # a skipped parent folder hides everything in it
        parent = "/".join(parts[:i])
        if matches(rules, parent) and not may_reinclude(rules, parent):
            return True
    return matches(rules, rel)


def is_excluded(context: str, relpath: str, dockerfile: str = "Dockerfile") -> bool:
    """Would a build of `context` leave out `relpath` (relative to the context, `/` or the OS
    separator)? The Dockerfile and `.dockerignore` are never excluded. An unreadable or invalid
    `.dockerignore` excludes nothing here (the plan reports it)."""
    try:
        rules = load_rules(context)
    except (OSError, ValueError):
        rules = ()
    return excluded_by(rules, relpath, dockerfile)
