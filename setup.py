"""Only the C part of the package: the audit verifier's hash pass (decision_aid/audit/_chainscan.c).

Everything else about the package is declared in setup.cfg. The extension links the system's
SQLite and OpenSSL, the libraries Python's own sqlite3 and hashlib modules use (headers from
Debian's libsqlite3-dev and libssl-dev, which `make setup` installs).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "decision_aid.audit._chainscan",
            sources=["decision_aid/audit/_chainscan.c"],
            libraries=["sqlite3", "crypto"],
            extra_compile_args=["-O2", "-Wall"],
            # Without the headers the app still installs and verifies with the Python loop;
            # tests/unit/audit/test_native.py fails then, so our machines never lose it quietly.
            optional=True,
        )
    ]
)
