// peak.c: folding a thread's window of changes into the peak (peak.h).
#include "peak.h"

__thread struct tm_peak_window tm_peak_window
	__attribute__((tls_model("initial-exec")));

static void raise_peak(uint64_t candidate)
{
	uint64_t peak = __atomic_load_n(&tm_rt.peak, __ATOMIC_RELAXED);

	while (candidate > peak &&
	       !__atomic_compare_exchange_n(&tm_rt.peak, &peak, candidate, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	if (candidate > peak && tm_rt.header)
		__atomic_store_n(&tm_rt.header->peak_size, candidate,
				 __ATOMIC_RELAXED);
}

void tm_peak_fold(void)
{
	struct tm_peak_window *w = &tm_peak_window;
	uint64_t current = tm_table_traced_size();

	// The window reached w->max above where it is now.
	raise_peak(current + (uint64_t)(w->max - w->delta));
	w->delta = 0;
	w->max = 0;
}
