#!/usr/bin/env python3
"""Checks deploy/ against the server it deploys: no cluster or Docker engine needed.

Every YAML file under deploy/ must parse, and the pieces must agree with each other and with
the code: the port in mlpd's --listen flag is the one the containers expose, the probes hit and
the Services target; the health checks run the image's mlpd-health; the router (HAProxy,
deploy/haproxy.cfg) hashes consistently on the same headerthe client library sends (client/client.h kSessionHeader) and lists exactly the StatefulSet's
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
    """Compose/HAProxy durations ("40s", "1m30s", 45) in seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    total, text = 0.0, str(value).strip()
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", text):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total


def server_defaults(root, problems):
    """The defaults of mlpd's flags, so the check follows the code: server/main.cc binds each
    flag to a field of the options struct (`flag("--name", options.field, ...)`), and
    server/options.h gives each field its default once (`type field = value;`)."""
    texts = {}
    for name in ("main.cc", "options.h"):
        path = os.path.join(root, "server", name)
        try:
            texts[name] = open(path, encoding="utf-8").read()
        except OSError as error:
            problems.add(path, f"cannot read: {error}")
            return {}
    constants = dict(re.findall(r'constexpr char (\w+)\[\]\s*=\s*"([^"]*)"', texts["options.h"]))
    values = {}
    for field, value in re.findall(r"^\s*[\w:<>]+\s+(\w+)\s*=\s*([^;]+);", texts["options.h"],
                                   re.MULTILINE):
        value = value.strip()
        values[field] = constants.get(value, value.strip('"'))
    # main.cc may set a field before binding it (the binary keeps data where tests keep none).
    for field, value in re.findall(r'options\.(\w+)\s*=\s*([\w"./:-]+);', texts["main.cc"]):
        values[field] = constants.get(value.split("::")[-1], value.strip('"'))
    defaults = {}
    for flag, field in re.findall(r'flag\(\s*"--([\w-]+)"\s*,\s*options\.([\w.]+)',
                                  texts["main.cc"]):
        defaults[flag.replace("-", "_")] = values.get(field.split(".")[-1], "")
    problems.check(bool(defaults), "server/main.cc", "binds no flags to options fields")
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


ROOT = None


def facts_user(problems):
    """The uid of the Dockerfile's last USER (uid:gid, both the same), or None."""
    path = os.path.join(ROOT, "Dockerfile")
    users = re.findall(r"^USER\s+(\S+)", open(path, encoding="utf-8").read(), re.MULTILINE)
    match = re.fullmatch(r"(\d+):\1", users[-1]) if users else None
    problems.check(match is not None, path, f"USER {users[-1] if users else '(none)'} is not a "
                                            "numeric uid:gid with both the same")
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
    """StatefulSet, Services and the router Deployment; returns facts the router's check
    needs."""
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

    # /metrics: Prometheus scrapes the pod's address, on the port the annotations name.
    http_listen = last_flag(args, "http_listen", defaults.get("http_listen"))
    http_port = port_of(http_listen)
    annotations = spec.get("template", {}).get("metadata", {}).get("annotations", {}) or {}
    if str(annotations.get("prometheus.io/scrape", "")).lower() == "true":
        problems.check(http_port is not None and not str(http_listen).startswith("127."), where,
                       f"--http-listen={http_listen}: Prometheus cannot scrape a pod's loopback")
        problems.check(str(annotations.get("prometheus.io/port")) == str(http_port), where,
                       f"prometheus.io/port is {annotations.get('prometheus.io/port')}, "
                       f"--http-listen's port is {http_port}")
        problems.check(http_port in container_ports.values(), where,
                       f"container ports {sorted(container_ports.values())} miss the "
                       f"--http-listen port {http_port}")

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

    routers = [(p, o) for p, o in by_kind.get("Deployment", [])
               if any("router" in str(c.get("image", ""))
                      for c in o["spec"]["template"]["spec"].get("containers", []))]
    problems.check(routers, "deploy/k8s", "no router Deployment routes to the replicas")
    router_env, router_ports = {}, set()
    for p, o in routers:
        for c in o["spec"]["template"]["spec"]["containers"]:
            router_ports.update(cp.get("containerPort") for cp in c.get("ports", []))
            router_env.update({e["name"]: str(e.get("value")) for e in c.get("env", [])})

    # The image's USER is the uid and gid the pods run as (files on the volume are theirs).
    image_user = facts_user(problems)
    context = pod.get("securityContext", {})
    if image_user:
        for key in ("runAsUser", "runAsGroup", "fsGroup"):
            problems.check(str(context.get(key)) == image_user, where,
                           f"securityContext.{key} is {context.get(key)}, the image's USER "
                           f"is {image_user}:{image_user}")

    facts.update(
        port=port, replicas=spec.get("replicas", 1), name=sts["metadata"]["name"],
        namespace=sts["metadata"].get("namespace", "default"),
        headless=spec.get("serviceName"), router_ports=router_ports, router_env=router_env)
    return facts


def haproxy_sections(text):
    """HAProxy config -> {"backend mlpd": [["balance", "hdr(x)"], ...], ...}."""
    sections, current = {}, None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] in ("global", "defaults", "frontend", "backend", "listen", "resolvers"):
            current = " ".join(words[:2])
            sections[current] = []
        elif current:
            sections[current].append(words)
    return sections


def environment_value(word):
    """ "${NAME}" -> NAME, else None (HAProxy expands variables in double quotes)."""
    match = re.fullmatch(r'"\$\{(\w+)\}"', word)
    return match.group(1) if match else None


def check_router(path, text, facts, header, problems):
    """deploy/haproxy.cfg: consistent hashing on the client's session header over exactly the
    StatefulSet's replicas, with nothing that moves a session to another replica."""
    sections = haproxy_sections(text)
    frontends = [s for s in sections if s.startswith("frontend ")]
    backends = [s for s in sections if s.startswith("backend ")]
    if not problems.check(len(frontends) == 1 and len(backends) == 1, path,
                          f"expected one frontend and one backend, found {frontends + backends}"):
        return []
    frontend, backend = sections[frontends[0]], sections[backends[0]]
    binds = [w for w in frontend if w[0] == "bind"]
    problems.check(binds and all("h2" in w[w.index("proto") + 1:w.index("proto") + 2]
                                 for w in binds if "proto" in w) and all("proto" in w for w in binds),
                   path, "the frontend does not bind with `proto h2` (gRPC clients speak h2c)")
    listen_variables = [environment_value(w[1]) for w in binds]
    balance = [w for w in backend if w[0] == "balance"]
    hashed = balance[-1][1] if balance else ""
    problems.check(header is not None and hashed.lower() == f"hdr({header.lower()})", path,
                   f"balance {hashed or '(none)'}; the client library sends the header {header!r}")
    problems.check(["hash-type", "consistent"] == next((w[:2] for w in backend
                                                         if w[0] == "hash-type"), None), path,
                   "does not use `hash-type consistent`: a replica added or removed would move "
                   "most sessions")
    every = [w for section in sections.values() for w in section]
    problems.check(not any(w[:2] == ["option", "redispatch"] for w in every), path,
                   "option redispatch would send a down replica's sessions to another replica")
    for name in ("client", "server"):
        value = next((w[2] for w in every if w[:2] == ["timeout", name]), "0")
        problems.check(seconds(value) >= 3600, path,
                       f"timeout {name} {value} would cut long Train streams (use 1h or more)")
    servers = [w for w in backend if w[0] == "server"]
    variables = []
    for words in servers:
        name = words[1]
        problems.check("check" not in words[3:], path,
                       f"server {name} has health checks: a replica taken out of the ring sends "
                       "its sessions elsewhere")
        problems.check("proto" in words and words[words.index("proto") + 1] == "h2", path,
                       f"server {name} is not `proto h2` (gRPC needs HTTP/2)")
        problems.check("id" in words, path,
                       f"server {name} has no fixed `id`: the ring would follow the line order")
        variables.append(environment_value(words[2]))
    problems.check(all(variables), path, "server addresses must come from \"${MLPD_REPLICA_N}\" "
                                         "variables, so every deployment runs this same file")
    problems.check(len(servers) == facts.get("replicas"), path,
                   f"{len(servers)} servers are not the StatefulSet's {facts.get('replicas')} pods")
    env = facts.get("router_env", {})
    if facts.get("name") and env:
        expected = [f"{facts['name']}-{i}.{facts['headless']}.{facts['namespace']}"
                    f".svc.cluster.local:{facts['port']}" for i in range(facts["replicas"])]
        got = [env.get(v) for v in variables]
        problems.check(got == expected, "deploy/k8s/router.yaml",
                       f"replica addresses {got} are not the StatefulSet's pods {expected}")
        for variable in listen_variables:
            listen_port = port_of(env.get(variable or "", ""))
            problems.check(listen_port in facts.get("router_ports", set()),
                           "deploy/k8s/router.yaml",
                           f"the router listens on port {listen_port}, not a port of the router "
                           f"Deployment ({sorted(facts.get('router_ports', []))})")
    return variables


def compose_args(entrypoint, service):
    command = service.get("command", [])
    if isinstance(command, str):
        command = command.split()
    # ${VAR:-default} takes its default here, as compose does when VAR is unset.
    return [re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(a))
            for a in list(entrypoint[1:]) + list(command)]


def check_compose(path, compose, entrypoint, defaults, router_variables, problems):
    """Compose files: format 2.x (Debian's docker-compose 1.29 and Compose v2 both take it;
    v2's top-level `name:` breaks 1.29), host network on loopback, the health check, a named
    volume per replica, and, with a router, the replicas it is given are these services."""
    problems.check(str(compose.get("version", "")).startswith("2."), path,
                   f"version {compose.get('version')!r}: use 2.x, which docker-compose 1.29 and "
                   "Compose v2 both accept")
    problems.check("name" not in compose, path,
                   "top-level `name:` is Compose v2 only; docker-compose 1.29 refuses the file")
    services = compose.get("services", {})
    replicas = {n: s for n, s in services.items()
                if isinstance(s, dict) and "router" not in str(s.get("image", ""))}
    if not problems.check(replicas, path, "has no mlpd service"):
        return
    named = set((compose.get("volumes") or {}).keys())
    listens, http_listens = {}, {}
    for name, service in services.items():
        where = f"{path} service {name}"
        problems.check(service.get("network_mode") == "host", where,
                       "is not on the host network (these machines allow no container bridge)")
        problems.check(service.get("read_only") is True, where, "root file system is not read-only")
        if name not in replicas:
            continue
        args = compose_args(entrypoint, service)
        check_known_flags(args, defaults, where, problems)
        listen = last_flag(args, "listen", defaults.get("listen"))
        problems.check(str(listen).startswith("127.0.0.1:"), where,
                       f"--listen={listen}: on the host network listen on loopback only")
        listens[name] = listen
        http_listen = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1",
                             str(last_flag(args, "http_listen", defaults.get("http_listen"))))
        if http_listen:
            problems.check(http_listen.startswith("127.0.0.1:"), where,
                           f"--http-listen={http_listen}: on the host network listen on "
                           "loopback only")
            http_listens[name] = http_listen
        test = service.get("healthcheck", {}).get("test", [])
        text = " ".join(test) if isinstance(test, list) else str(test)
        problems.check(re.search(r"\bmlpd-health\b", text) is not None, where,
                       f"health check {test!r} does not run mlpd-health (the image's check)")
        data_dir = last_flag(args, "data_dir", defaults.get("data_dir"))
        mounted = False
        for volume in service.get("volumes", []):
            source, _, target = str(volume).partition(":")
            mounted |= source in named and target.split(":")[0] == data_dir
        problems.check(mounted, where, f"--data-dir={data_dir} is not on a named volume "
                                       f"(named volumes: {sorted(named)})")
        drain = float(last_flag(args, "drain_seconds", defaults.get("drain_seconds", "10")))
        grace = seconds(service.get("stop_grace_period", "10s"))
        problems.check(grace > drain, where, f"stop_grace_period {grace:g}s must exceed "
                                             f"--drain-seconds ({drain:g})")
    # The host network gives every replica the same loopback: one HTTP port each.
    problems.check(len(set(http_listens.values())) == len(http_listens), path,
                   f"replicas share an --http-listen address ({sorted(http_listens.values())}): "
                   "the second one cannot start")
    volumes = [str(v).partition(":")[0] for s in replicas.values() for v in s.get("volumes", [])]
    problems.check(len(volumes) == len(set(volumes)), path,
                   f"replicas share a volume ({volumes}): each needs its own data dir")
    routers = [s for n, s in services.items() if n not in replicas]
    for router in routers:
        env = router.get("environment", {})
        given = [re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(env.get(v)))
                 for v in router_variables]
        problems.check(sorted(given) == sorted(listens.values()), f"{path} router",
                       f"replica addresses {given} are not the replicas' --listen "
                       f"{sorted(listens.values())}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    root = os.path.abspath(parser.parse_args().root)
    global ROOT
    ROOT = root
    problems = Problems()
    defaults = server_defaults(root, problems)
    header = session_header(root, problems)
    entrypoint = dockerfile_entrypoint(root, problems)

    deploy = os.path.join(root, "deploy")
    k8s_objects, compose_files = [], []
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
                elif "services" in doc:
                    compose_files.append((relative, doc))
                else:
                    problems.add(relative, "is neither a Kubernetes object nor a compose file")

    facts = check_kubernetes(k8s_objects, defaults, problems)
    router_path = os.path.join(deploy, "haproxy.cfg")
    router_variables = []
    if problems.check(os.path.exists(router_path), "deploy", "no router config (haproxy.cfg)"):
        router_variables = check_router("deploy/haproxy.cfg", open(router_path).read(), facts,
                                        header, problems)
    problems.check(compose_files, "deploy", "no compose file")
    for path, compose in compose_files:
        check_compose(path, compose, entrypoint, defaults, router_variables, problems)

    for item in problems.items:
        print(f"FAIL {item}")
    checked = len(k8s_objects) + 1 + len(compose_files)
    print(f"check_manifests: {checked} documents, {len(problems.items)} problems")
    return 1 if problems.items else 0


if __name__ == "__main__":
    sys.exit(main())
