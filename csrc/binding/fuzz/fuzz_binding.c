/* fuzz_binding.c - libFuzzer target for the binding's handlers.
 *
 * Embeds CPython and hands each input to binding_harness.run() (next to
 * this file), which drives imaplib_c's engine and the interpreter's
 * imaplib over the same server stream and raises if they differ.  The
 * extension is built with coverage instrumentation (tools/fuzz-binding.sh
 * does all of it), so libFuzzer steers by the binding's own branches and
 * the core's.  A Python exception from the harness is a finding: it is
 * printed and the process aborts, leaving the input as a crash artifact.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static PyObject *run_fn;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    PyObject *mod;
    (void)argc;
    (void)argv;
    Py_Initialize();
    mod = PyImport_ImportModule("binding_harness");
    run_fn = mod ? PyObject_GetAttrString(mod, "run") : NULL;
    Py_XDECREF(mod);
    if (run_fn == NULL) {
        PyErr_Print();
        abort();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    PyObject *arg = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)size), *r;
    if (arg == NULL) {
        PyErr_Print();
        abort();
    }
    r = PyObject_CallOneArg(run_fn, arg);
    Py_DECREF(arg);
    if (r == NULL) {
        PyErr_Print();
        abort();
    }
    Py_DECREF(r);
    return 0;
}
