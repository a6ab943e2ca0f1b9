/*
 * main.c - postern's entry point: pick the personality from argv[0] and hand over.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("postern: not yet\n", stderr);
	return 70;
}
