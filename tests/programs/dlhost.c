// dlhost.c: a C program that loads libraries with dlopen and calls each
// one's plugin_allocate(); the libraries stay loaded.  With -C, it changes
// to FOLDER after loading each library, before calling it.
//   dlhost [-C FOLDER] LIBRARY.so...
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *folder = NULL;
	int first = 1;

	if (argc > 2 && strcmp(argv[1], "-C") == 0) {
		folder = argv[2];
		first = 3;
	}
	for (int i = first; i < argc; i++) {
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
		if (folder && chdir(folder) != 0) {
			perror("dlhost: chdir");
			return 1;
		}
		plugin_allocate();
	}
	puts("dlhost done");
	return 0;
}
