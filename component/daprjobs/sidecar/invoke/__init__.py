"""Service invocation: the ``invoke`` building block (see ``block.py``)."""
