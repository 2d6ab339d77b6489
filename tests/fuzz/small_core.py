# small_core.py TRACE CORE: a small ELF core around a trace file's table, laid
# out as the kernel writes one: an NT_FILE note (naming a file that is
# gone) and one PT_LOAD holding the table at the address it was mapped at.
import struct
import sys

table = open(sys.argv[1], "rb").read()


def field(record, name):
    """Offset of field NAME of record type RECORD, through the descriptors."""
    count, types = struct.unpack_from("<IQ", table, 20)
    for t in range(count):
        rname, _, nfields, fields = struct.unpack_from("<24sIIQ", table,
                                                       types + 40 * t)
        if rname.rstrip(b"\0") != record:
            continue
        for f in range(nfields):
            fname, off = struct.unpack_from("<24sI", table, fields + 32 * f)
            if fname.rstrip(b"\0") == name:
                return off
    sys.exit("no field %s.%s" % (record, name))


header = struct.unpack_from("<Q", table, 32)[0]
base = struct.unpack_from("<Q", table,
                          header + field(b"header", b"base_address"))[0]
name = b"/nonexistent/lib.so\0"
desc = struct.pack("<QQQQQ", 1, 4096, 0x10000, 0x11000, 0) + name
desc += b"\0" * (-len(desc) % 4)
note = struct.pack("<III", 5, len(desc), 0x46494C45) + b"CORE\0\0\0\0" + desc
phnum, load_off = 2, 4096
ehdr = b"\x7fELF\x02\x01\x01" + b"\0" * 9
ehdr += struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, phnum,
                    0, 0, 0)
note_off = 64 + 56 * phnum
phdrs = struct.pack("<IIQQQQQQ", 4, 0, note_off, 0, 0, len(note), 0, 4)
phdrs += struct.pack("<IIQQQQQQ", 1, 6, load_off, base, 0, len(table),
                     len(table), 4096)
core = ehdr + phdrs + note
core += b"\0" * (load_off - len(core)) + table
open(sys.argv[2], "wb").write(core)
