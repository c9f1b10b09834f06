"""Developer sessions: ``nox`` runs lint, typecheck and tests (what CI runs)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests", "security", "compat", "e2e_docker", "e2e_kubernetes"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
PYTHON = "3.11"
#: pip too: tests install built wheels (the example plugin) into throwaway targets, and uv venvs have none.
TEST_DEPS = ["pytest>=8", "hypothesis>=6.100", "pytest-timeout>=2.3", "httpx>=0.27", "playwright>=1.40", "pip"]


def project_packages() -> list[str]:
    """The root distribution and every plugin distribution in the repository."""
    found = [str(ROOT)]
    for folder in ("backends", "typeplugins", "plugins"):
        found += [str(p.parent) for p in sorted((ROOT / folder).glob("*/pyproject.toml"))]
    example = ROOT / "examples" / "plugin-example"
    if (example / "pyproject.toml").exists():
        found.append(str(example))
    return found


def _has_test_extra(pkg: str) -> bool:
    with open(Path(pkg) / "pyproject.toml", "rb") as f:
        return "test" in tomllib.load(f).get("project", {}).get("optional-dependencies", {})


def install_project(session: nox.Session) -> None:
    """Editable installs of every distribution (with its ``test`` extra, if it has one), so entry
    points are registered as for users and each plugin's tests find what they need."""
    args: list[str] = []
    for pkg in project_packages():
        args += ["-e", f"{pkg}[test]" if _has_test_extra(pkg) else pkg]
    session.install(*args)


E2E = {"docker": "backends/docker/tests", "kubernetes": "backends/kubernetes/tests"}
#: Flyte 2's example programs with the outputs Flyte 2 returns for them ($FLYTE_COMPAT_DIR or ../shared/compat).
COMPAT = Path(os.environ.get("FLYTE_COMPAT_DIR") or ROOT.parent / "shared" / "compat")


def run_compat(session: nox.Session, *args: str, backend: str | None = None, env: dict[str, str] | None = None) -> bool:
    """Run the compatibility corpus (``run.py``) with ``args``; False, with the reason, when it is absent.

    On another backend than ``local`` the cases docs/compat.md lists as unable to pass there (its
    "Compatibility corpus" table) may fail; any other failure fails the session.
    """
    runner = COMPAT / "run.py"
    if not runner.is_file():
        session.log(f"compat: skipped, the Flyte 2 example corpus is not at {COMPAT} (set FLYTE_COMPAT_DIR to "
                    "the folder holding run.py).")
        return False
    if backend is None:
        session.run("python", str(runner), *args)
        return True
    import tempfile
    import xml.etree.ElementTree as ET

    report = Path(tempfile.mkdtemp(prefix="flyte-compat-")) / "junit.xml"
    session.run("python", str(runner), "--backend", backend, "--junit", str(report), *args, success_codes=[0, 1],
                env=env)
    failed = {case.get("name", "") for case in ET.parse(report).getroot().iter("testcase")
              if case.find("failure") is not None}
    unexpected = sorted(failed - expected_compat_failures(backend))
    if unexpected:
        session.error(f"compat on {backend}: {len(unexpected)} case(s) failed that docs/compat.md does not list as "
                      f"unable to pass there: {', '.join(unexpected)}")
    listed = ", ".join(sorted(failed)) or "none"
    session.log(f"compat on {backend}: every failure is one docs/compat.md lists ({listed})")
    return True


def expected_compat_failures(backend: str) -> set[str]:
    """Corpus cases docs/compat.md's "Compatibility corpus" table lists as unable to pass on ``backend``."""
    text = (ROOT / "docs" / "compat.md").read_text()
    section = text.split("## Compatibility corpus", 1)[-1]
    cases = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and backend in cells[1]:
            cases.add(cells[0].strip("`"))
    return cases


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite, without the end-to-end suites of container backends (pass pytest arguments
    after --)."""
    install_project(session)
    session.install(*TEST_DEPS)
    ignore = [f"--ignore={path}" for path in [*E2E.values(), SECURITY]]
    session.run("pytest", *ignore, *(session.posargs or ["-q"]))


#: The security suite (docs/security.md): names, private files, configuration, the UI's hosts, ...
SECURITY = "tests/security"
#: The backends' own security tests (confinement, what of the data store a task sees, the API gate
#: of durable runs): the security session runs them (one pytest per backend, since their conftests
#: share module names), and the e2e sessions leave them out.
BACKEND_SECURITY = {
    "docker": ["backends/docker/tests/test_docker_security.py",
               "backends/docker/tests/test_docker_confinement_units.py"],
    "kubernetes": ["backends/kubernetes/tests/test_k8s_security.py", "backends/kubernetes/tests/test_k8s_storeview.py",
                   "backends/kubernetes/tests/test_k8s_confinement.py"],
}


def _ignored(files: list[str]) -> list[str]:
    return [f"--ignore={f}" for f in files]


@nox.session(python=PYTHON)
def security(session: nox.Session) -> None:
    """The security suite: path-traversal names, private state files, bad configuration, the UI's
    Host check, secrets; and the backends' confinement, store views and API gate (pass pytest
    arguments after --)."""
    install_project(session)
    session.install(*TEST_DEPS)
    ui_hosts = "plugins/ui/tests/test_ui_api.py::test_foreign_host_headers_are_refused"
    session.run("pytest", SECURITY, ui_hosts, *(session.posargs or ["-q"]))
    for files in BACKEND_SECURITY.values():
        session.run("pytest", *files, *(session.posargs or ["-q"]))


@nox.session(python=PYTHON)
def e2e_docker(session: nox.Session) -> None:
    """The Docker backend end to end on a real engine (skipped without one, except under CI)."""
    install_project(session)
    # pip builds the wheelhouse task images install from (uv's environments have no pip).
    session.install(*TEST_DEPS)
    session.run("pytest", E2E["docker"], *_ignored(BACKEND_SECURITY["docker"]), *(session.posargs or ["-q"]))
    run_compat(session, "--timeout", "600", backend="docker")


@nox.session(python=PYTHON)
def compat(session: nox.Session) -> None:
    """Flyte 2's own example programs on the local and local-process backends, each compared with what
    Flyte 2 returns (pass run.py arguments after --, e.g. ``-- -k map -v``)."""
    install_project(session)
    if not run_compat(session, *session.posargs):
        session.skip(f"the Flyte 2 example corpus is not at {COMPAT}")
    run_compat(session, *session.posargs, backend="local-process")


@nox.session(python=PYTHON)
def e2e_kubernetes(session: nox.Session) -> None:
    """The Kubernetes backend end to end on a real cluster (the one $KUBECONFIG names; skipped
    without one, except under CI)."""
    install_project(session)
    session.install(*TEST_DEPS)
    session.run("pytest", E2E["kubernetes"], *_ignored(BACKEND_SECURITY["kubernetes"]),
                *(session.posargs or ["-q"]))
    compat_on_kubernetes(session)


def compat_on_kubernetes(session: nox.Session) -> None:
    """The corpus on the cluster, with a config of its own: a host-folder data store (a single-node
    cluster on this machine's engine, as CI's), the tests' namespace, and images kept in the local
    engine (the corpus's images name registries nothing here can push to)."""
    import json
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="flyte-compat-k8s-"))
    data = work / "data"
    data.mkdir()
    namespace = os.environ.get("FLYTE_K8S_TEST_NAMESPACE", "flyte-e2e")
    config = {"storage": {"data": str(data)},
              "backends": {"kubernetes": {"namespace": namespace, "data_host_path": str(data),
                                          "push_images": False, "echo": False}}}
    (work / "config.yaml").write_text(json.dumps(config))  # JSON is YAML
    session.run("flyte", "kubernetes", "setup", "-n", namespace)
    run_compat(session, "--timeout", "600", backend="kubernetes", env={"FLYTE_CONFIG": str(work / "config.yaml")})


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over the whole repository, and the core's import contracts (.importlinter,
    docs/architecture.md)."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.install("import-linter>=2.1")
    session.run("lint-imports", env={"PYTHONPATH": str(ROOT)})  # reads the sources; nothing to install


def import_packages() -> list[str]:
    """The import package folders of every plugin distribution (``backends/docker/flyte_backend_docker``...)."""
    return sorted(str(init.parent.relative_to(ROOT)) for pkg in project_packages()[1:]
                  for init in Path(pkg).glob("*/__init__.py") if init.parent.name not in ("tests", "bench"))


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy, strict on flyte_core and on every plugin distribution's package (pyproject's overrides)."""
    install_project(session)
    session.install("mypy>=1.10", "types-PyYAML", *TEST_DEPS)
    session.run("mypy", "flyte_core", *import_packages())


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks of the hot paths, reported as ratios against baselines measured in the same run.

    Issue 17's workloads also run on Flyte 2 2.12.1, in a virtualenv of its own made here (its
    package name clashes with ours); ``FLYTE_BENCH_FLYTE2_PYTHON`` names an existing one instead.
    ``nox -s bench -- issue17`` runs only those (any benchmark names select; ``--json`` for data).
    """
    install_project(session)
    flyte2 = os.environ.get("FLYTE_BENCH_FLYTE2_PYTHON")
    if not flyte2:
        venv = Path(session.virtualenv.location).parent / "bench-flyte2"
        flyte2 = str(venv / "bin" / "python")
        if not Path(flyte2).exists():
            session.run("python", "-m", "venv", str(venv))
        session.run(flyte2, "-m", "pip", "install", "-q", "flyte==2.12.1", external=True)
    session.run("python", "bench/run.py", *session.posargs, env={"FLYTE_BENCH_FLYTE2_PYTHON": flyte2})
