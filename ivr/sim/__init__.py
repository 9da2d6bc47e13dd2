"""The offline carrier (`IVR_TELEPHONY=sim`): a carrier that lives in the project and behaves
like Twilio for the subset the service uses. `Carrier` holds the calls and runs them,
`ivr.sim.rest.create_carrier_app` serves Twilio's REST API and the sim's control API,
`ivr.sim.httpclient.SimHttpClient` points the real `twilio` client at it, and
`ivr.sim.phone.run_phone` is the terminal phone. See README.md for what is emulated."""

from ivr.sim.callers import CallerScript, Device
from ivr.sim.carrier import Carrier
from ivr.sim.resources import CarrierError

__all__ = ["Carrier", "CallerScript", "CarrierError", "Device"]
