"""Test support shared by ``tests/`` and ``bench/``: the servers a client is run against.

* ``loopback`` -- what every loopback server here needs: the listening socket,
  accepted-connection setup, a buffered line/byte reader and a self-signed
  certificate (made with the ``openssl`` command).
* ``scripted_server`` -- the scripted IMAP server of the client tests (exact
  exchanges, one connection at a time, every byte recorded).
* ``dovecot`` -- a private Dovecot on 127.0.0.1 (tests/realserver and the
  benchmarks' Dovecot rows).

The benchmarks' replay server (``bench/replay_server.py``) is built on
``loopback`` too; it stays in ``bench/`` because its answers are made from
``bench/scenarios.py``.

Not installed with the package: it is found on ``sys.path`` through the
repository root, which ``tests/conftest.py`` and ``bench/run.py`` put there
(and ``bench/harness.py`` for the processes it starts).  The sdist carries it
(``MANIFEST.in``).
"""
