"""Keeping things in their place: user-given names, private files, secrets and their masking."""
