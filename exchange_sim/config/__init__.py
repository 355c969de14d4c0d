"""Strict configuration: TOML into frozen attrs classes, with exact unit conversion.

Conventions for config classes (every section of every subsystem follows them):

* ``@attrs.frozen(kw_only=True)``; every field has a default (defaults live only here);
* ``metadata={"help": "one line", "unit": ..., "min": ..., "max": ..., "choices": ...}`` where
  ``unit`` is one of ``duration`` (to int ns), ``rate`` (to int ppb), ``price`` (to int ticks),
  ``size`` (to int lots), ``money`` (to int minor units), ``decimal`` (kept as ``Decimal``);
* a field typed as a union of config classes is chosen by the table's ``kind`` key, matched
  against each class's ``KIND`` class variable.
"""
