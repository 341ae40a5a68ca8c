/* command.h - sending commands (imap4_command.c): _command,
 * _command_complete, _simple_command, and APPEND's line-end helper.
 */
#ifndef IMAPLIB_C_COMMAND_H
#define IMAPLIB_C_COMMAND_H

#include "compat.h"

extern PyMethodDef imap4_command_methods[];
/* The module function _map_crlf_sub. */
PyObject *mod_map_crlf_sub(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
