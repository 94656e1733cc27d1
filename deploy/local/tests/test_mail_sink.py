"""``make run``'s mail sink: started by the runtime, services pointed at it, .eml files."""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest
from kontor_local.runtime import (
    DEFAULT_MAIL_SINK_PORT,
    LocalSettings,
    MailSinkProcess,
    ServiceSpec,
    free_port,
    port_is_free,
    service_env,
)

from .helpers import is_running


@pytest.mark.unit
def test_make_run_has_a_sink_on_1025_and_the_services_send_there(tmp_path: Path) -> None:
    settings = LocalSettings.from_env({"KONTOR_LOCAL_DATA_DIR": str(tmp_path)})
    assert settings.mail_sink_port == DEFAULT_MAIL_SINK_PORT == 1025
    assert settings.mail_dir == tmp_path.resolve() / "mail"
    assert settings.infra_ports()["mail sink (SMTP)"] == 1025
    assert LocalSettings(data_dir=tmp_path).mail_sink_port == 0  # bench, soak: none
    assert settings.support_smtp_port == 2525
    support = ServiceSpec("support", "kontor_support", 8004)
    assert settings.all_ports([support])["support's SMTP receiver"] == 2525
    spec = ServiceSpec("support", "kontor_support", 8004)

    def env(base: dict[str, str], port: int) -> dict[str, str]:
        return service_env(
            spec,
            kafka_bootstrap="b",
            mongo="m",
            public_key_file=Path("k"),
            base=base,
            mail_sink_port=port,
        )

    assert env({}, 1025)["KONTOR_SMTP_PORT"] == "1025"
    assert env({"KONTOR_SMTP_HOST": "relay.example"}, 1025)["KONTOR_SMTP_HOST"] == "relay.example"
    assert "KONTOR_SMTP_PORT" not in env({}, 0)


@pytest.mark.integration
def test_the_sink_process_keeps_each_mail_as_an_eml_file_and_stops(tmp_path: Path) -> None:
    sink = MailSinkProcess(free_port(), tmp_path / "mail", tmp_path / "logs")
    sink.start()
    pid = sink.process.pid
    try:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as client:
            client.sendmail(
                "support@shop.example",
                ["anna@example.de"],
                b"From: support@shop.example\r\nSubject: Ihre Bestellung\r\n\r\nHallo",
            )
    finally:
        sink.stop()
    [eml] = (tmp_path / "mail").glob("*.eml")
    assert b"Subject: Ihre Bestellung" in eml.read_bytes()
    assert pid is not None and not is_running(pid)
    assert port_is_free(sink.port)
