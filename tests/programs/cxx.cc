// cxx.cc: C++ allocations through operator new, std::vector and
// std::string; each must be attributed to the user's function.
#include <cstdio>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

struct Widget {
	char name[100];
	int id;
};

static std::vector<Widget *> widgets;
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

NOINLINE void churn_and_release()
{
	for (int i = 0; i < 1000; i++)
		delete new Widget();
	delete[] new char[77777];
}

int main()
{
	make_widgets();
	fill_numbers();
	build_text();
	churn_and_release();
	std::printf("cxx done\n");
	return 0;
}
