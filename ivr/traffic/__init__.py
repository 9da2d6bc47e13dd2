"""Traffic through a running service: `ivr simulate` places virtual callers with the offline
carrier's control API, lets virtual agents answer on the carrier's devices, and reports what
happened to every call, cross-checked with the service's own records. See README.md."""
