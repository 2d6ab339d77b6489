// cxx.cc: C++ allocations through operator new (plain, array, aligned and
// nothrow), std::vector and std::string; each must be attributed to the
// user's function, and every deleted block forgotten.
#include <cstdio>
#include <new>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

struct Widget {
	char name[100];
	int id;
};

// Allocated through operator new(size_t, std::align_val_t).
struct alignas(64) Aligned {
	char bytes[256];
};

static std::vector<Widget *> widgets;
// volatile: the compiler may drop a new-expression whose result is never read.
static Widget *volatile survivor;
static std::vector<Aligned *> aligned;
static char *spare;
static std::vector<int> *numbers;
static std::string *text;

NOINLINE void make_widgets()
{
	for (int i = 0; i < 50; i++)
		widgets.push_back(new Widget());
}

NOINLINE void fill_numbers()
{
	numbers = new std::vector<int>();
	for (int i = 0; i < 100000; i++)
		numbers->push_back(i);
}

NOINLINE void build_text()
{
	text = new std::string(5000, 'x');
}

NOINLINE void make_aligned()
{
	for (int i = 0; i < 10; i++)
		aligned.push_back(new Aligned());
}

NOINLINE void make_nothrow()
{
	spare = new (std::nothrow) char[3333];
}

// std::bad_alloc thrown through the runtime's operator new; tracing goes on.
NOINLINE bool survive_bad_alloc()
{
	volatile size_t huge = (size_t)1 << 62;
	bool caught = false;
	try {
		::operator delete(::operator new(huge));
	} catch (const std::bad_alloc &) {
		caught = true;
	}
	survivor = new Widget();
	return caught;
}

NOINLINE void churn_and_release()
{
	for (int i = 0; i < 1000; i++)
		delete new Widget();
	delete[] new char[77777];
	for (int i = 0; i < 100; i++)
		delete new Aligned();
	delete[] new (std::nothrow) char[555];
}

int main()
{
	make_widgets();
	fill_numbers();
	build_text();
	make_aligned();
	make_nothrow();
	if (!survive_bad_alloc()) {
		std::printf("no std::bad_alloc\n");
		return 1;
	}
	churn_and_release();
	std::printf("cxx done\n");
	return 0;
}
