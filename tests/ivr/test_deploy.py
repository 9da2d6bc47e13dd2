"""docker-compose.yml is parse-checked here, and every command it runs is run by this module
(there is no Docker engine on the test machines)."""

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest
import requests
import yaml

from ivr.cli import cli
from ivr.settings import PROJECT_ROOT

from support import wait_for

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
IVR = str(Path(sys.executable).parent / "ivr")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def ivr_commands(command: list[str] | str) -> list[list[str]]:
    """The `ivr ...` invocations in a compose command (exec form or `sh -c` form)."""
    if isinstance(command, str):
        command = shlex.split(command)
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in command[2].split("&&")]
    return [command]


def test_compose_has_web_worker_and_postgresql() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "web", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    for name in ("web", "worker"):
        env = services[name]["environment"]
        assert env["IVR_DATABASE_URL"].startswith("postgresql+psycopg://ivr:ivr@db:5432/")
        assert {"IVR_TWILIO_ACCOUNT_SID", "IVR_TWILIO_AUTH_TOKEN", "IVR_PUBLIC_URL"} <= set(env)
    assert services["web"]["environment"]["IVR_SCHEDULER"] == "off"


def test_every_compose_command_is_an_ivr_command_the_cli_accepts() -> None:
    commands = [
        cmd
        for svc in compose()["services"].values()
        if "command" in svc
        for cmd in ivr_commands(svc["command"])
    ]
    assert [c[:2] for c in commands] == [["ivr", "db"], ["ivr", "serve"], ["ivr", "worker"]]
    for command in commands:
        context = cli.make_context("ivr", command[1:], resilient_parsing=True)
        sub = cli.get_command(context, command[1])
        assert isinstance(sub, click.Command), command


def test_dockerfile_default_command_is_ivr_serve() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert 'CMD ["ivr", "serve", "--host", "0.0.0.0", "--port", "5000"]' in dockerfile


def env_for(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env.update(IVR_DATABASE_URL=database_url, IVR_VAR_DIR=str(tmp_path / "var"), **extra)
    return env


def test_db_upgrade_then_serve_answers_health(database_url, tmp_path) -> None:
    from conftest import free_port

    env = env_for(database_url, tmp_path)
    upgraded = subprocess.run([IVR, "db", "upgrade"], env=env, capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "is at head" in upgraded.stdout
    port = free_port()
    server = subprocess.Popen(
        [IVR, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def healthy():
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
            except requests.ConnectionError:
                return None

        health = wait_for(healthy, what="ivr serve to answer")
        assert health["status"] == "ok"
        assert health["telephony"] == "sim"
    finally:
        server.send_signal(signal.SIGTERM)  # what docker stop and systemd send
        output, _ = server.communicate(timeout=20)
    assert "serving on http://127.0.0.1" in output
    assert "ivr: stopping" in output
    assert server.returncode == 0, output


def test_a_transcription_worker_ends_when_the_service_is_killed(tmp_path) -> None:
    """A service killed without a chance to stop its pool (SIGKILL, out of memory) leaves no
    worker process behind holding a model."""
    worker = ("import sys, time; from recordings.transcribe import _exit_with_parent; "
              "_exit_with_parent(int(sys.argv[1])); time.sleep(300)")
    service = ("import os, subprocess, sys, time; "
               f"child = subprocess.Popen([sys.executable, '-c', {worker!r}, str(os.getpid())]); "
               "print(child.pid, flush=True); time.sleep(300)")
    parent = subprocess.Popen([sys.executable, "-c", service], cwd=PROJECT_ROOT,
                              stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    wait_for(lambda: not _running(child), what="the orphaned worker to exit", timeout=60)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # an exited process not yet reaped is a zombie


def test_worker_leads_the_timers_and_stops_on_sigterm(database_url, tmp_path) -> None:
    env = env_for(database_url, tmp_path, IVR_LOG_LEVEL="INFO")
    worker = subprocess.Popen(
        [IVR, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        for line in worker.stdout:
            lines.append(line)
            if "this process is the leader" in line:
                break
    finally:
        worker.send_signal(signal.SIGTERM)
        rest, _ = worker.communicate(timeout=20)
    assert worker.returncode == 0, "".join(lines) + rest
    assert "ivr worker: stopped" in rest


@pytest.mark.parametrize("bad", [{"IVR_TELEPHONY": "pots"}, {"IVR_SCHEDULER": "maybe"}])
def test_a_bad_setting_stops_the_command_with_one_line(bad, tmp_path) -> None:
    env = env_for("sqlite:///" + str(tmp_path / "x.db"), tmp_path, **bad)
    result = subprocess.run([IVR, "serve"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    name = next(iter(bad))
    assert result.stderr.strip().splitlines() == [
        f"Error: {name}: " + result.stderr.split(f"{name}: ", 1)[1].strip()
    ]
