// prim.h: primitives the runtime builds on without touching libc malloc:
// spin locks, one-line diagnostics through write(2), number formatting.
#ifndef TM_RUNTIME_PRIM_H
#define TM_RUNTIME_PRIM_H

#include <stddef.h>
#include <stdint.h>

// Functions that may be on the stack when the unwinder runs live in this
// section, so the unwinder can drop the runtime's own frames by address,
// in the shared library and in the static variant alike.
#define TM_RUNTIME_TEXT __attribute__((section("tm_runtime_text"), noinline))

// Fibonacci hashing: multiplying by 2^64 / phi spreads clustered keys
// (aligned addresses, nearby return addresses) well in the product's high
// bits, so callers take their index from the top.
static inline uint64_t tm_fibonacci_hash(uint64_t key)
{
	return key * 0x9e3779b97f4a7c15ULL;
}

// Spin locks live in the region or in runtime state.  Holders never block in
// the kernel, so a spinner that has spun for long yields its CPU instead.
void tm_spin_lock_slow(uint32_t *lock);

static inline void tm_spin_lock(uint32_t *lock)
{
	if (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
		tm_spin_lock_slow(lock);
}

static inline int tm_spin_trylock(uint32_t *lock)
{
	return !__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE);
}

static inline void tm_spin_unlock(uint32_t *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

// Write "tm: " and the NULL-terminated parts as one line to stderr, with a
// single write(2) from a stack buffer.
void tm_diag(const char *first, ...) __attribute__((sentinel));

// Format @value in decimal into @buf (at least 21 bytes); returns buf.
char *tm_fmt_u64(char *buf, uint64_t value);

// Parse a decimal integer made only of digits; -1 if it is not one or is
// larger than @max.
long tm_parse_decimal(const char *text, long max);

#endif // TM_RUNTIME_PRIM_H
