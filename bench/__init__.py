"""Benchmarks of twiliocore against twilio-python, a bare libcurl loop and wrk (see run_all.py)."""
