// gdb_autoload.c: GDB loads the `tm` commands by itself in any program that
// carries the runtime, through a `.debug_gdb_scripts` entry (GDB manual,
// "The .debug_gdb_scripts section").  The entry is an inline Python script
// that imports the plugin from where tm installed it ($TM_PLUGIN_DIR, a
// list of folders, takes precedence: a build tree sets it).  GDB runs it
// only if the library is in its auto-load safe-path (docs/debuggers.md).
// The section is mergeable, so a program that links the static runtime
// carries the entry once.

#ifndef TM_PLUGIN_DIR
#error "TM_PLUGIN_DIR must name where the Python plugin is installed"
#endif

// 4 is SECTION_SCRIPT_ID_PYTHON_TEXT; the first line names the script.
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\",%progbits,1\n"
	".byte 4\n"
	".ascii \"gdb.inlined-script.tm\\n\"\n"
	".ascii \"import os, sys\\n\"\n"
	".ascii \"for _tm_dir in reversed((os.environ.get('TM_PLUGIN_DIR') "
	"or '" TM_PLUGIN_DIR "').split(os.pathsep)):\\n\"\n"
	".ascii \"    if _tm_dir not in sys.path:\\n\"\n"
	".ascii \"        sys.path.insert(0, _tm_dir)\\n\"\n"
	".ascii \"try:\\n\"\n"
	".ascii \"    import tm_gdb\\n\"\n"
	".ascii \"except Exception as e:\\n\"\n"
	".ascii \"    print('tm: the GDB commands did not load: %s' % e)\\n\"\n"
	".byte 0\n"
	".popsection\n");
