"""Loopback stand-ins for the services Newsdesk talks to: Discord (gateway and REST) and an OpenAI-compatible LLM."""
