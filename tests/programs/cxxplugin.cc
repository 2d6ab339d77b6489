// cxxplugin.cc: C++ code that a C program loads with dlopen (dlhost.c),
// which brings libstdc++ into the process only then.  Each block comes from
// libstdc++'s own functions (operator new[], std::string's construction,
// the string stream's) and must be attributed to the function here.
#include <cstdint>
#include <cstdio>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

// volatile: the compiler may drop a new-expression whose result is never read.
static char *volatile array;
static std::string *text, *report;
static std::vector<int> *numbers;

// operator new[], libstdc++'s or the runtime's.
NOINLINE void make_array()
{
	array = new char[4444];
}

// 32 bytes for the string, 3001 from libstdc++'s _M_construct.
NOINLINE void make_text()
{
	text = new std::string(3000, 'x');
}

// 5000 bytes: the stream's contents copied out by libstdc++.
NOINLINE void make_report()
{
	std::ostringstream out;
	out << std::string(2500, 'y') << 2 << std::string(2498, 'z');
	report = new std::string(out.str());
}

// A vector's growth: std::vector<int>'s _M_realloc_insert is compiled into
// this library, not libstdc++.so; the last buffer is 2048 ints.
NOINLINE void fill_numbers()
{
	numbers = new std::vector<int>;
	for (int i = 0; i < 1500; i++)
		numbers->push_back(i);
}

// More than any machine has; volatile, so that the compiler does not see it.
static volatile size_t too_much = SIZE_MAX / 4;

// operator new fails as libstdc++'s does: with std::bad_alloc.
NOINLINE void fail_to_allocate()
{
	try {
		array = new char[too_much];
		std::puts("cxxplugin: no std::bad_alloc");
	} catch (const std::bad_alloc &) {
		std::puts("cxxplugin: std::bad_alloc");
	}
}

extern "C" __attribute__((visibility("default"))) void plugin_allocate()
{
	make_array();
	make_text();
	make_report();
	fill_numbers();
	fail_to_allocate();
}
