// cleanup.h: scope-bound cleanup for locals (GCC's cleanup attribute).
#ifndef TM_UTIL_CLEANUP_H
#define TM_UTIL_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void tm_freep(void *p)
{
	free(*(void **)p);
}

static inline void tm_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void tm_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ __attribute__((cleanup(tm_freep)))
#define _cleanup_close_ __attribute__((cleanup(tm_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(tm_fclosep)))

// Hand ownership out of a _cleanup_ variable.
#define TM_STEAL(p)                                                            \
	({                                                                     \
		__typeof__(p) stolen_ = (p);                                   \
		(p) = NULL;                                                    \
		stolen_;                                                       \
	})

#endif // TM_UTIL_CLEANUP_H
