#!/usr/bin/python3
"""The deploy/ checks (ctest label deploy): deploy/ files as a user meets them.

One sub-command per ctest test:
  yaml        every YAML file under deploy/ (and config/) parses
  kubernetes  the kustomize base and example overlay render; the ConfigMap's
              config passes both daemons' --check-config with exactly the
              environment each pod gets; ports, probes, grace periods, KEDA
              bounds, security settings and Services agree with the config;
              the alert rules pass promtool (syntax and tests/deploy/alerts_test.yaml)
  compose     docker-compose.yml validates against Compose's schema and agrees
              with deploy/compose/bridge.yaml, which passes --check-config
  systemd     systemd-analyze verify accepts the units (and the TLS drop-in),
              their exposure stays low, the hardening is there
  container   the Dockerfile's build steps are README's "Build" steps; the
              runtime stage has runtime libraries only, a numeric non-root user,
              exec-form commands (no shell at run time)
  docs        docs/operations.md is linked from README.md, documents every alert
              and every metric the alerts use, and its relative links resolve
Env: TCB_SOURCE_DIR (repository root), TCB_BIN_DIR (built daemons),
TCB_KUSTOMIZE (a kustomize binary; default: what tests/deploy/kustomize.sh prints).
Each failure prints one line "FAIL: what"; the exit code is 1 when any failed.
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.environ.get("TCB_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.environ.get("TCB_BIN_DIR", os.path.join(ROOT, "build", "bin"))
DUMMY_SECRET = "dummy-secret-for-check-config"
failures = []
checks = 0


def check(ok, what):
    """Records one check; returns ok so callers may stop early."""
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print("FAIL: " + what)
    return ok


def rel(path):
    return os.path.relpath(path, ROOT)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def project_version():
    m = re.search(r"project\(talon_clevertap_bridge VERSION ([0-9.]+)", read(os.path.join(ROOT, "CMakeLists.txt")))
    return m.group(1)


def port_of(listen):
    return int(listen.rsplit(":", 1)[1])


def host_of(listen):
    return listen.rsplit(":", 1)[0]


def with_defaults(cfg):
    """The config with config/example.yaml's values for the keys it omits
    (example.yaml lists every key with its default; a test keeps it in sync)."""
    example = yaml.safe_load(read(os.path.join(ROOT, "config", "example.yaml")))
    merged = {}
    for section, values in example.items():
        if isinstance(values, dict):
            merged[section] = dict(values)
            merged[section].update((cfg or {}).get(section) or {})
        else:
            merged[section] = (cfg or {}).get(section, values)
    return merged


def check_config(daemon, text, env, what):
    """Runs `daemon --config FILE --check-config` with exactly env (plus PATH
    and the sanitizer options) and records whether it said ok."""
    if not check(os.access(os.path.join(BIN, daemon), os.X_OK), "%s: no %s in TCB_BIN_DIR %s" % (what, daemon, BIN)):
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        run_env = {"PATH": "/usr/bin:/bin"}
        for keep in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if keep in os.environ:
                run_env[keep] = os.environ[keep]
        run_env.update(env)
        proc = subprocess.run([os.path.join(BIN, daemon), "--config", path, "--check-config"],
                              env=run_env, capture_output=True, text=True, check=False)
        check(proc.returncode == 0 and proc.stdout.strip().endswith(": ok"),
              "%s: %s --check-config exit %d: %s" % (what, daemon, proc.returncode,
                                                     (proc.stderr or proc.stdout).strip()))
        # The secrets must not come back in anything it printed.
        check(DUMMY_SECRET not in proc.stdout + proc.stderr,
              "%s: %s --check-config printed a secret" % (what, daemon))


# --- yaml -----------------------------------------------------------------

def cmd_yaml():
    files = sorted(set(glob.glob(os.path.join(ROOT, "deploy", "**", "*.yaml"), recursive=True)
                       + glob.glob(os.path.join(ROOT, "deploy", "**", "*.yml"), recursive=True)
                       + glob.glob(os.path.join(ROOT, "config", "*.yaml"))))
    check(len(files) >= 10, "expected the deploy/ YAML files, found %d" % len(files))
    for path in files:
        try:
            docs = [d for d in yaml.safe_load_all(read(path)) if d is not None]
            check(len(docs) > 0, "%s: no YAML document" % rel(path))
        except yaml.YAMLError as e:
            check(False, "%s: %s" % (rel(path), str(e).replace("\n", " ")))
    print("yaml: %d files" % len(files))


# --- kubernetes -------------------------------------------------------------

def render(kustomize, directory):
    proc = subprocess.run([kustomize, "build", directory], capture_output=True, text=True, check=False)
    if not check(proc.returncode == 0, "kustomize build %s: %s" % (rel(directory), proc.stderr.strip())):
        return []
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def by_kind(objs, kind):
    return [o for o in objs if o.get("kind") == kind]


def labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def container_port(container, ref):
    """The containerPort a probe or Service names (by name or number), or None."""
    for p in container.get("ports") or []:
        if ref == p.get("name") or ref == p.get("containerPort"):
            return p["containerPort"]
    return None


def pod_env(container, secrets, config_text):
    """The environment a container gets: literal env values, a dummy for every
    secret-sourced one, and every key of each envFrom Secret (dummies). With
    secrets None (the base, whose overlay brings the Secrets), every ${NAME}
    the config uses stands for what the Secrets will hold."""
    env = {}
    if secrets is None:
        env = {n: DUMMY_SECRET for n in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", config_text)}
    for src in (container.get("envFrom") or []) if secrets is not None else []:
        ref = src.get("secretRef") or src.get("configMapRef")
        if check(ref is not None and ref["name"] in secrets,
                 "%s: envFrom names %s, which the render does not hold" % (container["name"], ref)):
            for key in secrets[ref["name"]]:
                env[key] = DUMMY_SECRET
    for e in container.get("env") or []:
        env[e["name"]] = e.get("value", DUMMY_SECRET if "valueFrom" in e else "")
    return env


def check_security(what, pod, container):
    psc = pod.get("securityContext", {})
    csc = container.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True, what + ": pod securityContext.runAsNonRoot is not true")
    check(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0,
          what + ": pod securityContext.runAsUser is not a non-root uid")
    seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
    check(seccomp == "RuntimeDefault", what + ": seccompProfile is not RuntimeDefault")
    check(csc.get("readOnlyRootFilesystem") is True, what + ": readOnlyRootFilesystem is not true")
    check(csc.get("allowPrivilegeEscalation") is False, what + ": allowPrivilegeEscalation is not false")
    check(csc.get("privileged", False) is False, what + ": privileged")
    check("ALL" in (csc.get("capabilities") or {}).get("drop", []), what + ": capabilities do not drop ALL")
    check(pod.get("automountServiceAccountToken") is False, what + ": a service account token is mounted")
    res = container.get("resources", {})
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            check(r in res.get(kind, {}), "%s: no %s.%s" % (what, kind, r))


def check_probes(what, container, port):
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                        ("startupProbe", "/healthz")):
        get = (container.get(probe) or {}).get("httpGet")
        if probe == "startupProbe" and get is None:
            continue
        if check(get is not None, "%s: no %s httpGet" % (what, probe)):
            check(get.get("path") == path, "%s: %s path %s, want %s" % (what, probe, get.get("path"), path))
            check(container_port(container, get.get("port")) == port,
                  "%s: %s port %s is not the metrics_listen port %d" % (what, probe, get.get("port"), port))


def check_listen(what, listen, container, port_name):
    check(host_of(listen) in ("0.0.0.0", "[::]"),
          "%s: %s binds %s, unreachable from other pods (use 0.0.0.0 or [::])" % (what, listen, host_of(listen)))
    check(container_port(container, port_name) == port_of(listen),
          "%s: containerPort %s is %s, the config listens on %d" % (what, port_name, container_port(container, port_name),
                                                                    port_of(listen)))


def check_rendered(name, objs, docs_text):
    what = name
    cms = by_kind(objs, "ConfigMap")
    if not check(len(cms) == 1 and "config.yaml" in cms[0].get("data", {}),
                 "%s: want one ConfigMap with a config.yaml key" % what):
        return
    cm = cms[0]
    config_text = cm["data"]["config.yaml"]
    cfg = with_defaults(yaml.safe_load(config_text))
    secrets = {s["metadata"]["name"]: list((s.get("data") or {}).keys()) + list((s.get("stringData") or {}).keys())
               for s in by_kind(objs, "Secret")}
    deployments = {d["metadata"]["name"]: d for d in by_kind(objs, "Deployment")}
    services = by_kind(objs, "Service")
    expected = {"talon-ingest": "ingest", "clevertap-sink": "sink"}
    check(sorted(deployments) == sorted(expected), "%s: Deployments %s, want %s" % (what, sorted(deployments),
                                                                                      sorted(expected)))
    version = project_version()

    for dname, dep in deployments.items():
        w = "%s/%s" % (what, dname)
        pod = dep["spec"]["template"]["spec"]
        podlabels = dep["spec"]["template"]["metadata"]["labels"]
        check(labels_match(dep["spec"]["selector"]["matchLabels"], podlabels), w + ": selector misses its pods")
        containers = pod["containers"]
        if not check(len(containers) == 1, w + ": want one container"):
            continue
        c = containers[0]
        daemon = os.path.basename(c["command"][0])
        check(daemon == dname, "%s: runs %s" % (w, daemon))
        # --config points into the mounted ConfigMap's config.yaml
        args = c.get("args") or []
        conf_path = args[args.index("--config") + 1] if "--config" in args else None
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts") or []}
        vols = {v["name"]: v for v in pod.get("volumes") or []}
        cm_mounts = [mounts[n] for n, v in vols.items() if n in mounts and
                     (v.get("configMap") or {}).get("name") == cm["metadata"]["name"]]
        check(conf_path is not None and os.path.dirname(conf_path) in cm_mounts and
              os.path.basename(conf_path) == "config.yaml",
              "%s: --config %s is not the mounted ConfigMap's config.yaml" % (w, conf_path))
        check(c["image"].endswith(":" + version),
              "%s: image %s is not tagged %s (the project version)" % (w, c["image"], version))
        # the config passes this daemon's check with exactly the pod's environment
        check_config(daemon, config_text, pod_env(c, secrets if name != "base" else None, config_text), w)
        check_security(w, pod, c)
        check("replicas" not in dep["spec"],
              w + ": sets replicas, which an autoscaler owns (kubectl apply would reset it)")

        section = cfg[expected[dname]]
        metrics_port = port_of(section["metrics_listen"])
        check_listen(w + " metrics_listen", section["metrics_listen"], c, "metrics")
        check_probes(w, c, metrics_port)
        grace = pod.get("terminationGracePeriodSeconds", 30) * 1000
        if dname == "talon-ingest":
            check_listen(w + " listen", section["listen"], c, "http")
            check(grace > section["produce_timeout_ms"],
                  "%s: terminationGracePeriodSeconds %d ms is not above ingest.produce_timeout_ms %d"
                  % (w, grace, section["produce_timeout_ms"]))
        else:
            shutdown = section["shutdown_timeout_ms"]
            check(grace >= shutdown + 5000,
                  "%s: terminationGracePeriodSeconds %d ms is not 5 s above sink.shutdown_timeout_ms %d"
                  % (w, grace, shutdown))
            check(shutdown < cfg["kafka"]["session_timeout_ms"],
                  "%s: sink.shutdown_timeout_ms %d is not below kafka.session_timeout_ms %d"
                  % (w, shutdown, cfg["kafka"]["session_timeout_ms"]))
            surge = dep["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge")
            check(surge in (0, "0", "0%"), w + ": maxSurge must be 0 (a surge member may get no partition)")

        # Services select these pods and target ports they have
        for svc in services:
            if not labels_match(svc["spec"].get("selector"), podlabels):
                continue
            for p in svc["spec"]["ports"]:
                check(container_port(c, p.get("targetPort", p["port"])) is not None,
                      "%s: Service %s targets port %s the pod lacks" % (w, svc["metadata"]["name"], p.get("targetPort")))
    for svc in services:
        check(any(labels_match(svc["spec"].get("selector"), d["spec"]["template"]["metadata"]["labels"])
                  for d in deployments.values()), "%s: Service %s selects no pod" % (what, svc["metadata"]["name"]))

    # autoscaling and disruption budgets
    hpas = by_kind(objs, "HorizontalPodAutoscaler")
    check(len(hpas) == 1 and hpas[0]["spec"]["scaleTargetRef"]["name"] == "talon-ingest" and
          any(m.get("resource", {}).get("name") == "cpu" for m in hpas[0]["spec"]["metrics"]),
          what + ": want one HPA on talon-ingest's CPU")
    for pdb in by_kind(objs, "PodDisruptionBudget"):
        check(any(labels_match(pdb["spec"]["selector"]["matchLabels"], d["spec"]["template"]["metadata"]["labels"])
                  for d in deployments.values()), "%s: PDB %s selects no pod" % (what, pdb["metadata"]["name"]))
    check(any(labels_match(p["spec"]["selector"]["matchLabels"],
                           deployments["clevertap-sink"]["spec"]["template"]["metadata"]["labels"])
              for p in by_kind(objs, "PodDisruptionBudget")), what + ": no PDB for clevertap-sink")
    sos = by_kind(objs, "ScaledObject")
    if check(len(sos) == 1, what + ": want one KEDA ScaledObject"):
        so = sos[0]
        spec = so["spec"]
        partitions = int(so["metadata"].get("annotations", {}).get("talon-clevertap-bridge/topic-partitions", 0))
        check(spec["scaleTargetRef"]["name"] == "clevertap-sink", what + ": ScaledObject does not scale clevertap-sink")
        check(1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions,
              "%s: want 1 <= minReplicaCount %d <= maxReplicaCount %d <= topic partitions %d"
              % (what, spec["minReplicaCount"], spec["maxReplicaCount"], partitions))
        trig = spec["triggers"][0]
        meta = trig["metadata"]
        check(trig["type"] == "kafka", what + ": the trigger is not KEDA's kafka scaler")
        check(meta.get("bootstrapServers") == cfg["kafka"]["brokers"],
              "%s: KEDA bootstrapServers %s, config kafka.brokers %s" % (what, meta.get("bootstrapServers"),
                                                                         cfg["kafka"]["brokers"]))
        check(meta.get("consumerGroup") == cfg["kafka"]["group_id"], what + ": KEDA consumerGroup is not kafka.group_id")
        check(meta.get("topic") == cfg["kafka"]["topic"], what + ": KEDA topic is not kafka.topic")
        check(str(meta.get("allowIdleConsumers", "false")).lower() == "false",
              what + ": allowIdleConsumers would scale past the partition count")

    # monitoring: the ServiceMonitor reaches a metrics port on each Service
    sms = by_kind(objs, "ServiceMonitor")
    if check(len(sms) == 1, what + ": want one ServiceMonitor"):
        sm = sms[0]
        selected = [s for s in services if labels_match(sm["spec"]["selector"]["matchLabels"],
                                                        s["metadata"].get("labels", {}))]
        check(sorted(s["metadata"]["name"] for s in selected) == ["clevertap-sink", "talon-ingest"],
              what + ": the ServiceMonitor does not select both Services")
        for ep in sm["spec"]["endpoints"]:
            check(ep.get("path", "/metrics") == "/metrics", what + ": ServiceMonitor path is not /metrics")
            for s in selected:
                check(any(p.get("name") == ep["port"] for p in s["spec"]["ports"]),
                      "%s: Service %s has no port named %s" % (what, s["metadata"]["name"], ep["port"]))
    for ing in by_kind(objs, "Ingress"):
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                backend = p["backend"]["service"]
                svc = [s for s in services if s["metadata"]["name"] == backend["name"]]
                check(len(svc) == 1 and any(sp.get("name") == backend["port"].get("name") for sp in svc[0]["spec"]["ports"]),
                      "%s: Ingress path %s goes to a missing Service port" % (what, p["path"]))
                check(p["path"] in ("/1/upload", "/talon/notifications"),
                      "%s: Ingress exposes %s (only the webhook routes belong outside)" % (what, p["path"]))
    rules = by_kind(objs, "PrometheusRule")
    if check(len(rules) == 1, what + ": want one PrometheusRule"):
        check_rules(what, rules[0]["spec"], docs_text)


def check_rules(what, spec, docs_text):
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "rules.yaml"), "w", encoding="utf-8") as f:
            yaml.safe_dump(spec, f, sort_keys=False)
        shutil.copy(os.path.join(ROOT, "tests", "deploy", "alerts_test.yaml"), tmp)
        proc = subprocess.run(["promtool", "check", "rules", "rules.yaml"], cwd=tmp,
                              capture_output=True, text=True, check=False)
        check(proc.returncode == 0, "%s: promtool check rules: %s" % (what, (proc.stdout + proc.stderr).strip()))
        proc = subprocess.run(["promtool", "test", "rules", "alerts_test.yaml"], cwd=tmp,
                              capture_output=True, text=True, check=False)
        check(proc.returncode == 0, "%s: promtool test rules: %s" % (what, (proc.stdout + proc.stderr).strip()))
    alerts = [r["alert"] for g in spec["groups"] for r in g["rules"] if "alert" in r]
    wanted = {"lag": "Lag", "DLQ": "DeadLetters", "halted": "AccountHalted", "429": "Throttled", "503": "Ingest503"}
    for topic, part in wanted.items():
        check(any(part in a for a in alerts), "%s: no alert on %s" % (what, topic))
    tested = read(os.path.join(ROOT, "tests", "deploy", "alerts_test.yaml"))
    for alert in alerts:
        check(re.search(r"^### %s$" % alert, docs_text, re.M) is not None,
              "docs/operations.md has no '### %s' section" % alert)
        check("alertname: %s" % alert in tested, "tests/deploy/alerts_test.yaml never fires %s" % alert)
    for rule in (r for g in spec["groups"] for r in g["rules"]):
        for metric in set(re.findall(r"\btcb_[a-z_]+", rule["expr"])):
            check("`%s" % metric in docs_text, "docs/operations.md does not list the metric %s" % metric)


def check_ingest_tls(objs):
    """components/ingest-tls: the documented certificate paths are in a mount
    of the talon-ingest-tls Secret that the pod's group can read, and the
    overlay's config with the documented ingest.tls_* settings added passes
    talon-ingest --check-config with the pod's environment."""
    what = "components/ingest-tls"
    dep = [d for d in by_kind(objs, "Deployment") if d["metadata"]["name"] == "talon-ingest"][0]
    pod = dep["spec"]["template"]["spec"]
    docs = read(os.path.join(ROOT, "deploy", "kubernetes", "components", "ingest-tls", "kustomization.yaml"))
    settings = re.findall(r"ingest\.(tls_(?:cert|key)_file): \"([^\"]+)\"", docs)
    paths = [path for _, path in settings]
    check(len(paths) == 2, what + ": the comment does not give both ingest.tls_* paths")
    cms = by_kind(objs, "ConfigMap")
    if cms and "config.yaml" in cms[0].get("data", {}):
        cfg = yaml.safe_load(cms[0]["data"]["config.yaml"]) or {}
        cfg.setdefault("ingest", {}).update(dict(settings))
        text = yaml.safe_dump(cfg, sort_keys=False)
        secrets = {s["metadata"]["name"]: list((s.get("data") or {}).keys()) +
                   list((s.get("stringData") or {}).keys()) for s in by_kind(objs, "Secret")}
        check_config("talon-ingest", text, pod_env(pod["containers"][0], secrets, text),
                     what + " (its documented ingest.tls_* settings)")
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0].get("volumeMounts") or []}
    for path in paths:
        mount = mounts.get(os.path.dirname(path))
        secret = (vols.get(mount) or {}).get("secret", {})
        check(secret.get("secretName") == "talon-ingest-tls" and os.path.basename(path) in ("tls.crt", "tls.key"),
              "%s: %s is not a key of the mounted talon-ingest-tls Secret" % (what, path))
        check(secret.get("defaultMode", 0o644) & 0o007 == 0 and
              pod["securityContext"].get("fsGroup") == pod["securityContext"]["runAsGroup"],
              "%s: the key is world-readable or not readable by the pod's group" % what)
    svc = [s for s in by_kind(objs, "Service") if s["spec"].get("type") == "LoadBalancer"]
    check(len(svc) == 1 and svc[0]["spec"]["ports"][0]["port"] == 443,
          what + ": no LoadBalancer Service on 443")


def cmd_kubernetes():
    kustomize = os.environ.get("TCB_KUSTOMIZE")
    if not kustomize:
        proc = subprocess.run(["bash", os.path.join(ROOT, "tests", "deploy", "kustomize.sh")],
                              capture_output=True, text=True, check=False)
        kustomize = proc.stdout.strip().splitlines()[-1] if proc.returncode == 0 and proc.stdout.strip() else None
    if not check(kustomize and os.access(kustomize, os.X_OK), "TCB_KUSTOMIZE is not an executable kustomize"):
        return
    docs_text = read(os.path.join(ROOT, "docs", "operations.md"))
    with tempfile.TemporaryDirectory() as tmp:
        # A copy, so that the overlay's *.env files (git-ignored, the user's
        # secrets) can be made from the .env.example files.
        shutil.copytree(os.path.join(ROOT, "deploy", "kubernetes"), os.path.join(tmp, "kubernetes"),
                        ignore=shutil.ignore_patterns("*.env"))
        for example in glob.glob(os.path.join(tmp, "kubernetes", "overlays", "*", "*.env.example")):
            lines = [l.split("=", 1)[0] + "=" + DUMMY_SECRET for l in read(example).splitlines()
                     if l and not l.startswith("#")]
            with open(example[:-len(".example")], "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        for name, directory in (("base", "base"), ("overlays/example", "overlays/example")):
            objs = render(kustomize, os.path.join(tmp, "kubernetes", directory))
            if objs:
                check_rendered(name, objs, docs_text)
                print("kubernetes: %s renders %d objects" % (name, len(objs)))
        # the example overlay with HTTPS in talon-ingest (components/ingest-tls)
        overlay = os.path.join(tmp, "kubernetes", "overlays", "example")
        with open(os.path.join(overlay, "kustomization.yaml"), "a", encoding="utf-8") as f:
            f.write("\ncomponents:\n  - ../../components/ingest-tls\n")
        objs = render(kustomize, overlay)
        if objs:
            check_rendered("overlays/example+ingest-tls", objs, docs_text)
            check_ingest_tls(objs)
        base_objs = render(kustomize, os.path.join(tmp, "kubernetes", "base"))
        check(not by_kind(base_objs, "Secret"), "base: ships a Secret (secrets belong to the overlay)")


# --- compose ---------------------------------------------------------------

def compose_env_value(value):
    """${VAR:?msg} / ${VAR} in compose -> a dummy; anything else verbatim."""
    return DUMMY_SECRET if re.fullmatch(r"\$\{[A-Z0-9_]+(:[?-][^}]*)?\}", str(value)) else str(value)


def cmd_compose():
    directory = os.path.join(ROOT, "deploy", "compose")
    compose_path = os.path.join(directory, "docker-compose.yml")
    compose_text = read(compose_path)
    compose = yaml.safe_load(compose_text)
    with tempfile.TemporaryDirectory() as tmp:
        # Debian's docker-compose (1.29) validates against the Compose schema
        # of its day, which predates the top-level `name` key: drop that line.
        shutil.copy(os.path.join(directory, "bridge.yaml"), tmp)
        with open(os.path.join(tmp, "docker-compose.yml"), "w", encoding="utf-8") as f:
            f.write(re.sub(r"(?m)^name:.*\n", "", compose_text))
        env = dict(os.environ, CLEVERTAP_PASSCODE_SHOP_EU=DUMMY_SECRET, TALON_NOTIFICATION_SECRET=DUMMY_SECRET)
        proc = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], cwd=tmp, env=env,
                              capture_output=True, text=True, check=False)
        check(proc.returncode == 0, "docker-compose config: %s" % (proc.stdout + proc.stderr).strip())
    check(compose.get("name") == "talon-clevertap-bridge", "compose: project name")

    config_text = read(os.path.join(directory, "bridge.yaml"))
    cfg = with_defaults(yaml.safe_load(config_text))
    services = compose["services"]
    check(sorted(services) == ["clevertap-sink", "emulator", "kafka", "kafka-topics", "talon-ingest"],
          "compose: services %s" % sorted(services))
    kafka_env = services["kafka"]["environment"]
    check("controller" in kafka_env.get("KAFKA_PROCESS_ROLES", ""), "compose: Kafka is not in KRaft mode")
    check("INTERNAL://%s" % cfg["kafka"]["brokers"] in kafka_env.get("KAFKA_ADVERTISED_LISTENERS", ""),
          "compose: kafka.brokers %s is not what Kafka advertises" % cfg["kafka"]["brokers"])
    topics_cmd = " ".join(services["kafka-topics"]["command"])
    m = re.search(r"--topic %s --partitions (\d+)" % re.escape(cfg["kafka"]["topic"]), topics_cmd)
    check(m is not None, "compose: kafka-topics does not create kafka.topic %s" % cfg["kafka"]["topic"])
    check("--topic %s " % cfg["kafka"]["dlq_topic"] in topics_cmd, "compose: kafka-topics does not create the DLQ topic")
    sink = services["clevertap-sink"]
    replicas = sink.get("deploy", {}).get("replicas", 1)
    check(replicas == 2, "compose: want 2 clevertap-sink replicas, found %d" % replicas)
    if m:
        check(replicas <= int(m.group(1)), "compose: more sink members than partitions")

    for name, section in (("talon-ingest", "ingest"), ("clevertap-sink", "sink")):
        svc = services[name]
        w = "compose/" + name
        check(os.path.basename(svc["command"][0]) == name, w + ": runs " + svc["command"][0])
        check(svc.get("read_only") is True and "ALL" in svc.get("cap_drop", []),
              w + ": not read-only with every capability dropped")
        env = {k: compose_env_value(v) for k, v in (svc.get("environment") or {}).items()}
        check_config(name, config_text, env, w)
        metrics = cfg[section]["metrics_listen"]
        check(host_of(metrics) == "0.0.0.0", w + ": metrics_listen must bind 0.0.0.0 in a container")
        check(env.get("TCB_HEALTHCHECK_ADDR", "").endswith(":%d" % port_of(metrics)),
              w + ": TCB_HEALTHCHECK_ADDR is not the metrics_listen port")
        published = [str(p).rsplit(":", 1)[1] for p in svc.get("ports") or []]
        check(str(port_of(metrics)) in published, w + ": metrics port not published")
        if name == "talon-ingest":
            check(str(port_of(cfg["ingest"]["listen"])) in published, w + ": ingest.listen port not published")
        grace = svc.get("stop_grace_period", "10s")
        grace_ms = int(grace.rstrip("s")) * 1000
        limit = cfg["sink"]["shutdown_timeout_ms"] + 5000 if name == "clevertap-sink" \
            else cfg["ingest"]["produce_timeout_ms"]
        check(grace_ms >= limit, "%s: stop_grace_period %s is below %d ms" % (w, grace, limit))

    emulator = services["emulator"]["command"]
    account = cfg["clevertap"]["accounts"][0]
    check(port_of(emulator[emulator.index("--listen") + 1]) == port_of(account["endpoint"]),
          "compose: the emulator does not listen where the account's endpoint points")
    check(emulator[emulator.index("--account") + 1].startswith(account["account_id"] + ":"),
          "compose: the emulator does not know account %s" % account["account_id"])
    print("compose: %d services" % len(services))


# --- systemd ----------------------------------------------------------------

def unit_values(text):
    values = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#") and not line.startswith("["):
            k, v = line.split("=", 1)
            values.setdefault(k.strip(), []).append(v.strip())
    return values


def cmd_systemd():
    src = os.path.join(ROOT, "deploy", "systemd")
    example = with_defaults({})
    with tempfile.TemporaryDirectory() as tmp:
        units = []
        for daemon in ("talon-ingest", "clevertap-sink"):
            text = read(os.path.join(src, daemon + ".service"))
            v = unit_values(text)
            w = daemon + ".service"
            for key, want in (("DynamicUser", "yes"), ("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                              ("CapabilityBoundingSet", ""), ("Restart", "on-failure"),
                              ("RestartPreventExitStatus", "2")):
                check(want in v.get(key, []), "%s: want %s=%s" % (w, key, want))
            check(v.get("RestrictAddressFamilies") == ["AF_INET AF_INET6 AF_UNIX"],
                  w + ": RestrictAddressFamilies is not AF_INET AF_INET6 AF_UNIX")
            start = shlex.split(v["ExecStart"][0])
            check(start[0] == "/usr/local/bin/" + daemon and start[1:3] == ["--config", "/etc/talon-clevertap-bridge/config.yaml"],
                  w + ": ExecStart is not /usr/local/bin/%s --config /etc/talon-clevertap-bridge/config.yaml" % daemon)
            stop_ms = int(v["TimeoutStopSec"][0].rstrip("s")) * 1000
            limit = example["sink"]["shutdown_timeout_ms"] + 5000 if daemon == "clevertap-sink" \
                else example["ingest"]["produce_timeout_ms"]
            check(stop_ms >= limit, "%s: TimeoutStopSec %d ms is below %d ms" % (w, stop_ms, limit))
            # systemd-analyze verify wants the binaries where ExecStart says:
            # point the copy at the build's binaries, nothing else changes.
            with open(os.path.join(tmp, daemon + ".service"), "w", encoding="utf-8") as f:
                f.write(text.replace("/usr/local/bin/", BIN + "/"))
            units.append(os.path.join(tmp, daemon + ".service"))
        dropins = os.path.join(tmp, "talon-ingest.service.d")
        os.mkdir(dropins)
        shutil.copy(os.path.join(src, "talon-ingest-tls.conf"), os.path.join(dropins, "tls.conf"))
        proc = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units, capture_output=True, text=True,
                              check=False)
        check(proc.returncode == 0 and not (proc.stdout + proc.stderr).strip(),
              "systemd-analyze verify: %s" % (proc.stdout + proc.stderr).strip())
        for unit in units:
            proc = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", unit],
                                  capture_output=True, text=True, check=False)
            level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", proc.stdout)
            check(proc.returncode == 0 and level is not None,
                  "%s: exposure above 2.0: %s" % (os.path.basename(unit), level.group(1) if level else proc.stderr))
            print("systemd: %s exposure %s" % (os.path.basename(unit), level.group(1) if level else "?"))


# --- container ---------------------------------------------------------------

def dockerfile_stages(text):
    """{stage name: [(INSTRUCTION, argument)]} with continuation lines joined."""
    text = re.sub(r"\\\n", " ", text)
    stages, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, arg = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.search(r"\bAS (\S+)", arg, re.I)
            current = m.group(1) if m else "_%d" % len(stages)
            stages[current] = []
        if current is not None:
            stages[current].append((instr, " ".join(arg.split())))
    return stages


def apt_packages(run):
    m = re.search(r"apt-get install [^&]*", run)
    return [w for w in m.group(0).split()[2:] if not w.startswith("-")] if m else []


def readme_build():
    readme = read(os.path.join(ROOT, "README.md"))
    section = readme.split("## Build", 1)[1].split("\n## ", 1)[0]
    deps = re.search(r"Dependencies are Debian 12 packages: `([^`]*)`", section, re.S)
    commands = [re.sub(r"\s+#.*", "", l).strip() for l in section.splitlines() if l.startswith("    cmake ")]
    return (deps.group(1).split() if deps else []), commands, section


def cmd_container():
    text = read(os.path.join(ROOT, "deploy", "container", "Dockerfile"))
    stages = dockerfile_stages(text)
    check(list(stages) == ["build", "runtime", "emulator", "bridge"],
          "Dockerfile: stages %s, want build runtime emulator bridge (bridge last: the default target)" % list(stages))
    deps, commands, section = readme_build()
    check(len(deps) >= 8 and len(commands) >= 2, "README Build: no package list or commands found")
    check("deploy/container/Dockerfile" in section, "README Build does not mention deploy/container/Dockerfile")
    build_runs = [a for i, a in stages.get("build", []) if i == "RUN"]
    build_pkgs = [p for r in build_runs for p in apt_packages(r)]
    check(sorted(build_pkgs) == sorted(deps),
          "Dockerfile build stage installs %s, README lists %s" % (sorted(build_pkgs), sorted(deps)))
    steps = [re.sub(r"^DESTDIR=\S+ ", "", s.strip()) for r in build_runs for s in r.split("&&")]
    allowed_extra = {"--strip", "--target", "talon-ingest", "clevertap-sink", "tcb-healthcheck",
                     "clevertap-emulator", "kafka-dev-broker", "--component", "tools"}
    for command in commands:
        words = command.split()
        matched = [s for s in steps if s.split()[:len(words)] == words and
                   set(s.split()[len(words):]) <= allowed_extra]
        check(matched, "Dockerfile build stage does not run README's `%s`" % command)
    version = project_version()
    check(re.search(r"(?m)^ARG VERSION=%s$" % re.escape(version), text) is not None,
          "Dockerfile: ARG VERSION is not %s" % version)

    runtime = stages.get("runtime", [])
    runtime_pkgs = [p for i, a in runtime if i == "RUN" for p in apt_packages(a)]
    check(runtime_pkgs and not any(p.endswith("-dev") for p in runtime_pkgs),
          "Dockerfile runtime stage installs -dev packages: %s" % runtime_pkgs)
    # libcmocka-dev builds the tests only; libc6 is in every Debian image.
    for dev in deps:
        if not dev.endswith("-dev") or dev in ("libcmocka-dev", "libc6-dev"):
            continue
        depends = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", dev], capture_output=True, text=True,
                                 check=False).stdout
        names = {d.strip().split()[0] for d in depends.split(",") if d.strip()}
        check(names & set(runtime_pkgs), "Dockerfile runtime stage lacks the runtime library of %s (one of %s)"
              % (dev, sorted(names)))
    for stage in ("runtime", "emulator", "bridge"):
        for instr, arg in stages.get(stage, []):
            if instr in ("CMD", "ENTRYPOINT"):
                check(arg.startswith("["), "Dockerfile %s: %s %s is shell form (needs a shell)" % (stage, instr, arg))
    bridge = dict((i, a) for i, a in stages.get("runtime", []) + stages.get("bridge", []))
    user = bridge.get("USER", "")
    check(re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user) is not None, "Dockerfile: USER %r is not numeric non-root" % user)
    hc = bridge.get("HEALTHCHECK", "")
    check(re.search(r'CMD \["/usr/local/bin/tcb-healthcheck"', hc) is not None,
          "Dockerfile: HEALTHCHECK is not the exec-form tcb-healthcheck: %s" % hc)
    cmd = bridge.get("CMD", "")
    check('"/usr/local/bin/talon-ingest"' in cmd, "Dockerfile: CMD does not start talon-ingest")
    dockerignore = read(os.path.join(ROOT, ".dockerignore"))
    for pattern in ("build*/", ".git"):
        check(pattern in dockerignore.split(), ".dockerignore does not exclude " + pattern)


# --- docs ---------------------------------------------------------------------

def cmd_docs():
    docs_path = os.path.join(ROOT, "docs", "operations.md")
    docs_text = read(docs_path)
    check("(docs/operations.md)" in read(os.path.join(ROOT, "README.md")), "README.md does not link docs/operations.md")
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", docs_text):
        if re.match(r"[a-z]+:", target):
            continue
        check(os.path.exists(os.path.normpath(os.path.join(os.path.dirname(docs_path), target))),
              "docs/operations.md links to %s, which does not exist" % target)
    # in-page links name a heading (GitHub's anchors: lower case, punctuation dropped)
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
               for h in re.findall(r"(?m)^#+ (.*)$", docs_text)}
    for anchor in set(re.findall(r"\]\(#([^)]+)\)", docs_text)):
        check(anchor in anchors, "docs/operations.md links to #%s, which no heading makes" % anchor)
    for heading in ("Sizing", "CleverTap's budget", "Scaling", "Dead letters", "Upgrades and rollbacks",
                    "Alerts", "TLS"):
        check(re.search(r"(?m)^##+ .*%s" % re.escape(heading), docs_text) is not None,
              "docs/operations.md has no section on %s" % heading)
    rules = [d for d in yaml.safe_load_all(read(os.path.join(ROOT, "deploy", "kubernetes", "base", "monitoring.yaml")))
             if d and d["kind"] == "PrometheusRule"]
    for rule in (r for g in rules[0]["spec"]["groups"] for r in g["rules"]):
        anchor = "docs/operations.md#" + rule["alert"].lower()
        check(anchor in rule["annotations"]["description"], "%s: description does not point at %s" % (rule["alert"], anchor))
    # the config keys the docs promise for TLS in talon-ingest
    for key in ("ingest.tls_cert_file", "ingest.tls_key_file"):
        check(key in docs_text, "docs/operations.md does not name " + key)


def main():
    commands = {"yaml": cmd_yaml, "kubernetes": cmd_kubernetes, "compose": cmd_compose, "systemd": cmd_systemd,
                "container": cmd_container, "docs": cmd_docs}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print("usage: check_deploy.py {%s}" % "|".join(commands), file=sys.stderr)
        return 2
    commands[sys.argv[1]]()
    print("%s: %d checks, %d failed" % (sys.argv[1], checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
