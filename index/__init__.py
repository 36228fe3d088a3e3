"""Newsdesk engine: articles in, cited answers out."""
