// getattr.c: the runtime knows when a thread is inside pthread_getattr_np.
//
// The runtime asks glibc's pthread_getattr_np where a thread's stack ends
// before the thread's first unwind, so that the unwind never runs off a
// small stack (stackcache.c, record.c).  But pthread_getattr_np holds the
// thread's own lock while it allocates (realloc for a CPU set, calloc and
// realloc in pthread_attr_setaffinity_np); the JVM asks for every new
// thread's stack this way.  Asked again from a hook inside that call, it
// would wait for the lock forever.  So calls into it are wrapped, and a
// thread inside one does not ask.
#include "runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

__thread int tm_thread_in_getattr __attribute__((tls_model("initial-exec")));

typedef int (*getattr_fn)(pthread_t, pthread_attr_t *);
static getattr_fn next_getattr;

// glibc's function (or the next preloaded library's), found on first use.
static getattr_fn next(void)
{
	getattr_fn f = __atomic_load_n(&next_getattr, __ATOMIC_ACQUIRE);

	if (!f) {
		f = (getattr_fn)dlsym(RTLD_NEXT, "pthread_getattr_np");
		__atomic_store_n(&next_getattr, f, __ATOMIC_RELEASE);
	}
	return f;
}

TM_PUBLIC int pthread_getattr_np(pthread_t thread, pthread_attr_t *attr)
{
	// Marked before dlsym too, which may allocate.
	tm_thread_in_getattr++;
	getattr_fn f = next();
	int ret = f ? f(thread, attr) : ENOSYS;
	tm_thread_in_getattr--;
	return ret;
}

bool tm_getattr_self(pthread_attr_t *attr)
{
	getattr_fn f = __atomic_load_n(&next_getattr, __ATOMIC_ACQUIRE);

	return f && f(pthread_self(), attr) == 0;
}

void tm_getattr_init(void)
{
	tm_thread_in_getattr++;
	next();
	tm_thread_in_getattr--;
}
