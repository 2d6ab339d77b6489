# plugin/local.mk: the `tm` commands for GDB and LLDB, Python over libtm.

tmpythondir = $(pkgdatadir)/python
dist_tmpython_DATA = plugin/common/tm_native.py plugin/gdb/tm_gdb.py \
	plugin/lldb/tm_lldb.py
nodist_tmpython_DATA = plugin/common/tm_config.py

# Where the plugin finds libtm once installed.
plugin/common/tm_config.py: Makefile
	$(AM_V_GEN)mkdir -p plugin/common && \
	printf '%s\n' '"""tm_config: where tm is installed (written by make)."""' \
		'LIBTM = "$(libdir)/libtm.so.0"' >$@
CLEANFILES += plugin/common/tm_config.py
all-local: plugin/common/tm_config.py
