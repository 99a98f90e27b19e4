"""Issue 15 (3): the replacement data-loss warning counts only changes a user made inside the
container's filesystem, not what the engine itself puts there."""

from __future__ import annotations

from reconciler.engine.diffs import user_changes


def test_init_binary_and_its_folder_are_not_user_changes():
    changes = [("C", "/sbin"), ("A", "/sbin/docker-init")]
    assert user_changes(changes, []) == []


def test_engine_files_secrets_and_mount_points_are_ignored():
    changes = [
        ("C", "/etc"),
        ("A", "/etc/hosts"),
        ("A", "/etc/hostname"),
        ("A", "/etc/resolv.conf"),
        ("C", "/run"),
        ("A", "/run/secrets"),
        ("A", "/run/secrets/token"),
        ("A", "/data"),
        ("A", "/srv"),
        ("A", "/srv/site"),
    ]
    assert user_changes(changes, ["/data", "/srv/site"]) == []


def test_user_changes_are_kept_beside_engine_ones():
    changes = [
        ("C", "/sbin"),
        ("A", "/sbin/docker-init"),
        ("A", "/sbin/mytool"),
        ("C", "/etc"),
        ("A", "/etc/hosts"),
        ("C", "/etc/motd"),
        ("A", "/tmp/x"),
    ]
    assert user_changes(changes, []) == ["/sbin", "/sbin/mytool", "/etc", "/etc/motd", "/tmp/x"]
