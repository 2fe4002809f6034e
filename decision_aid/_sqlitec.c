/*
 * The app's C helpers for SQLite, on the handle inside Python's sqlite3.Connection.
 *
 * The audit verifier's hash pass (`hash_range`, quality target T18). The pass reads three
 * columns of a million rows and hashes each entry. In Python the sqlite3 module builds a str or
 * bytes object for every column of every row, and that alone kept the one-process verifier at
 * 1.35x the bare cost of streaming and hashing the payloads (target: at most 1.25x;
 * docs/audit-log.md). Here the rows are read with SQLite's own API and hashed with OpenSSL's
 * SHA-256.
 *
 * It uses the very SQLite and OpenSSL libraries Python's sqlite3 and hashlib modules are
 * linked against: one SQLite library in the process, so its file locks stay coherent. The
 * handle is read where CPython 3.11 to 3.13 keep it; Python checks it (`db_filename`) before
 * trusting it, and keeps its own code as the fallback (decision_aid/sqlite_native.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <string.h>

#define HEX_LEN 64
#define DIGEST_LEN 32

enum { FOUND_NOTHING = 0, FOUND_LINK = 1, FOUND_HASH = 2, FOUND_MALFORMED = 3 };

/* CPython 3.11-3.13 lay out sqlite3.Connection as the object header followed by the handle. */
typedef struct {
    PyObject_HEAD
    sqlite3 *db;
} ConnectionHead;

static sqlite3 *handle_of(PyObject *connection) {
    if (strcmp(Py_TYPE(connection)->tp_name, "sqlite3.Connection") != 0) {
        PyErr_SetString(PyExc_TypeError, "expected a sqlite3.Connection");
        return NULL;
    }
    sqlite3 *db = ((ConnectionHead *)connection)->db;
    if (db == NULL) {
        PyErr_SetString(PyExc_ValueError, "the sqlite3.Connection is closed");
    }
    return db;
}

PyDoc_STRVAR(db_filename_doc,
"db_filename(connection) -> str\n\n"
"The main database file of the handle inside `connection` (\"\" for an in-memory one), so\n"
"Python can check the handle is the one it expects before using the other functions.");

static PyObject *db_filename(PyObject *module, PyObject *connection) {
    sqlite3 *db = handle_of(connection);
    if (db == NULL) {
        return NULL;
    }
    const char *name = sqlite3_db_filename(db, "main");
    return PyUnicode_FromString(name ? name : "");
}

/* ------------------------------------------------------------------ the hash pass
 *
 * It mirrors `verify.hash_pass` check for check: a stored prev_hash that is not the text of the
 * previous entry's hash is a broken link; a payload that is not a BLOB is a malformed entry (the
 * Python loop raises TypeError); an entry_hash that is not the text of the computed hash is a
 * hash mismatch. The statement runs on the caller's connection, inside the caller's
 * transaction: the same snapshot, and the changes not yet committed on that connection.
 */
static const char SQL[] =
    "SELECT prev_hash, payload, entry_hash FROM audit_event "
    "WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq";

static void to_hex(const unsigned char *digest, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < DIGEST_LEN; i++) {
        out[2 * i] = digits[digest[i] >> 4];
        out[2 * i + 1] = digits[digest[i] & 15];
    }
}

static int from_hex(const char *text, Py_ssize_t length, unsigned char *out) {
    if (length != HEX_LEN) {
        return -1;
    }
    for (int i = 0; i < HEX_LEN; i++) {
        char c = text[i];
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0) {
            return -1;
        }
        out[i / 2] = (unsigned char)(i % 2 ? (out[i / 2] | v) : v << 4);
    }
    return 0;
}

/* Whether column `col` holds exactly the 64 hex characters in `hex` as TEXT. */
static int text_equals(sqlite3_stmt *stmt, int col, const char *hex) {
    if (sqlite3_column_type(stmt, col) != SQLITE_TEXT) {
        return 0;
    }
    const unsigned char *text = sqlite3_column_text(stmt, col);
    return text != NULL && sqlite3_column_bytes(stmt, col) == HEX_LEN
           && memcmp(text, hex, HEX_LEN) == 0;
}

typedef struct {
    sqlite3 *db;
    sqlite3_int64 low, high;
    const unsigned char *tag;
    Py_ssize_t tag_len;
    unsigned char prev[DIGEST_LEN];
    char prev_hex[HEX_LEN];
    long long done;
    int found;
    int sqlite_error;
    const char *error;
} Scan;

/* One entry: link, then hash (the order the Python loop checks them). */
static int check_entry(Scan *scan, sqlite3_stmt *stmt, EVP_MD_CTX *ctx) {
    if (!text_equals(stmt, 0, scan->prev_hex)) {
        return FOUND_LINK;
    }
    if (sqlite3_column_type(stmt, 1) != SQLITE_BLOB) {
        return FOUND_MALFORMED;
    }
    const void *payload = sqlite3_column_blob(stmt, 1);
    int length = sqlite3_column_bytes(stmt, 1);
    unsigned int size = 0;
    if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
        || !EVP_DigestUpdate(ctx, scan->tag, (size_t)scan->tag_len)
        || !EVP_DigestUpdate(ctx, scan->prev, DIGEST_LEN)
        || (length > 0 && !EVP_DigestUpdate(ctx, payload, (size_t)length))
        || !EVP_DigestFinal_ex(ctx, scan->prev, &size)) {
        scan->error = "SHA-256 failed";
        return -1;
    }
    to_hex(scan->prev, scan->prev_hex);
    return text_equals(stmt, 2, scan->prev_hex) ? FOUND_NOTHING : FOUND_HASH;
}

/* The loop, run without the GIL: it touches no Python object. */
static void run_scan(Scan *scan) {
    sqlite3_stmt *stmt = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        scan->error = "out of memory";
        return;
    }
    int rc = sqlite3_prepare_v2(scan->db, SQL, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, scan->low);
        sqlite3_bind_int64(stmt, 2, scan->high);
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            int found = check_entry(scan, stmt, ctx);
            if (found != FOUND_NOTHING) {
                scan->found = found > 0 ? found : FOUND_NOTHING;
                break;
            }
            scan->done++;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE && scan->error == NULL) {
        scan->sqlite_error = rc;
        scan->error = sqlite3_errmsg(scan->db);
    }
    sqlite3_finalize(stmt);
    EVP_MD_CTX_free(ctx);
}

PyDoc_STRVAR(hash_range_doc,
"hash_range(connection, low, high, start_hash, tag) -> (done, found, prev_hex)\n\n"
"Check the entries with low <= seq <= high in seq order, starting from start_hash.\n"
"done: entries that passed; found: 0 (none), 1 (link), 2 (hash) or 3 (malformed) for the\n"
"entry after them; prev_hex: the hash of the last entry that passed.");

static PyObject *hash_range(PyObject *module, PyObject *args) {
    PyObject *connection;
    long long low, high;
    const char *start;
    Py_ssize_t start_len;
    Scan scan;
    memset(&scan, 0, sizeof scan);
    if (!PyArg_ParseTuple(args, "OLLs#y#", &connection, &low, &high, &start, &start_len,
                          &scan.tag, &scan.tag_len)) {
        return NULL;
    }
    if ((scan.db = handle_of(connection)) == NULL) {
        return NULL;
    }
    if (from_hex(start, start_len, scan.prev) != 0) {
        PyErr_SetString(PyExc_ValueError, "start_hash must be 64 lowercase hex characters");
        return NULL;
    }
    memcpy(scan.prev_hex, start, HEX_LEN);
    scan.low = low;
    scan.high = high;
    Py_BEGIN_ALLOW_THREADS
    run_scan(&scan);
    Py_END_ALLOW_THREADS
    if (scan.error != NULL) {
        PyErr_Format(PyExc_RuntimeError, "audit hash pass: %s (SQLite code %d)", scan.error,
                     scan.sqlite_error);
        return NULL;
    }
    return Py_BuildValue("Lis#", scan.done, scan.found, scan.prev_hex, (Py_ssize_t)HEX_LEN);
}

static PyMethodDef methods[] = {
    {"db_filename", db_filename, METH_O, db_filename_doc},
    {"hash_range", hash_range, METH_VARARGS, hash_range_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sqlitec",
    "The app's C helpers for SQLite (see sqlite_native.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__sqlitec(void) { return PyModule_Create(&module); }
