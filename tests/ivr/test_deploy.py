"""docker-compose.yml is parse-checked here, and every command it runs is run by this module
(there is no Docker engine on the test machines)."""

import json
import os
import re
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

from support import served_health, wait_for

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
    assert set(services) == {"db", "migrate", "web", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    for name in ("migrate", "web", "worker"):
        env = services[name]["environment"]
        assert env["IVR_DATABASE_URL"].startswith("postgresql+psycopg://ivr:ivr@db:5432/")
        assert {"IVR_TWILIO_ACCOUNT_SID", "IVR_TWILIO_AUTH_TOKEN", "IVR_PUBLIC_URL"} <= set(env)
    assert services["web"]["environment"]["IVR_SCHEDULER"] == "off"


def test_compose_upgrades_the_schema_once_before_web_and_worker_start() -> None:
    """Web and worker refuse a schema behind head; one upgrade, finished first, and both
    restart if they stop."""
    services = compose()["services"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert ivr_commands(services["migrate"]["command"]) == [["ivr", "db", "upgrade"]]
    for name in ("web", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}}
        assert services[name]["restart"] == "unless-stopped"
        assert not any(c[:2] == ["ivr", "db"] for c in ivr_commands(services[name]["command"]))


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


@pytest.mark.parametrize("log_level", ["", "warning"])
def test_db_upgrade_then_serve_answers_health(database_url, tmp_path, log_level) -> None:
    """And logs at IVR_LOG_LEVEL: gunicorn's INFO lines and ours by default, none at
    warning (what it says on stdout is not a log)."""
    from conftest import free_port

    env = env_for(database_url, tmp_path, IVR_LOG_LEVEL=log_level)
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
        health = wait_for(lambda: served_health(port), what="ivr serve to answer")
        assert health["status"] == "ok"
        assert health["telephony"] == "sim"
    finally:
        server.send_signal(signal.SIGTERM)  # what docker stop and systemd send
        output, _ = server.communicate(timeout=20)
    assert "serving on http://127.0.0.1" in output
    assert "ivr: stopping" in output
    assert server.returncode == 0, output
    if log_level:
        assert " INFO " not in output and "[INFO]" not in output, output
    else:
        assert "[INFO] Booting worker with pid" in output  # gunicorn's
        assert " INFO ivr.jobs: timers: this process is the leader" in output  # ours


TWILIO = {"IVR_TELEPHONY": "twilio", "IVR_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
          "IVR_TWILIO_AUTH_TOKEN": "not-a-real-token"}


def test_several_workers_are_refused_on_sqlite(tmp_path) -> None:
    env = env_for("sqlite:///" + str(tmp_path / "x.db"), tmp_path)
    result = subprocess.run([IVR, "serve", "--workers", "2"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: --workers 2 needs PostgreSQL (IVR_DATABASE_URL): SQLite has "
                           "one writer")
    assert "Serve with --workers 1" in line
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_in_sim_mode_share_one_offline_carrier(database_url, tmp_path) -> None:
    """`ivr simulate` through two web processes: the carrier runs in a process of its own,
    each worker's /sim forwards to it, calls are routed by both, and every call is
    accounted for."""
    from click.testing import CliRunner

    from conftest import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = env_for(database_url, tmp_path, IVR_SIM_SPEED="50", IVR_WRAP_UP_SECONDS="0",
                  IVR_VOSK_MODEL="none", IVR_BUSINESS_HOURS="always")
    log = tmp_path / "serve.log"  # a file, not a pipe: a full pipe would stall the service
    with log.open("w") as output:
        server = subprocess.Popen([IVR, "serve", "--port", str(port), "--workers", "2"],
                                  env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        health = wait_for(lambda: served_health(port), what="ivr serve --workers 2 to answer",
                          timeout=60)
        assert health["telephony"] == "sim"
        carrier = requests.get(url + "/sim/carrier", timeout=10)
        assert carrier.status_code == 200, carrier.text
        children = wait_for(lambda: (found := _children(server.pid)) and len(found) == 3
                            and found, what="two workers and the carrier")
        result = CliRunner().invoke(
            cli, ["simulate", "--calls", "20", "--agents", "3", "--arrival-rate", "1",
                  "--handle-time", "10", "--patience", "60", "--seed", "3", "--json"],
            env=env | {"IVR_PUBLIC_URL": url}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    output = log.read_text()
    assert report["accounting"]["every_call_has_one_outcome"] is True
    assert report["accounting"]["calls"] == 20 and report["accounting"]["unaccounted"] == []
    assert report["totals"]["answered"] > 0
    assert server.returncode == 0, output
    assert "ivr: stopping" in output
    assert not any(_running(pid) for pid in children)  # the carrier too


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_answer_and_stop_on_sigterm(database_url, tmp_path) -> None:
    from conftest import free_port

    # gunicorn's own configuration, which `ivr serve` must not read: it would make three.
    env = env_for(database_url, tmp_path, **TWILIO, GUNICORN_CMD_ARGS="--workers 3")
    (tmp_path / "gunicorn.conf.py").write_text("workers = 3\n")
    port = free_port()
    server = subprocess.Popen(
        [IVR, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )

    def two_workers() -> list[int] | None:
        found = _children(server.pid)
        return found if len(found) == 2 else None

    workers: list[int] = []
    try:
        health = wait_for(lambda: served_health(port), what="ivr serve --workers 2 to answer",
                          timeout=60)
        assert (health["status"], health["telephony"]) == ("ok", "twilio")
        workers = wait_for(two_workers, what="two worker processes")
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert "serving on http://127.0.0.1" in output and "telephony twilio" in output
    assert output.count("Booting worker with pid") == 2  # gunicorn forks all before a signal
    assert "ivr: stopping" in output
    assert server.returncode == 0, output
    assert not any(_running(pid) for pid in workers)


def test_an_open_console_does_not_hold_up_the_stop(database_url, tmp_path) -> None:
    """An open live stream never ends by itself: the stopping worker ends it once its
    background parts are stopped, and exits by itself rather than being killed by gunicorn's
    master (which would cut the stream short: an error here)."""
    from conftest import free_port

    env = env_for(database_url, tmp_path)
    demo = subprocess.run([IVR, "demo"], env=env, capture_output=True, text=True)
    assert demo.returncode == 0, demo.stderr  # sam, a supervisor, signs in below
    port = free_port()
    server = subprocess.Popen([IVR, "serve", "--port", str(port), "--access-log"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: served_health(port), what="ivr serve to answer")
        browser = requests.Session()
        base = f"http://127.0.0.1:{port}"
        form = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                         browser.get(base + "/signin", timeout=10).text)
        assert form, "the sign-in page carries no CSRF token"
        signed_in = browser.post(base + "/signin", timeout=10, allow_redirects=False,
                                 data={"username": "sam", "password": "demo",
                                       "csrf_token": form[1]})
        assert signed_in.status_code == 302
        with browser.get(base + "/console/events", stream=True, timeout=60) as stream:
            lines = stream.iter_lines(decode_unicode=True)
            assert "event: snapshot" in lines
            server.send_signal(signal.SIGTERM)
            list(lines)  # to its end
    finally:
        server.send_signal(signal.SIGTERM)  # a second time is harmless
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert '"GET /console/events HTTP/1.1" 200' in output  # the access line, at its end
    assert "ivr: stopping" in output


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


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


@pytest.mark.parametrize("bad", [{"IVR_TELEPHONY": "pots"}, {"IVR_SCHEDULER": "maybe"},
                                 {"IVR_LOG_LEVEL": "loud"}])
def test_a_bad_setting_stops_the_command_with_one_line(bad, tmp_path) -> None:
    env = env_for("sqlite:///" + str(tmp_path / "x.db"), tmp_path, **bad)
    result = subprocess.run([IVR, "serve"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    name = next(iter(bad))
    assert result.stderr.strip().splitlines() == [
        f"Error: {name}: " + result.stderr.split(f"{name}: ", 1)[1].strip()
    ]


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: IVR_DATABASE_URL: ")
    return line


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]])
def test_a_database_that_cannot_be_reached_stops_the_command_with_one_line(command, tmp_path):
    from conftest import free_port

    url = f"postgresql+psycopg://ivr:secret@127.0.0.1:{free_port()}/ivr"  # nothing listens
    result = subprocess.run([IVR, *command], env=env_for(url, tmp_path), capture_output=True,
                            text=True, timeout=60)
    line = _one_error_line(result)
    assert "cannot reach postgresql+psycopg://ivr:***@127.0.0.1:" in line
    assert "secret" not in result.stderr


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]])
def test_a_database_not_made_yet_is_not_made_by_serving(command, tmp_path):
    path = tmp_path / "new.db"
    result = subprocess.run([IVR, *command], env=env_for(f"sqlite:///{path}", tmp_path),
                            capture_output=True, text=True, timeout=60)
    line = _one_error_line(result)
    assert line.endswith("does not exist yet. Run `ivr db upgrade` first.")
    assert not path.exists()


def test_a_database_behind_this_versions_schema_stops_serve(tmp_path):
    from alembic.script import ScriptDirectory

    from ivr import schema

    url = f"sqlite:///{tmp_path / 'old.db'}"
    head = ScriptDirectory.from_config(schema.alembic_config(url)).get_revision("head")
    schema.upgrade(url, head.down_revision)
    result = subprocess.run([IVR, "serve", "--port", "0"], env=env_for(url, tmp_path),
                            capture_output=True, text=True, timeout=60)
    line = _one_error_line(result)
    assert f"is at {head.down_revision}; this version needs schema {head.revision}" in line
    assert line.endswith("Run `ivr db upgrade` first.")


def test_commands_other_than_serve_do_not_load_the_web_server() -> None:
    """gunicorn is imported by `ivr serve` alone: every other command reads the server's
    option defaults without it (about 40 ms a command)."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, ivr.cli; print(sorted(m for m in sys.modules "
         "if m.split('.')[0] == 'gunicorn'))"],
        capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert loaded.stdout.strip() == "[]"
