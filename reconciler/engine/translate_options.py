"""Engine API fields for the container fields shared with Compose (issue 13): pure
translations of a normalised config (model/config.container_config; keys present only when set)
into the POST /containers/create body, and of a network config into create options.

Called by engine/translate.container_create_body (`add_options`), engine/containers.py
(`endpoint_addresses`, for networks connected after create) and engine/networks.py
(`network_create_options`). Unit-tested without an engine (tests/unit/engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_NS = 1_000_000_000

# config key -> HostConfig field, copied as they are
_HOST_FIELDS = (
    ("cap_add", "CapAdd"),
    ("cap_drop", "CapDrop"),
    ("privileged", "Privileged"),
    ("security_opt", "SecurityOpt"),
    ("read_only", "ReadonlyRootfs"),
    ("tmpfs", "Tmpfs"),
    ("sysctls", "Sysctls"),
    ("shm_size", "ShmSize"),
    ("mem_limit", "Memory"),
    ("memswap_limit", "MemorySwap"),
    ("mem_reservation", "MemoryReservation"),
    ("cpu_shares", "CpuShares"),
    ("cpuset", "CpusetCpus"),
    ("pids_limit", "PidsLimit"),
    ("extra_hosts", "ExtraHosts"),
    ("dns", "Dns"),
    ("dns_search", "DnsSearch"),
    ("dns_opt", "DnsOptions"),
    ("runtime", "Runtime"),
)


def add_options(config: Mapping[str, Any], body: dict[str, Any]) -> None:
    """Add the Compose-shared fields of `config` to a create body (in place): HostConfig
    fields, secrets and configs as read-only bind mounts, exposed ports, StopSignal, Tty,
    OpenStdin, MacAddress, NetworkMode, LogConfig; mount options; container port ranges."""
    host = body["HostConfig"]
    for key, field in _HOST_FIELDS:
        if config.get(key) not in (None, False, [], {}):
            value = config[key]
            host[field] = dict(value) if isinstance(value, Mapping) else value
    if config.get("cpus") is not None:
        host["NanoCpus"] = round(config["cpus"] * _NS)
    if config.get("devices"):
        host["Devices"] = [
            {
                "PathOnHost": d["host"],
                "PathInContainer": d["container"],
                "CgroupPermissions": d["permissions"],
            }
            for d in config["devices"]
        ]
    if config.get("ulimits"):
        host["Ulimits"] = [{"Name": n, "Soft": s, "Hard": h} for n, s, h in config["ulimits"]]
    if config.get("logging"):
        logging = config["logging"]
        host["LogConfig"] = {"Type": logging.get("driver") or "", "Config": logging["options"]}
    if config.get("network_mode"):
        host["NetworkMode"] = config["network_mode"]
    for kind in ("secrets", "configs"):
        for use in config.get(kind) or ():
            host["Mounts"].append(
                {"Type": "bind", "Source": use["file"], "Target": use["target"], "ReadOnly": True}
            )
    for port in config.get("expose") or ():
        body["ExposedPorts"].setdefault(port, {})
    if config.get("stop_signal"):
        body["StopSignal"] = config["stop_signal"]
    if config.get("tty"):
        body["Tty"] = True
    if config.get("stdin_open"):
        body["OpenStdin"] = True
    if config.get("mac_address"):
        body["MacAddress"] = config["mac_address"]  # API < 1.44; later APIs: per endpoint too
    _mount_options(config, host)
    _port_ranges(config, body)


def _mount_options(config: Mapping[str, Any], host: dict[str, Any]) -> None:
    """Bind propagation and volume nocopy go on the Mount; a bind with z/Z or
    create_host_path becomes a HostConfig.Binds entry (the only form that relabels, and that
    creates a missing host folder on every API version)."""
    words = ("selinux", "propagation", "create_host_path", "nocopy")
    options = {v["target"]: v for v in config.get("volumes") or () if any(k in v for k in words)}
    if not options:
        return
    kept = []
    for mount in host["Mounts"]:
        volume = options.get(mount["Target"])
        if volume is None:
            kept.append(mount)
            continue
        if volume.get("kind") == "bind" and (
            volume.get("selinux") or volume.get("create_host_path")
        ):
            flags = ["ro" if volume.get("read_only") else "rw"]
            flags += [w for w in (volume.get("selinux"), volume.get("propagation")) if w]
            host.setdefault("Binds", []).append(
                f"{mount['Source']}:{mount['Target']}:{','.join(flags)}"
            )
            continue
        if volume.get("propagation"):
            mount["BindOptions"] = {"Propagation": volume["propagation"]}
        if volume.get("nocopy"):
            mount["VolumeOptions"] = {"NoCopy": True}
        kept.append(mount)
    host["Mounts"] = kept


def _port_ranges(config: Mapping[str, Any], body: dict[str, Any]) -> None:
    """A container port range publishes each port: container start+i -> host start+i (or an
    engine-chosen port when no host port is given)."""
    bindings = body["HostConfig"]["PortBindings"]
    for port in config.get("ports") or ():
        end = port.get("container_port_end")
        if end is None:
            continue
        start, protocol = port["container_port"], port.get("protocol") or "tcp"
        host_start = port.get("host_port")
        bindings.pop(f"{start}/{protocol}", None)  # the generic code bound only the first
        for offset in range(end - start + 1):
            key = f"{start + offset}/{protocol}"
            body["ExposedPorts"][key] = {}
            host_port = "" if host_start is None else str(host_start + offset)
            bindings.setdefault(key, []).append(
                {"HostIp": port.get("host_ip") or "", "HostPort": host_port}
            )


def endpoint_addresses(
    config: Mapping[str, Any], network_names: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """Engine network name -> IPAMConfig ({"IPv4Address", "IPv6Address"}) for the
    attachments with a fixed address."""
    out = {}
    for n in config.get("networks") or ():
        ipam = {}
        if n.get("ipv4_address"):
            ipam["IPv4Address"] = n["ipv4_address"]
        if n.get("ipv6_address"):
            ipam["IPv6Address"] = n["ipv6_address"]
        if ipam:
            out[network_names.get(n["network"], n["network"])] = ipam
    return out


def network_create_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """SDK create_network keyword arguments for a network config's ipam, driver_opts and
    enable_ipv6 (model/container_options.network_options); `ipam` as the API's IPAM dict."""
    if not options:
        return {}
    out: dict[str, Any] = {}
    if options.get("driver_opts"):
        out["options"] = dict(options["driver_opts"])
    if options.get("enable_ipv6"):
        out["enable_ipv6"] = True
    ipam = options.get("ipam")
    if ipam:
        pools = []
        for pool in ipam.get("config") or ():
            entry = {"Subnet": pool.get("subnet")}
            if pool.get("ip_range"):
                entry["IPRange"] = pool["ip_range"]
            if pool.get("gateway"):
                entry["Gateway"] = pool["gateway"]
            if pool.get("aux_addresses"):
                entry["AuxiliaryAddresses"] = dict(pool["aux_addresses"])
            pools.append({k: v for k, v in entry.items() if v is not None})
        out["ipam"] = {
            "Driver": ipam.get("driver") or "default",
            "Config": pools,
            "Options": dict(ipam.get("options") or {}),
        }
    return out
