// dlhost.c: a C program that loads libraries with dlopen and calls each
// one's plugin_allocate(); the libraries stay loaded.
//   dlhost LIBRARY.so...
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		void *library = dlopen(argv[i], RTLD_NOW);
		if (!library) {
			fprintf(stderr, "dlhost: %s\n", dlerror());
			return 1;
		}
		void (*plugin_allocate)(void) =
			(void (*)(void))dlsym(library, "plugin_allocate");
		if (!plugin_allocate) {
			fprintf(stderr, "dlhost: %s\n", dlerror());
			return 1;
		}
		plugin_allocate();
	}
	puts("dlhost done");
	return 0;
}
