// prim.h: primitives the runtime builds on without touching libc malloc:
// spin locks, one-line diagnostics through write(2), number formatting.
#ifndef TM_RUNTIME_PRIM_H
#define TM_RUNTIME_PRIM_H

#include <stdbool.h>
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

// A hash of @count words, order included, from @seed, mixed in its high
// bits (fold them down for an index from the low ones): of every unwound
// stack (the stack cache, interning).  Each step waits for the one before,
// and over the 50 frames of a deep stack one chain of them cost more than
// the rest of what the runtime adds to an unwind: four chains, each over
// every fourth word, run side by side.
static inline uint64_t tm_hash_words(uint64_t seed, const uint64_t *words,
				     unsigned count)
{
	uint64_t a = seed, b = seed + 1, c = seed + 2, d = seed + 3;
	unsigned i = 0;

	for (; i + 4 <= count; i += 4) {
		a = tm_fibonacci_hash(a ^ words[i]);
		b = tm_fibonacci_hash(b ^ words[i + 1]);
		c = tm_fibonacci_hash(c ^ words[i + 2]);
		d = tm_fibonacci_hash(d ^ words[i + 3]);
	}
	for (; i < count; i++)
		a = tm_fibonacci_hash(a ^ words[i]);
	a = tm_fibonacci_hash(a ^ b);
	a = tm_fibonacci_hash(a ^ c);
	return tm_fibonacci_hash(a ^ d);
}

// Spin locks live in the region or in runtime state.  Holders never block in
// the kernel, so a spinner that has spun for long yields its CPU instead.
// A held lock holds its owner's token, a number of the thread's own, so
// that fork can tell the locks its own thread holds: a signal handler that
// forks may have interrupted the thread inside the runtime
// (control.c, before_fork).
extern __thread uint32_t tm_thread_lock_token
	__attribute__((tls_model("initial-exec")));

// Give this thread its token (its first lock); returns it.
uint32_t tm_lock_token_assign(void);

static inline uint32_t tm_lock_token(void)
{
	uint32_t token = tm_thread_lock_token;

	if (__builtin_expect(!token, 0))
		token = tm_lock_token_assign();
	return token;
}

void tm_spin_lock_slow(uint32_t *lock, uint32_t token);

static inline void tm_spin_lock(uint32_t *lock)
{
	uint32_t token = tm_lock_token();

	if (__atomic_exchange_n(lock, token, __ATOMIC_ACQUIRE))
		tm_spin_lock_slow(lock, token);
}

static inline int tm_spin_trylock(uint32_t *lock)
{
	return !__atomic_exchange_n(lock, tm_lock_token(), __ATOMIC_ACQUIRE);
}

static inline void tm_spin_unlock(uint32_t *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

// Take @lock unless this thread holds it already (code a signal handler
// interrupted); true if it was taken, and so must be released.
static inline bool tm_spin_lock_unless_held(uint32_t *lock)
{
	if (__atomic_load_n(lock, __ATOMIC_RELAXED) == tm_lock_token())
		return false;
	tm_spin_lock(lock);
	return true;
}

// glibc's malloc is no cancellation point: a thread with a pthread_cancel()
// pending allocates on until it reaches one of its own.  The runtime's
// system calls that are cancellation points (open, close, write,
// fallocate, sigtimedwait) must not be where it takes effect, or the
// thread would end inside a hook with the runtime's locks held and every
// other thread's next allocation would wait forever: they run between
// these two (tests/programs/cancel.c).
int tm_cancel_off(void);
void tm_cancel_restore(int state);
// close(2), with cancellation off.
void tm_close(int fd);

// Write "tm: " and the NULL-terminated parts as one line to stderr, with a
// single write(2) from a stack buffer.
void tm_diag(const char *first, ...) __attribute__((sentinel));

// Format @value in decimal into @buf (at least 21 bytes); returns buf.
char *tm_fmt_u64(char *buf, uint64_t value);

// Move descriptor @fd to a high number (closing @fd) and return that, or
// @fd if none is free.  Programs take the lowest free numbers from open(),
// so a high one is rarely closed or reused under the runtime by a
// program's own files.  The copy is close-on-exec.
int tm_fd_move_high(int fd);

// Parse a decimal integer made only of digits; -1 if it is not one or is
// larger than @max.
long tm_parse_decimal(const char *text, long max);

#endif // TM_RUNTIME_PRIM_H
