// dlclose.c: the runtime sees libraries go.  Another library may be loaded
// at the address of one that was closed; without this, its frames would
// be taken for the closed one's and it would never be recorded in the
// module map.  Only dlclose is wrapped: dlopen looks at its caller to
// resolve names ($ORIGIN, RUNPATH), and a wrapper would change that.
#include "runtime.h"

#include <dlfcn.h>

typedef int (*dlclose_fn)(void *);

#ifndef PIC
// In a fully static program there is no RTLD_NEXT: the C library's
// dlclose is linked in under its internal name.  Weak: a program linked
// with the shared C library has no such symbol, and finds dlclose by dlsym.
extern int __dlclose(void *) __attribute__((weak));
#endif

TM_PUBLIC int dlclose(void *handle)
{
	static dlclose_fn real_dlclose;
	dlclose_fn real = __atomic_load_n(&real_dlclose, __ATOMIC_ACQUIRE);

	if (!real) {
		real = (dlclose_fn)dlsym(RTLD_NEXT, "dlclose");
#ifndef PIC
		if (!real)
			real = __dlclose;
#endif
		if (!real)
			return -1;
		__atomic_store_n(&real_dlclose, real, __ATOMIC_RELEASE);
	}
	int status = real(handle);
	if (status == 0)
		tm_modules_forget_unloaded();
	return status;
}
