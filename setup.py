"""Only the C part of the package: decision_aid/_sqlitec.c (the audit verifier's hash pass; see
decision_aid/sqlite_native.py).

Everything else about the package is declared in setup.cfg. The extension links the system's
SQLite and OpenSSL, the libraries Python's own sqlite3 and hashlib modules use (headers from
Debian's libsqlite3-dev and libssl-dev, which `make setup` installs).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "decision_aid._sqlitec",
            sources=["decision_aid/_sqlitec.c"],
            libraries=["sqlite3", "crypto"],
            extra_compile_args=["-O2", "-Wall"],
            # Without the headers the app still installs and falls back to its Python code;
            # tests/unit/foundation/test_sqlite_native.py fails then, so our machines never
            # lose the module quietly.
            optional=True,
        )
    ]
)
