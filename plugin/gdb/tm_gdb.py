"""tm_gdb: the `tm` commands in GDB.

GDB's memory reads (live process, core, remote target) and GDB's own
symbols (find_pc_line, blocks, so separate debug files, `set sysroot` and
`set substitute-path` apply) are handed to libtm; libtm does the work and
formats the text.  Every failure is one line through gdb.GdbError.
"""

import os
import re
import sys

import gdb

# tm_native is installed beside this file, so `source .../tm_gdb.py` works;
# $TM_PLUGIN_DIR (a list of folders) takes precedence: a build tree sets it.
for _folder in reversed(os.environ.get("TM_PLUGIN_DIR", "").split(os.pathsep)
                        + [os.path.dirname(os.path.abspath(__file__))]):
    if _folder and _folder not in sys.path:
        sys.path.insert(0, _folder)
import tm_native  # noqa: E402
from tm_native import TmError  # noqa: E402

DESCRIPTOR = "__tracemalloc_descriptor"


def _read(address, n):
    return gdb.selected_inferior().read_memory(address, n).tobytes()


def _connection():
    """"native", "core", "remote", ... or None with nothing to read."""
    inferior = gdb.selected_inferior()
    connection = getattr(inferior, "connection", None)
    if inferior.pid == 0 or connection is None:
        return None
    return connection.type


def _core_path():
    text = gdb.execute("info files", to_string=True)
    match = re.search(r"core dump file:\s*`(.*)', file type", text)
    return match.group(1) if match else "core"


def _segments(kind):
    """The readable ranges to scan for the table when no symbol names it."""
    if kind == "core":
        # The core's memory sections, as GDB lists them.
        text = gdb.execute("maint info sections", to_string=True)
        core = text[text.find("Core file:"):]
        return [(int(a, 16), int(b, 16) - int(a, 16)) for a, b in re.findall(
            r"0x([0-9a-f]+)->0x([0-9a-f]+) at 0x[0-9a-f]+: load\S* "
            r"[^\n]*HAS_CONTENTS", core)]
    text = gdb.execute("info proc mappings", to_string=True)
    ranges = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or not fields[0].startswith("0x"):
            continue
        # GDB 12 and later list the permissions: skip what is unreadable.
        if re.match(r"[r-][w-][x-][ps]$", fields[4]) and fields[4][0] != "r":
            continue
        start, end = int(fields[0], 16), int(fields[1], 16)
        ranges.append((start, end - start))
    return ranges


def _descriptor():
    """The address of the runtime's descriptor, or 0 if no symbol names it."""
    try:
        return int(gdb.parse_and_eval("(unsigned long)&" + DESCRIPTOR))
    except gdb.error:
        return 0


def _module(address):
    name = gdb.solib_name(address)
    return name if name else gdb.current_progspace().filename


def _minimal_name(address):
    """The symbol-table name at @address, from GDB's minimal symbols."""
    text = gdb.execute("info symbol 0x%x" % address, to_string=True)
    match = re.match(r"(\S+)( \+ \d+)? in section", text)
    return match.group(1) if match else None


def _symbolize(address):
    """The frames at @address, innermost first: each inlined function with
    its line, then the function it was inlined into at its call site."""
    module = _module(address)
    try:
        block = gdb.block_for_pc(address)
    except RuntimeError:
        block = None
    functions = []
    while block is not None and not block.is_global and not block.is_static:
        if block.function is not None:
            functions.append(block.function)
        block = block.superblock
    sal = gdb.find_pc_line(address)
    if sal.symtab is not None and sal.line > 0:
        where = (sal.symtab.fullname(), sal.line)
    else:
        where = (None, 0)
    if not functions:
        return [(where[0], where[1], _minimal_name(address), module)]
    frames = []
    for function in functions:
        frames.append((where[0], where[1], function.print_name, module))
        # An inlined function's symbol stands at its call site.
        if function.symtab is not None:
            where = (function.symtab.fullname(), function.line)
    return frames


def open_inferior():
    """A tm_native.Session over the selected inferior's memory."""
    kind = _connection()
    if kind is None:
        raise TmError("no process or core to read: run the program, "
                      "attach to it, or load a core")
    descriptor = _descriptor()
    segments = [] if descriptor else _segments(kind)
    if kind == "core":
        source, name = "core", _core_path()
    else:
        source, name = "process", str(gdb.selected_inferior().pid)
    session = tm_native.Session.from_memory(_read, segments, descriptor,
                                            _symbolize, source, name)
    gdb.write(session.warnings("tm"), gdb.STDERR)
    return session


def open_tracing():
    """Like open_inferior(), but refuse a table that is not tracing."""
    session = open_inferior()
    if not session.tracing:
        session.close()
        raise TmError("tracing is off in this process (tm_stop() was "
                      "called); `tm status` shows the table")
    return session


class _Command(gdb.Command):
    """Runs do() and turns every failure into one line."""

    def invoke(self, argument, from_tty):
        self.dont_repeat()
        try:
            self.do(gdb.string_to_argv(argument))
        except gdb.MemoryError as e:
            raise gdb.GdbError("tm: cannot read memory: %s" % e)
        except Exception as e:  # never a Python traceback
            raise gdb.GdbError("tm: %s" % e)


class Tm(gdb.Command):
    __doc__ = tm_native.HELP

    def __init__(self):
        super().__init__("tm", gdb.COMMAND_DATA, gdb.COMPLETE_COMMAND,
                         prefix=True)


class TmStatus(_Command):
    """What the trace table holds: source, layout, counts and sizes.

Usage: tm status"""

    def __init__(self):
        super().__init__("tm status", gdb.COMMAND_DATA, gdb.COMPLETE_NONE)

    def do(self, argv):
        if argv:
            raise TmError("usage: tm status")
        with open_inferior() as session:
            gdb.write(session.status())


def complete_view(text, word):
    return [w for w in tm_native.KEYS + ("cumulative",)
            if w.startswith(word or "")]


class TmTop(_Command):
    """The biggest groups of live blocks, as tracemalloc's statistics().

Usage: tm top [N] [KEY] [cumulative]
N is how many lines (10; 0 for all); KEY is lineno (the default),
filename or traceback; cumulative counts every frame of a traceback, not
only the most recent one."""

    USAGE = tm_native.TOP_USAGE

    def __init__(self):
        super().__init__("tm top", gdb.COMMAND_DATA)

    def complete(self, text, word):
        return complete_view(text, word)

    def do(self, argv):
        limit, key, cumulative = tm_native.parse_view(argv, self.USAGE)
        with open_tracing() as session:
            gdb.write(session.top(key, cumulative, limit))


class TmTraceback(_Command):
    """The traced block that contains an address, and where it was
allocated.

Usage: tm traceback EXPR
EXPR is anything GDB evaluates to an address: p, $rdi, 0x55d0c0a012a0,
&buf[3].  An address inside a block finds the block."""

    def __init__(self):
        super().__init__("tm traceback", gdb.COMMAND_DATA,
                         gdb.COMPLETE_EXPRESSION)

    def invoke(self, argument, from_tty):
        # The whole argument is one expression: no argv splitting.
        self.dont_repeat()
        try:
            if not argument.strip():
                raise TmError("usage: tm traceback EXPR")
            value = gdb.parse_and_eval(argument)
            if value.type.strip_typedefs().code == gdb.TYPE_CODE_ARRAY:
                value = value.address
            address = int(value) & 0xFFFFFFFFFFFFFFFF
            with open_tracing() as session:
                gdb.write(session.traceback(address))
        except Exception as e:  # never a Python traceback
            raise gdb.GdbError("tm: %s" % e)


class TmSnapshot(gdb.Command):
    """Save the trace table as a snapshot file.

Usage: tm snapshot save FILE"""

    def __init__(self):
        super().__init__("tm snapshot", gdb.COMMAND_DATA, gdb.COMPLETE_COMMAND,
                         prefix=True)


class TmSnapshotSave(_Command):
    """Save the trace table as a snapshot file, which `tm diff` and every
tm-core command read back.

Usage: tm snapshot save FILE"""

    def __init__(self):
        super().__init__("tm snapshot save", gdb.COMMAND_FILES,
                         gdb.COMPLETE_FILENAME)

    def do(self, argv):
        if len(argv) != 1:
            raise TmError("usage: tm snapshot save FILE")
        with open_inferior() as session:
            session.save(os.path.expanduser(argv[0]))
        gdb.write("tm: saved the trace table to %s\n" % argv[0])


class TmDiff(_Command):
    """What grew or shrank since FILE, as tracemalloc's compare_to().

Usage: tm diff FILE [N] [KEY] [cumulative]
FILE is a snapshot saved by `tm snapshot save` or tm-core, a trace file,
or a core of the same program."""

    USAGE = tm_native.DIFF_USAGE

    def __init__(self):
        super().__init__("tm diff", gdb.COMMAND_DATA, gdb.COMPLETE_FILENAME)

    def do(self, argv):
        if not argv:
            raise TmError("usage: " + self.USAGE)
        limit, key, cumulative = tm_native.parse_view(argv[1:], self.USAGE)
        with tm_native.Session.from_path(os.path.expanduser(argv[0])) as old:
            gdb.write(old.warnings("tm"), gdb.STDERR)
            with open_tracing() as now:
                gdb.write(now.diff(old, key, cumulative, limit))


def register():
    Tm()
    TmStatus()
    TmTop()
    TmTraceback()
    TmSnapshot()
    TmSnapshotSave()
    TmDiff()


register()
