// peak.h: the peak of the traced size, kept without a shared counter on the
// hot path.
//
// Each thread sums its own changes in a window and folds them into the peak
// when the window has moved more than TM_PEAK_WINDOW bytes, so threads never
// share a counter's cache line on every allocation.  The traced size itself
// is exact: it is the sum of the shards' sizes.  Resetting the peak starts
// a new epoch, which empties every thread's window on its next change.
#ifndef TM_RUNTIME_PEAK_H
#define TM_RUNTIME_PEAK_H

#include "runtime.h"

#include <stdint.h>

#define TM_PEAK_WINDOW ((int64_t)256 << 10)

struct tm_peak_window {
	int64_t delta;	// this thread's changes since the last fold
	int64_t max;	// the highest delta reached since then
	uint64_t epoch; // tm_rt.peak_epoch the window belongs to
};

extern __thread struct tm_peak_window tm_peak_window
	__attribute__((tls_model("initial-exec")));

// Fold this thread's window into the peak, and empty it.
void tm_peak_fold(void);

// Empty this thread's window if the peak was reset since it last changed.
static inline void tm_peak_sync(void)
{
	struct tm_peak_window *w = &tm_peak_window;
	uint64_t epoch = __atomic_load_n(&tm_rt.peak_epoch, __ATOMIC_ACQUIRE);

	if (__builtin_expect(w->epoch != epoch, 0)) {
		w->epoch = epoch;
		w->delta = 0;
		w->max = 0;
	}
}

// Account for a change of @delta traced bytes (every hook, so inline).
static inline void tm_account(int64_t delta)
{
	struct tm_peak_window *w = &tm_peak_window;

	tm_peak_sync();
	w->delta += delta;
	if (w->delta > w->max)
		w->max = w->delta;
	if (w->max >= TM_PEAK_WINDOW || w->delta <= -TM_PEAK_WINDOW)
		tm_peak_fold();
}

#endif // TM_RUNTIME_PEAK_H
