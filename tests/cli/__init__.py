"""Tests of the `daprjobs` commands as users run them."""
