#include <stdio.h>
int main(int argc, char **argv);
int main(int argc, char **argv)
{
	(void)argc; (void)argv;
	puts("frugal " FRUGAL_VERSION);
	return 0;
}
