"""The SMPP server over TLS (a certificate from the environment), and enquire_link from our
side: a silent bind is asked, and dropped when it does not answer."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.esme import Esme, Raw, Smpp, smpp_gateway
from tests.support.stores import store_url

ENQUIRE_LINK = 0.5


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Smpp, ssl.SSLContext]]:
    tmp_path = tmp_path_factory.mktemp("tls")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    env = {
        "CENTAURO_SMPP_TLS_CERT": str(cert),
        "CENTAURO_SMPP_TLS_KEY": str(key),
        "CENTAURO_SMPP_ENQUIRE_LINK_SECONDS": str(ENQUIRE_LINK),
    }
    with store_url("sqlite", tmp_path) as url:
        for smpp in smpp_gateway(url, tmp_path, env=env):
            yield smpp, context


def test_a_customer_binds_and_submits_over_tls(tls: tuple[Smpp, ssl.SSLContext]) -> None:
    smpp, context = tls
    esme = Esme(smpp.port, ssl_context=context)
    assert esme.bind(smpp.system_id, smpp.password) == 0
    status, message_id = esme.answer(esme.submit("584141234567", "por TLS"))
    assert (status, message_id.isdigit()) == (0, True)
    esme.close()
    plain = Raw(smpp.port)
    with pytest.raises(ConnectionError):  # plain TCP is not spoken on a TLS port
        plain.bind(smpp.system_id, smpp.password)
    plain.close()


def test_a_silent_bind_is_asked_and_then_dropped(tls: tuple[Smpp, ssl.SSLContext]) -> None:
    smpp, context = tls
    silent, alive = Raw(smpp.port, context), Raw(smpp.port, context)
    answered, probe, probe_answered, stop = (
        [],
        threading.Event(),
        threading.Event(),
        threading.Event(),
    )

    def keep_alive() -> None:
        """The other bind answers every enquire_link from the first moment (its own thread,
        the only one touching its socket), and asks once itself when told to."""
        with contextlib.suppress(ConnectionError, OSError):
            while not stop.is_set():
                if probe.is_set() and not probe_answered.is_set():
                    alive.send(0x15, sequence=99)
                    probe.clear()
                command_id, _, sequence, _ = alive.read()
                if command_id == 0x15:
                    alive.send(0x80000015, sequence=sequence)
                    answered.append(sequence)
                elif command_id == 0x80000015 and sequence == 99:
                    probe_answered.set()

    try:
        assert silent.bind(smpp.system_id, smpp.password) == 0
        assert alive.bind(smpp.system_id, smpp.password) == 0
        responder = threading.Thread(target=keep_alive, daemon=True)
        responder.start()
        started = time.monotonic()
        command_id, _, _, _ = silent.read()
        assert command_id == 0x15  # enquire_link, after ENQUIRE_LINK seconds of silence
        assert silent.is_closed()  # not answered: dropped
        assert time.monotonic() - started < 10 * ENQUIRE_LINK
        time.sleep(4 * ENQUIRE_LINK)  # the other answers each enquire_link and stays
        probe.set()
        assert probe_answered.wait(10 * ENQUIRE_LINK), "the answering bind was dropped"
        assert len(answered) >= 2, answered
    finally:
        stop.set()
        silent.close()
        alive.close()
