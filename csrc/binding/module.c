/* module.c - the _imaplib_c module: init, _bind() and _guard().
 *
 * The module holds the Engine type only.  The package imaplib_c builds
 * IMAP4 from it and the interpreter's own imaplib, then calls _bind() so
 * that the engine reads the settings tools write (_MAXLINE, Commands, ...)
 * from that imaplib's namespace, their one home.
 *
 * The binding (csrc/binding/; the core is csrc/core/), top to bottom.  A
 * file uses only files of its own layer or below, never in a circle
 * (tools/c_layers.py proves it from the objects, tests/test_source_rules.py
 * runs it); each part has one header, and a file includes the headers of
 * what it uses.
 *
 *   module   module.c          module init, _bind(), _guard(), _map_crlf_sub
 *   types    imap4.c (imap4.h) the Engine type: lifecycle, attribute access,
 *                              read/readline/shutdown, _bind()'s hook table
 *            guard.c (guard.h) the `guarded` descriptor, and the rules of
 *                              the command guard and the reader lock
 *   engine   imap4_engine.c    the methods: _get_line, _get_response,
 *              (engine.h)      _get_tagged_response (completing a command),
 *                              _append_untagged
 *            imap4_command.c   sending commands (_command, _command_complete,
 *              (command.h)     _simple_command) and APPEND's line-end helper
 *   response imap4_response.c  one response: a driver over the core framer's
 *              (response.h)    events and short handlers building imaplib's
 *                              objects; debug-5 tracing as its own step
 *            imap4_line.c      where lines come from: the receive buffer,
 *                              readline() or _get_line(), each via the framer
 *   store    imap4_store.c     filing untagged responses, the BYE check,
 *              (store.h)       _mesg messages, the log of every line
 *   reader   imap4_reader.c    the fast reader: the receive buffer over
 *              (reader.h)      sock.recv_into, or `file` as imaplib reads it
 *   context  context.c         the engine context (what one engine pass
 *              (context.h)     looks up once: hooks overridden, debug level)
 *            busy.c (busy.h)   the command guard's owner (busy_enter/leave)
 *                              and the reader reset it hands off
 *   debug    imap4_debug.c     _mesg/_log/print_log and the log ring
 *              (debug.h)
 *   util     state.c (state.h) the module state: definition, interned names
 *                              and constants, STATE(), ns_get()
 *            object.h          the C struct of an Engine instance
 *            util.c (util.h)   raising self.error/abort, calling methods and
 *                              super(), parse_args()
 *   compat   compat.h          Python.h and C-API shims (3.9 ... 3.15, no-GIL)
 *   core     csrc/core/        plain C (csrc/core/README.md): buffer, framer, parsing
 *
 * Public attributes (state, untagged_responses, tagged_commands, ...) live
 * in the instance __dict__, exactly as in imaplib, so user code and tools
 * that read, replace or add attributes keep working; the C struct only
 * holds what the engine owns (the receive buffer and the log ring).
 */
#include "command.h"
#include "guard.h"
#include "imap4.h"
#include "state.h"

/* ------------------------------------------------------------------ */
/* _bind, _guard                                                        */
/* ------------------------------------------------------------------ */

PyDoc_STRVAR(bind__doc__,
             "_bind($module, cls, namespace, skip_blank, own_buffer, start_timeout, literal_overflow,\n"
             "      plain_send)\n--\n\n"
             "Bind the engine to the final IMAP4 class and the interpreter's imaplib\n"
             "module namespace, with the rules imaplib_c/_rules.py found there.");

static PyObject *
mod_bind(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    modstate *st = mstate(module);
    int skip, prop, ovf, psend;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "_bind() takes 7 arguments");
        return NULL;
    }
    if (!PyType_Check(args[0]) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_bind() needs a class and a dict");
        return NULL;
    }
    if ((skip = PyObject_IsTrue(args[2])) < 0 || (prop = PyObject_IsTrue(args[3])) < 0
        || (ovf = PyObject_IsTrue(args[5])) < 0 || (psend = PyObject_IsTrue(args[6])) < 0)
        return NULL;
    if (imap4_bind(st, (PyTypeObject *)args[0], args[4]) < 0)
        return NULL;
    Py_XSETREF(st->ns, Py_NewRef(args[1]));
    st->skip_blank = skip;
    st->own_buffer = prop;
    st->literal_overflow = ovf;
    st->plain_send = psend;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(guard__doc__, "_guard($module, func, /)\n--\n\n"
                           "func wrapped in the command guard (see csrc/guard.c).");

static PyObject *
mod_guard(PyObject *module, PyObject *func)
{
    return guard_wrap(mstate(module), func);
}

PyDoc_STRVAR(map_crlf_sub__doc__,
             "_map_crlf_sub($module, namespace, pattern, repl, string, count=0, /)\n--\n\n"
             "namespace['MapCRLF'].sub(repl, string, count), in C while that is `pattern`.");

static PyMethodDef module_methods[] = {
    {"_map_crlf_sub", (PyCFunction)(void (*)(void))mod_map_crlf_sub, METH_FASTCALL,
     map_crlf_sub__doc__},
    {"_bind", (PyCFunction)(void (*)(void))mod_bind, METH_FASTCALL, bind__doc__},
    {"_guard", mod_guard, METH_O, guard__doc__},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------ */
/* Module exec                                                         */
/* ------------------------------------------------------------------ */

static int
module_exec(PyObject *module)
{
    modstate *st = mstate(module);
    if (state_init(st) < 0)
        return -1;
    st->ns = Py_NewRef(PyModule_GetDict(module)); /* until _bind() */
    if (guard_add_type(module, st) < 0 || imap4_add_type(module, st) < 0)
        return -1;
    return 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, (void *)module_exec},
#ifdef Py_GIL_DISABLED
    /* Safe without the GIL: the command guard is claimed atomically and
     * nothing else is shared between threads (csrc/binding/guard.c). */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

PyMODINIT_FUNC
PyInit__imaplib_c(void)
{
    /* The definition is the state's (state.c): add the module's own parts. */
    imaplib_c_module.m_methods = module_methods;
    imaplib_c_module.m_slots = module_slots;
    return PyModuleDef_Init(&imaplib_c_module);
}
