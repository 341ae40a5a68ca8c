"""The version of the imaplib_c distribution: its one home.

pyproject.toml reads it (``[tool.setuptools.dynamic]``); at run time it is
``imaplib_c.package_version``.  ``imaplib_c.__version__`` is the running
interpreter's ``imaplib.__version__``, as for any drop-in.
"""

VERSION = "0.2.0"
