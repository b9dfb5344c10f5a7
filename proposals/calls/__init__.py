"""Funder call profiles: YAML data validated by a pydantic schema, and the check engine.

The shipped profiles are the ``*.yaml`` files beside this module.
"""
