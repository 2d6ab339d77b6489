"""tm_native: libtm, the C reader, seen from Python through ctypes.

The debugger plugins hand their memory reads and their symbol look-ups to
libtm through here.  libtm locates and decodes the table, builds the
snapshot and formats every line of text, so GDB, LLDB and tm-core print
the same thing for the same memory.  Nothing here interprets the table.
"""

import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, byref, c_bool, c_char_p, c_int,
                    c_size_t, c_uint64, c_void_p)

KEYS = ("lineno", "filename", "traceback")


class TmError(Exception):
    """A failure, with libtm's one-line message."""


# The help of the `tm` command, in GDB and in LLDB.
HELP = """tracemalloc for native programs: where the live heap was allocated.

The program must run under libtracemalloc (LD_PRELOAD or linked, with
TRACEMALLOC=NFRAME or tm_start()).  The commands read the table from the
live process, a core or a remote target, as tm-core does.

tm status                        what the table holds
tm top [N] [KEY] [cumulative]    the N (10) biggest groups by KEY
tm traceback EXPR                the block at an address, and its traceback
tm snapshot save FILE            save the table as a snapshot file
tm diff FILE [N] [KEY] [cumulative]
                                 what grew since a snapshot file (or core)

KEY is lineno (the default), filename or traceback.  EXPR is anything
the debugger evaluates to an address: p, $rdi, 0x55d0c0a012a0."""

TOP_USAGE = "tm top [N] [lineno|filename|traceback] [cumulative]"
DIFF_USAGE = "tm diff FILE [N] [lineno|filename|traceback] [cumulative]"


def parse_view(argv, usage):
    """[N] [KEY] [cumulative], in any order: (limit, key, cumulative)."""
    limit, key, cumulative = 10, "lineno", False
    for word in argv:
        if word.isdigit():
            limit = int(word)
        elif word in KEYS:
            key = word
        elif word == "cumulative":
            cumulative = True
        else:
            raise TmError("'%s' is not a count, a key or 'cumulative'; "
                          "usage: %s" % (word, usage))
    return limit, key, cumulative


# tm_read_fn and tm_symbolize_fn (lib/include/tm/reader.h, symbolize.h).
READ_FN = CFUNCTYPE(c_void_p, c_void_p, c_uint64, c_size_t, c_void_p)
SYMBOLIZE_FN = CFUNCTYPE(None, c_uint64, c_void_p, c_void_p)

_PROTOTYPES = {
    "tm_error_message": (c_char_p, [c_void_p]),
    "tm_error_destroy": (None, [c_void_p]),
    "tm_error_fault_create": (c_void_p, [c_uint64, c_size_t, c_char_p]),
    "tm_source_create": (c_void_p, [READ_FN, c_void_p, POINTER(c_void_p)]),
    "tm_source_add_segment": (c_void_p, [c_void_p, c_uint64, c_uint64]),
    "tm_source_destroy": (None, [c_void_p]),
    "tm_symbolizer_create_callback":
        (c_void_p, [SYMBOLIZE_FN, c_void_p, POINTER(c_void_p)]),
    "tm_symbolizer_destroy": (None, [c_void_p]),
    "tm_frame_sink_add": (None, [c_void_p, c_char_p, c_int, c_char_p,
                                 c_char_p]),
    "tm_session_open_source": (c_void_p, [c_void_p, c_uint64, c_void_p,
                                          c_char_p, c_char_p,
                                          POINTER(c_void_p)]),
    "tm_session_open_path": (c_void_p, [c_char_p, c_void_p,
                                        POINTER(c_void_p)]),
    "tm_session_destroy": (None, [c_void_p]),
    "tm_session_tracing": (c_bool, [c_void_p]),
    "tm_session_save": (c_void_p, [c_void_p, c_char_p]),
    "tm_key_parse": (c_void_p, [c_char_p, POINTER(c_int)]),
    "tm_report_warnings": (None, [c_void_p, c_char_p, c_void_p]),
    "tm_report_status": (None, [c_void_p, c_void_p]),
    "tm_report_top": (c_void_p, [c_void_p, c_void_p, c_void_p, c_size_t,
                                 c_int, c_bool, c_size_t]),
    "tm_report_diff": (c_void_p, [c_void_p, c_void_p, c_void_p, c_void_p,
                                  c_size_t, c_int, c_bool, c_size_t]),
    "tm_report_traceback": (None, [c_void_p, c_void_p, c_uint64]),
}

_lib = None
_libc = None


def library_path():
    """Where libtm is: $TM_LIBTM (a build tree), else where it was
    installed."""
    path = os.environ.get("TM_LIBTM")
    if path:
        return path
    import tm_config
    return tm_config.LIBTM


def _load():
    global _lib, _libc
    if _lib is None:
        try:
            lib = ctypes.CDLL(library_path())
        except OSError as e:
            raise TmError("cannot load libtm (%s); is tm installed? "
                          "(TM_LIBTM names it in a build tree)" % e)
        for name, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        libc = ctypes.CDLL(None)
        libc.open_memstream.restype = c_void_p
        libc.open_memstream.argtypes = [POINTER(c_void_p), POINTER(c_size_t)]
        libc.fclose.argtypes = [c_void_p]
        libc.free.argtypes = [c_void_p]
        _lib, _libc = lib, libc
    return _lib


def _check(err):
    """Raise the struct tm_error *@err, if there is one, as a TmError."""
    if err:
        lib = _load()
        message = lib.tm_error_message(err).decode("utf-8", "replace")
        lib.tm_error_destroy(err)
        raise TmError(message)


def _text(report, *args):
    """What @report(FILE *, *args) prints, as a string."""
    _load()
    buf, size = c_void_p(), c_size_t()
    stream = _libc.open_memstream(byref(buf), byref(size))
    if not stream:
        raise TmError("out of memory")
    try:
        err = report(stream, *args)
    finally:
        _libc.fclose(stream)
    text = ctypes.string_at(buf, size.value).decode("utf-8", "replace")
    _libc.free(buf)
    _check(err)
    return text


def _bytes(s):
    return None if s is None else os.fsencode(s)


def parse_key(name):
    """The tm_key of @name, or TmError."""
    key = c_int()
    _check(_load().tm_key_parse(_bytes(name), byref(key)))
    return key.value


class Session:
    """One trace table opened for reading (a struct tm_session)."""

    def __init__(self, handle, keep=()):
        self._handle = handle
        # The callbacks libtm holds: alive as long as the session.
        self._keep = keep

    @classmethod
    def from_memory(cls, read, segments, descriptor, symbolize, kind, name):
        """Open the table in a debugger's memory.

        read(address, n) returns n bytes or raises; segments lists the
        (start, size) ranges to scan when descriptor (the address of
        __tracemalloc_descriptor) is 0; symbolize(address) returns the
        frames at address, innermost first, as (filename, lineno,
        function, module), filename None where no line is known.
        """
        lib = _load()

        def read_cb(buf, address, n, arg):
            try:
                data = read(address, n)
                if len(data) != n:
                    raise ValueError("short read")
                ctypes.memmove(buf, data, n)
                return None
            except Exception as e:  # any failed read is a fault to libtm
                return lib.tm_error_fault_create(address, n,
                                                 str(e).encode()[:200])

        def symbolize_cb(address, sink, arg):
            try:
                for filename, lineno, function, module in symbolize(address):
                    lib.tm_frame_sink_add(sink, _bytes(filename), lineno or 0,
                                          _bytes(function), _bytes(module))
            except Exception:  # what the debugger cannot name is unknown
                pass

        read_fn, symbolize_fn = READ_FN(read_cb), SYMBOLIZE_FN(symbolize_cb)
        src, sym, handle = c_void_p(), c_void_p(), c_void_p()
        _check(lib.tm_source_create(read_fn, None, byref(src)))
        for start, size in segments:
            err = lib.tm_source_add_segment(src, start, size)
            if err:
                lib.tm_source_destroy(src)
                _check(err)
        err = lib.tm_symbolizer_create_callback(symbolize_fn, None,
                                                byref(sym))
        if err:
            lib.tm_source_destroy(src)
            _check(err)
        _check(lib.tm_session_open_source(src, descriptor, sym,
                                          _bytes(kind), _bytes(name),
                                          byref(handle)))
        return cls(handle, (read_fn, symbolize_fn))

    @classmethod
    def from_path(cls, path):
        """Open a core, a trace file or a snapshot dump."""
        handle = c_void_p()
        _check(_load().tm_session_open_path(_bytes(path), None,
                                            byref(handle)))
        return cls(handle)

    def close(self):
        if self._handle:
            _load().tm_session_destroy(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def tracing(self):
        return bool(_load().tm_session_tracing(self._handle))

    def warnings(self, prefix):
        return _text(_load().tm_report_warnings, _bytes(prefix), self._handle)

    def status(self):
        return _text(_load().tm_report_status, self._handle)

    def top(self, key, cumulative, limit):
        return _text(_load().tm_report_top, self._handle, None, 0,
                     parse_key(key), cumulative, limit)

    def diff(self, old, key, cumulative, limit):
        return _text(_load().tm_report_diff, old._handle, self._handle, None,
                     0, parse_key(key), cumulative, limit)

    def traceback(self, address):
        return _text(_load().tm_report_traceback, self._handle, address)

    def save(self, path):
        _check(_load().tm_session_save(self._handle, _bytes(path)))
