"""``python -m imaplib_c run SCRIPT|-m MODULE|-c CODE [ARGS...]``: run a
program with imaplib_c as its ``imaplib``; ``python -m imaplib_c --version``."""

import sys

from imaplib_c._runner import main

if __name__ == "__main__":
    sys.exit(main())
