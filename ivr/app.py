"""The application factory: builds the app from settings, wires the database, clock, flow,
carrier and blueprints. Nothing happens at import time."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from ivr import settings as settings_module
from ivr.clock import Clock, SystemClock
from ivr.db import Database
from ivr.events import EventBus
from ivr.flowstore import FlowStore
from ivr.routing.models import ROUTING_POLICY
from ivr.runtime import Runtime
from ivr.settings import Settings
from ivr.telephony.twilio_adapter import TwilioTelephony, make_client

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    telephony: Any = None,
) -> Flask:
    """Build the service. `settings` default to the environment; tests pass their own settings,
    a manual clock, or another telephony adapter."""
    settings = settings or settings_module.from_env()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = 1 * 1024 * 1024

    bus = EventBus()
    policy = settings_module.routing_policy(settings)
    db = Database(settings.database_url, bus=bus, session_info={ROUTING_POLICY: policy})
    runtime = Runtime(
        settings=settings,
        db=db,
        clock=clock or SystemClock(),
        flows=FlowStore(settings.flow),
        calendar=settings_module.business_calendar(settings),
        telephony=telephony or TwilioTelephony(make_client(settings)),
        bus=bus,
        policy=policy,
        callbacks=settings_module.callback_policy(settings),
        cases=settings_module.case_policy(settings),
        reports=settings_module.report_policy(settings),
        scorecards=settings_module.scorecards(settings),
    )
    app.extensions["ivr"] = runtime
    from ivr import callback_timers, case_timers

    bus.listen(lambda message: callback_timers.on_event(runtime, message))
    bus.listen(lambda message: case_timers.on_event(runtime, message))
    runtime.recordings = _recording_worker(runtime)
    if settings.is_sim:
        _mount_carrier(app, runtime)

    from ivr.voice import (  # noqa: F401 - their routes join the blueprint
        callback_legs,
        callbacks,
        cases,
        connect,
        views,
    )
    from ivr.voice.blueprint import bp as voice_bp

    app.register_blueprint(voice_bp)
    from ivr.api import views as api_views

    app.register_blueprint(api_views.bp)
    from ivr.api import recordings as api_recordings

    app.register_blueprint(api_recordings.bp)
    from ivr.api import callbacks as api_callbacks

    app.register_blueprint(api_callbacks.bp)
    from ivr.api import cases as api_cases

    app.register_blueprint(api_cases.bp)
    from ivr.api import supervision as api_supervision

    app.register_blueprint(api_supervision.bp)
    from ivr.api import scoring as api_scoring

    app.register_blueprint(api_scoring.bp)
    from ivr.api import wrapup as api_wrapup

    app.register_blueprint(api_wrapup.bp)
    from ivr.api import reports as api_reports

    app.register_blueprint(api_reports.bp)
    from ivr import console

    console.init_app(app, https=settings.public_url.startswith("https:"))
    _register_health(app)
    _register_json_errors(app)
    return app


def _mount_carrier(app: Flask, runtime: Runtime) -> None:
    """The offline carrier under /sim, in the same server: it calls our webhooks over HTTP
    like Twilio would, and serves the REST API the `twilio` client talks to. When it runs in
    a process of its own, /sim forwards to it."""
    settings = runtime.settings
    if settings.sim_elsewhere:
        from ivr.sim.forward import Forward

        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/sim": Forward(settings.sim_url)})
        return
    from ivr.sim.rest import create_carrier_app
    from ivr.sim.standalone import make_carrier

    runtime.carrier = make_carrier(settings)
    app.wsgi_app = DispatcherMiddleware(
        app.wsgi_app, {"/sim": create_carrier_app(runtime.carrier)}
    )


def _recording_worker(runtime: Runtime) -> Any:
    """Downloads and transcriptions, off the webhooks' requests (threads start on first use;
    transcription processes when the first recording needs one)."""
    from recordings.storage import open_storage
    from recordings.worker import RecordingWorker

    settings = runtime.settings
    return RecordingWorker(
        transaction=runtime.db.transaction,
        clock=runtime.clock,
        telephony=runtime.telephony,
        storage=open_storage(settings.storage_url, var_dir=settings.var_dir),
        model_setting=settings.vosk_model,
        transcription_workers=settings.transcription_workers,
        delete_at_carrier=settings.delete_carrier_recordings,
        retry_seconds=settings.recording_retry_seconds,
    )


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        runtime: Runtime = app.extensions["ivr"]
        from sqlalchemy import text

        with runtime.db.transaction() as session:
            session.execute(text("SELECT 1"))
        return jsonify(
            status="ok",
            telephony=runtime.settings.telephony,
            flow=str(runtime.flows.path),
            flow_error=runtime.flows.last_error,
        )


def _register_json_errors(app: Flask) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    from ivr.httperrors import changed_meanwhile, json_error

    app.register_error_handler(HTTPException, json_error)
    app.register_error_handler(StaleDataError, changed_meanwhile)
