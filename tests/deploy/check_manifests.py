#!/usr/bin/env python3
"""Checks deploy/ against the server it deploys: no cluster or Docker engine needed.

Every YAML file under deploy/ must parse, and the pieces must agree with each other and with
the code: the port in mlpd's --listen flag is the one the containers expose, the probes hit and
the Services target; the health checks call `mlpctl health`; Envoy hashes on the same header
the client library sends (client/client.h kSessionHeader) and lists exactly the StatefulSet's
pods; grace periods outlast --drain-seconds.

Usage: check_manifests.py [--root REPO]   (exit 0: all good; 1: each problem on its own line)
"""

import argparse
import os
import re
import sys

import yaml


class Problems:
    """Collects every problem so one run shows them all."""

    def __init__(self):
        self.items = []

    def add(self, where, message):
        self.items.append(f"{where}: {message}")

    def check(self, condition, where, message):
        if not condition:
            self.add(where, message)
        return condition


def load_documents(path, problems):
    try:
        with open(path, encoding="utf-8") as handle:
            return [doc for doc in yaml.safe_load_all(handle) if doc is not None]
    except (OSError, yaml.YAMLError) as error:
        problems.add(path, f"does not parse as YAML: {error}")
        return []


def flag_name(arg):
    """The Abseil name of a --flag argument (mlpd takes hyphens or underscores), else None."""
    match = re.match(r"--([A-Za-z0-9_-]+)", str(arg))
    return match.group(1).replace("-", "_") if match else None


def flag_values(args, name):
    """Values of --name=VALUE or --name VALUE in an argument list, in order; `name` is the
    underscore spelling and either spelling matches."""
    values = []
    for i, arg in enumerate(args):
        arg = str(arg)
        if flag_name(arg) != name:
            continue
        if "=" in arg:
            values.append(arg.split("=", 1)[1])
        elif i + 1 < len(args):
            values.append(str(args[i + 1]))
    return values


def last_flag(args, name, default=None):
    values = flag_values(args, name)
    return values[-1] if values else default


def port_of(listen):
    match = re.fullmatch(r".*:(\d+)", listen or "")
    return int(match.group(1)) if match else None


def seconds(value):
    """Compose/Envoy durations ("40s", "1m30s", 45) in seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    total, text = 0.0, str(value).strip()
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", text):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total


def server_defaults(root, problems):
    """The defaults of mlpd's flags, read from server/main.cc so the check follows the code."""
    path = os.path.join(root, "server", "main.cc")
    defaults = {}
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as error:
        problems.add(path, f"cannot read: {error}")
        return defaults
    for name, value in re.findall(r"ABSL_FLAG\(\s*[\w:]+\s*,\s*(\w+)\s*,\s*([^,]+),", text):
        defaults[name] = value.strip().strip('"')
    return defaults


def session_header(root, problems):
    path = os.path.join(root, "client", "client.h")
    try:
        match = re.search(r'kSessionHeader\[\]\s*=\s*"([^"]+)"', open(path, encoding="utf-8").read())
    except OSError as error:
        problems.add(path, f"cannot read: {error}")
        return None
    problems.check(match is not None, path, "declares no kSessionHeader")
    return match.group(1) if match else None


def dockerfile_entrypoint(root, problems):
    """The exec-form ENTRYPOINT of the Dockerfile (flags every container starts with)."""
    path = os.path.join(root, "Dockerfile")
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as error:
        problems.add(path, f"cannot read: {error}")
        return []
    entrypoints = re.findall(r"^ENTRYPOINT\s+(\[.*\])\s*$", text, re.MULTILINE)
    if not problems.check(entrypoints, path, "has no exec-form ENTRYPOINT [...]"):
        return []
    return yaml.safe_load(entrypoints[-1])


def check_known_flags(args, defaults, where, problems):
    """A misspelt flag stops mlpd at start-up; catch it here instead of in a crash loop."""
    for arg in args:
        name = flag_name(arg)
        if name and defaults:
            problems.check(name in defaults, where,
                           f"passes unknown flag {str(arg).split('=')[0]} (mlpd's flags: "
                           f"{', '.join(sorted(defaults))})")


def check_probe(probe, kind, port, where, problems):
    if not problems.check(isinstance(probe, dict), where, f"has no {kind}"):
        return
    grpc = probe.get("grpc")
    if problems.check(isinstance(grpc, dict), where, f"{kind} is not a native gRPC probe"):
        problems.check(grpc.get("port") == port, where,
                       f"{kind} probes port {grpc.get('port')}, the server listens on {port}")
        problems.check(grpc.get("service", "") == "", where,
                       f"{kind} asks service {grpc.get('service')!r}; the server's overall "
                       "status is service \"\"")


def quantity_cpus(value):
    text = str(value)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def check_kubernetes(objects, defaults, problems):
    """StatefulSet, Services and the Envoy Deployment; returns facts Envoy's check needs."""
    by_kind = {}
    for path, obj in objects:
        by_kind.setdefault(obj.get("kind"), []).append((path, obj))
    facts = {}

    statefulsets = by_kind.get("StatefulSet", [])
    if not problems.check(len(statefulsets) == 1, "deploy/k8s",
                          f"expected one StatefulSet, found {len(statefulsets)}"):
        return facts
    path, sts = statefulsets[0]
    where = f"{path} StatefulSet/{sts['metadata'].get('name')}"
    spec = sts.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    pod_labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    containers = [c for c in pod.get("containers", []) if c.get("name") == "mlpd"]
    if not problems.check(containers, where, "has no container named mlpd"):
        return facts
    container = containers[0]
    args = [str(a) for a in container.get("args", [])]
    check_known_flags(args, defaults, where, problems)
    listen = last_flag(args, "listen")
    problems.check(listen is not None, where, "args do not set --listen")
    port = port_of(listen)
    problems.check(port is not None, where, f"--listen={listen} has no port")
    problems.check(not str(listen).startswith("127."), where,
                   f"--listen={listen} is loopback: probes and Services cannot reach it")
    container_ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    problems.check(port in container_ports.values(), where,
                   f"container ports {sorted(container_ports.values())} miss the --listen port "
                   f"{port}")
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        check_probe(container.get(kind), kind, port, where, problems)

    drain = float(last_flag(args, "drain_seconds", defaults.get("drain_seconds", "10")))
    grace = pod.get("terminationGracePeriodSeconds")
    problems.check(isinstance(grace, int) and grace > drain, where,
                   f"terminationGracePeriodSeconds is {grace}; it must exceed --drain-seconds "
                   f"({drain:g}) so the final snapshots are not killed")

    resources = container.get("resources", {})
    for section in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            problems.check(resource in resources.get(section, {}), where,
                           f"resources.{section}.{resource} is missing")
    cpu_limit = resources.get("limits", {}).get("cpu")
    threads = last_flag(args, "threads")
    if cpu_limit is not None and problems.check(threads is not None, where,
                                                "args do not set --threads (OpenMP would use "
                                                "every node core)"):
        problems.check(int(threads) <= max(1, int(quantity_cpus(cpu_limit))), where,
                       f"--threads={threads} exceeds the CPU limit {cpu_limit}")

    data_dir = last_flag(args, "data_dir")
    mounts = {m.get("name"): m.get("mountPath") for m in container.get("volumeMounts", [])}
    claims = [t.get("metadata", {}).get("name") for t in spec.get("volumeClaimTemplates", [])]
    problems.check(any(mounts.get(c) == data_dir for c in claims), where,
                   f"--data-dir={data_dir} is not on a volumeClaimTemplate "
                   f"(claims {claims}, mounts {mounts})")
    problems.check(pod.get("securityContext", {}).get("runAsNonRoot") is True, where,
                   "pod securityContext.runAsNonRoot is not true")

    # Services: every one selects pods of a workload here, on a port they expose.
    workloads = [(o, p) for p, o in objects if o.get("kind") in ("StatefulSet", "Deployment")]
    services = {o["metadata"]["name"]: (p, o) for p, o in by_kind.get("Service", [])}
    for name, (service_path, service) in services.items():
        swhere = f"{service_path} Service/{name}"
        selector = service.get("spec", {}).get("selector", {})
        matched = [w for w, _ in workloads
                   if selector and all(w["spec"]["template"]["metadata"].get("labels", {}).get(k)
                                       == v for k, v in selector.items())]
        if not problems.check(matched, swhere, f"selector {selector} matches no workload"):
            continue
        exposed = {}
        for c in matched[0]["spec"]["template"]["spec"].get("containers", []):
            for p in c.get("ports", []):
                exposed[p.get("name")] = p.get("containerPort")
        for service_port in service["spec"].get("ports", []):
            target = service_port.get("targetPort", service_port.get("port"))
            resolved = exposed.get(target) if isinstance(target, str) else target
            problems.check(resolved in exposed.values(), swhere,
                           f"targetPort {target} is not a container port of "
                           f"{matched[0]['metadata']['name']} ({exposed})")

    headless = services.get(spec.get("serviceName"))
    if problems.check(headless is not None, where,
                      f"serviceName {spec.get('serviceName')!r} is not a Service in deploy/k8s"):
        hspec = headless[1]["spec"]
        problems.check(hspec.get("clusterIP") == "None", where,
                       f"Service {spec.get('serviceName')} is not headless (clusterIP: None)")
        problems.check(all(pod_labels.get(k) == v for k, v in hspec.get("selector", {}).items()),
                       where, f"Service {spec.get('serviceName')} does not select these pods")
    client_facing = [n for n, (_, s) in services.items()
                     if s["spec"].get("clusterIP") != "None"]
    problems.check(client_facing, "deploy/k8s", "no client-facing (non-headless) Service")

    envoy_deployments = [(p, o) for p, o in by_kind.get("Deployment", [])
                         if any("envoy" in str(c.get("image", ""))
                                for c in o["spec"]["template"]["spec"].get("containers", []))]
    envoy_ports = set()
    for p, o in envoy_deployments:
        for c in o["spec"]["template"]["spec"]["containers"]:
            envoy_ports.update(cp.get("containerPort") for cp in c.get("ports", []))
    problems.check(envoy_deployments, "deploy/k8s", "no Envoy Deployment routes to the replicas")

    facts.update(
        port=port, replicas=spec.get("replicas", 1), name=sts["metadata"]["name"],
        namespace=sts["metadata"].get("namespace", "default"),
        headless=spec.get("serviceName"), envoy_ports=envoy_ports)
    return facts


def find_named(items, name):
    return [i for i in items or [] if isinstance(i, dict) and i.get("name") == name]


def check_envoy(path, config, facts, header, problems):
    where = path
    listeners = config.get("static_resources", {}).get("listeners", [])
    clusters = {c.get("name"): c for c in config.get("static_resources", {}).get("clusters", [])}
    if not problems.check(listeners, where, "has no listener"):
        return
    hashed_headers, routed_clusters = set(), set()
    for listener in listeners:
        lport = listener.get("address", {}).get("socket_address", {}).get("port_value")
        if facts.get("envoy_ports"):
            problems.check(lport in facts["envoy_ports"], where,
                           f"listener port {lport} is not a port of the Envoy Deployment "
                           f"({sorted(facts['envoy_ports'])})")
        for chain in listener.get("filter_chains", []):
            for hcm in find_named(chain.get("filters"),
                                  "envoy.filters.network.http_connection_manager"):
                typed = hcm.get("typed_config", {})
                problems.check(typed.get("codec_type", "AUTO") in ("HTTP2", "AUTO"), where,
                               f"codec_type {typed.get('codec_type')} cannot carry gRPC")
                problems.check(find_named(typed.get("http_filters"), "envoy.filters.http.router"),
                               where, "the HTTP filters lack envoy.filters.http.router")
                for host in typed.get("route_config", {}).get("virtual_hosts", []):
                    for route in host.get("routes", []):
                        action = route.get("route", {})
                        routed_clusters.add(action.get("cluster"))
                        problems.check(seconds(action.get("timeout", "15s")) == 0, where,
                                       f"route timeout {action.get('timeout', '15s (default)')} "
                                       "would cut long Train streams; use 0s")
                        for policy in action.get("hash_policy", []):
                            name = policy.get("header", {}).get("header_name")
                            if name:
                                hashed_headers.add(name.lower())
    problems.check(header is not None and header.lower() in hashed_headers, where,
                   f"routes hash on {sorted(hashed_headers)}, the client library sends {header!r}")
    for cluster_name in routed_clusters:
        cluster = clusters.get(cluster_name)
        if not problems.check(cluster is not None, where, f"route names unknown cluster "
                                                          f"{cluster_name!r}"):
            continue
        cwhere = f"{where} cluster {cluster_name}"
        problems.check(cluster.get("lb_policy") in ("RING_HASH", "MAGLEV"), cwhere,
                       f"lb_policy {cluster.get('lb_policy')} does not hash")
        problems.check(cluster.get("type") in ("STRICT_DNS", "LOGICAL_DNS", "EDS", "STATIC"),
                       cwhere, f"type {cluster.get('type')} is not a discovery type")
        options = cluster.get("typed_extension_protocol_options", {}).get(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", {})
        problems.check("http2_protocol_options" in options.get("explicit_http_config", {})
                       or "http2_protocol_options" in cluster, cwhere,
                       "upstream is not HTTP/2 (gRPC needs it)")
        problems.check(cluster.get("common_lb_config", {}).get("consistent_hashing_lb_config", {})
                       .get("use_hostname_for_hashing") is True, cwhere,
                       "does not hash by host name: a pod restarting with a new IP would move "
                       "its sessions")
        addresses = []
        for group in cluster.get("load_assignment", {}).get("endpoints", []):
            for endpoint in group.get("lb_endpoints", []):
                socket = endpoint.get("endpoint", {}).get("address", {}).get("socket_address", {})
                addresses.append(socket.get("address"))
                problems.check(socket.get("port_value") == facts.get("port"), cwhere,
                               f"endpoint {socket.get('address')} port "
                               f"{socket.get('port_value')}; mlpd listens on {facts.get('port')}")
        if facts.get("name"):
            expected = [f"{facts['name']}-{i}.{facts['headless']}.{facts['namespace']}"
                        f".svc.cluster.local" for i in range(facts["replicas"])]
            problems.check(sorted(addresses) == sorted(expected), cwhere,
                           f"endpoints {addresses} are not the StatefulSet's {facts['replicas']} "
                           f"pods {expected}")


def check_compose(path, compose, entrypoint, defaults, problems):
    services = compose.get("services", {})
    mlpd = services.get("mlpd")
    if not problems.check(isinstance(mlpd, dict), path, "has no service `mlpd`"):
        return
    where = f"{path} service mlpd"
    command = mlpd.get("command", [])
    if isinstance(command, str):
        command = command.split()
    args = [str(a) for a in entrypoint[1:]] + [str(a) for a in command]
    check_known_flags(args, defaults, where, problems)
    port = port_of(last_flag(args, "listen", defaults.get("listen")))
    published = []
    for entry in mlpd.get("ports", []):
        target = entry.get("target") if isinstance(entry, dict) else str(entry).split(":")[-1]
        published.append(int(str(target).split("/")[0]))
    problems.check(port in published, where,
                   f"publishes container ports {published}; mlpd listens on {port}")
    test = mlpd.get("healthcheck", {}).get("test", [])
    text = " ".join(test) if isinstance(test, list) else str(test)
    problems.check(re.search(r"\bmlpctl\b.*\bhealth\b", text) is not None, where,
                   f"health check {test!r} does not call `mlpctl health`")
    data_dir = last_flag(args, "data_dir", defaults.get("data_dir"))
    named = set((compose.get("volumes") or {}).keys())
    mounted = False
    for volume in mlpd.get("volumes", []):
        source, _, target = str(volume).partition(":")
        mounted |= source in named and target.split(":")[0] == data_dir
    problems.check(mounted, where, f"--data-dir={data_dir} is not on a named volume "
                                   f"(named volumes: {sorted(named)})")
    drain = float(last_flag(args, "drain_seconds", defaults.get("drain_seconds", "10")))
    grace = seconds(mlpd.get("stop_grace_period", "10s"))
    problems.check(grace > drain, where, f"stop_grace_period {grace:g}s must exceed "
                                         f"--drain-seconds ({drain:g})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    root = os.path.abspath(parser.parse_args().root)
    problems = Problems()
    defaults = server_defaults(root, problems)
    header = session_header(root, problems)
    entrypoint = dockerfile_entrypoint(root, problems)

    deploy = os.path.join(root, "deploy")
    k8s_objects, envoy_configs, compose_files = [], [], []
    for folder, _, files in sorted(os.walk(deploy)):
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root)
            for doc in load_documents(path, problems):
                if not isinstance(doc, dict):
                    problems.add(relative, "a document is not a mapping")
                elif "apiVersion" in doc and "kind" in doc:
                    problems.check("name" in doc.get("metadata", {}), relative,
                                   f"{doc['kind']} has no metadata.name")
                    k8s_objects.append((relative, doc))
                elif "static_resources" in doc:
                    envoy_configs.append((relative, doc))
                elif "services" in doc:
                    compose_files.append((relative, doc))
                else:
                    problems.add(relative, "is neither a Kubernetes object, an Envoy config "
                                           "nor a compose file")

    facts = check_kubernetes(k8s_objects, defaults, problems)
    problems.check(envoy_configs, "deploy", "no Envoy config (static_resources)")
    for path, config in envoy_configs:
        check_envoy(path, config, facts, header, problems)
    problems.check(compose_files, "deploy", "no compose file")
    for path, compose in compose_files:
        check_compose(path, compose, entrypoint, defaults, problems)

    for item in problems.items:
        print(f"FAIL {item}")
    checked = len(k8s_objects) + len(envoy_configs) + len(compose_files)
    print(f"check_manifests: {checked} documents, {len(problems.items)} problems")
    return 1 if problems.items else 0


if __name__ == "__main__":
    sys.exit(main())
