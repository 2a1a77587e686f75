"""``centauro smsc-sim``: a real SMPP 3.4 SMSC for tests, demos and benchmarks.

It checks bind credentials, answers submit_sm with realistic message ids, sends delivery
receipts, throttles, injects MO messages and drops connections on demand. The SMSC side
is our own session over smpp34's codec (``pdu.py`` says why). It imports only the
standard library, smpp34 and gsm0338: never the store, the services or the API.

    async with Simulator(Settings(port=0, dlr_delay=0)) as smsc:
        ...  # connect an ESME to 127.0.0.1:smsc.port
"""

from centauro.smsc_sim.server import Settings, Simulator, serve

__all__ = ["Settings", "Simulator", "serve"]
