"""tm_lldb: the `tm` command in LLDB.

Load it with one line in ~/.lldbinit:
    command script import /usr/local/share/tm/python/tm_lldb.py

LLDB's memory reads (live process, core, remote) and LLDB's own symbols
(SBAddress, line entries, inlined blocks) are handed to libtm; libtm does
the work and formats the text.  Every failure is one line through
result.SetError().
"""

import os
import shlex
import sys

import lldb

# tm_native is installed beside this file; $TM_PLUGIN_DIR (a list of
# folders) takes precedence, as it does for GDB: a build tree sets it.
for _folder in reversed(os.environ.get("TM_PLUGIN_DIR", "").split(os.pathsep)
                        + [os.path.dirname(os.path.abspath(__file__))]):
    if _folder and _folder not in sys.path:
        sys.path.insert(0, _folder)
import tm_native  # noqa: E402
from tm_native import TmError  # noqa: E402

DESCRIPTOR = "__tracemalloc_descriptor"


def _reader(process):
    def read(address, n):
        error = lldb.SBError()
        data = process.ReadMemory(address, n, error)
        if not error.Success():
            raise OSError(error.GetCString())
        return data
    return read


def _segments(process):
    regions = process.GetMemoryRegions()
    info = lldb.SBMemoryRegionInfo()
    ranges = []
    for i in range(regions.GetSize()):
        if regions.GetMemoryRegionAtIndex(i, info) and info.IsReadable():
            start = info.GetRegionBase()
            ranges.append((start, info.GetRegionEnd() - start))
    return ranges


def _descriptor(target):
    for context in target.FindSymbols(DESCRIPTOR):
        address = context.GetSymbol().GetStartAddress().GetLoadAddress(target)
        if address != lldb.LLDB_INVALID_ADDRESS:
            return address
    return 0


def _path(filespec):
    return filespec.fullpath if filespec and filespec.IsValid() else None


def _symbolizer(target):
    def symbolize(address):
        """The frames at @address, innermost first: each inlined function
        with its line, then the function it was inlined into at its call
        site."""
        context = target.ResolveLoadAddress(address).GetSymbolContext(
            lldb.eSymbolContextEverything)
        module = _path(context.GetModule().GetFileSpec())
        entry = context.GetLineEntry()
        where = (None, 0)
        if entry.IsValid() and entry.GetLine() > 0:
            where = (_path(entry.GetFileSpec()), entry.GetLine())
        frames = []
        block = context.GetBlock()
        inlined = block.GetContainingInlinedBlock() if block.IsValid() else None
        while inlined is not None and inlined.IsValid():
            frames.append((where[0], where[1], inlined.GetInlinedName(),
                           module))
            where = (_path(inlined.GetInlinedCallSiteFile()),
                     inlined.GetInlinedCallSiteLine())
            parent = inlined.GetParent()
            inlined = (parent.GetContainingInlinedBlock()
                       if parent.IsValid() else None)
        function = context.GetFunction()
        if function.IsValid():
            name = function.GetName()
        elif context.GetSymbol().IsValid():
            name = context.GetSymbol().GetName()
        else:
            name = None
        frames.append((where[0], where[1], name, module))
        return frames
    return symbolize


def open_process(debugger, tracing=True):
    """A tm_native.Session over the selected process's memory."""
    target = debugger.GetSelectedTarget()
    process = target.GetProcess() if target.IsValid() else None
    if process is None or not process.IsValid() or \
            process.GetState() in (lldb.eStateInvalid, lldb.eStateExited,
                                   lldb.eStateDetached):
        raise TmError("no process or core to read: run the program, "
                      "attach to it, or load a core")
    if process.GetState() == lldb.eStateRunning:
        raise TmError("the process is running: interrupt it first")
    descriptor = _descriptor(target)
    segments = [] if descriptor else _segments(process)
    core = process.GetPluginName() == "elf-core"
    session = tm_native.Session.from_memory(
        _reader(process), segments, descriptor, _symbolizer(target),
        "core" if core else "process", str(process.GetProcessID()))
    sys.stderr.write(session.warnings("tm"))
    if tracing and not session.tracing:
        session.close()
        raise TmError("tracing is off in this process (tm_stop() was "
                      "called); `tm status` shows the table")
    return session


def _evaluate(debugger, expression):
    """The address @expression evaluates to in the selected frame."""
    target = debugger.GetSelectedTarget()
    frame = target.GetProcess().GetSelectedThread().GetSelectedFrame()
    value = (frame.EvaluateExpression(expression) if frame.IsValid()
             else target.EvaluateExpression(expression))
    if not value.GetError().Success():
        raise TmError("cannot evaluate '%s': %s" % (
            expression, value.GetError().GetCString()))
    if value.GetType().IsArrayType():
        value = value.AddressOf()
    return value.GetValueAsUnsigned() & 0xFFFFFFFFFFFFFFFF


def status(debugger, argv, out):
    if argv:
        raise TmError("usage: tm status")
    with open_process(debugger, tracing=False) as session:
        out.write(session.status())


def top(debugger, argv, out):
    limit, key, cumulative = tm_native.parse_view(argv, tm_native.TOP_USAGE)
    with open_process(debugger) as session:
        out.write(session.top(key, cumulative, limit))


def snapshot(debugger, argv, out):
    if len(argv) != 2 or argv[0] != "save":
        raise TmError("usage: tm snapshot save FILE")
    with open_process(debugger, tracing=False) as session:
        session.save(os.path.expanduser(argv[1]))
    out.write("tm: saved the trace table to %s\n" % argv[1])


def diff(debugger, argv, out):
    if not argv:
        raise TmError("usage: " + tm_native.DIFF_USAGE)
    limit, key, cumulative = tm_native.parse_view(argv[1:], tm_native.DIFF_USAGE)
    with tm_native.Session.from_path(os.path.expanduser(argv[0])) as old:
        sys.stderr.write(old.warnings("tm"))
        with open_process(debugger) as now:
            out.write(now.diff(old, key, cumulative, limit))


SUBCOMMANDS = {"status": status, "top": top, "snapshot": snapshot,
               "diff": diff}


class TmCommand:
    """The `tm` command: tm status | top | traceback | snapshot save | diff."""

    def __init__(self, debugger, internal_dict):
        pass

    def get_short_help(self):
        return "tracemalloc: where the live heap was allocated (tm help)"

    def get_long_help(self):
        return tm_native.HELP

    def __call__(self, debugger, command, exe_ctx, result):
        try:
            words = command.split(None, 1)
            if not words or words[0] == "help":
                result.AppendMessage(tm_native.HELP)
                return
            name, rest = words[0], words[1] if len(words) > 1 else ""

            class Out:
                def write(self, text):
                    result.PutCString(text.rstrip("\n"))

            if name == "traceback":
                if not rest.strip():
                    raise TmError("usage: tm traceback EXPR")
                address = _evaluate(debugger, rest.strip())
                with open_process(debugger) as session:
                    Out().write(session.traceback(address))
            elif name in SUBCOMMANDS:
                SUBCOMMANDS[name](debugger, shlex.split(rest), Out())
            else:
                raise TmError("'%s' is not a tm command: use status, top, "
                              "traceback, snapshot save or diff" % name)
        except Exception as e:  # never a Python traceback
            result.SetError("tm: %s" % e)


def __lldb_init_module(debugger, internal_dict):
    debugger.HandleCommand("command script add -c %s.TmCommand tm" %
                           __name__)
