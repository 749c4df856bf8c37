"""Lockstep's entry point: the only module that knows the service, the web app and the bot."""
