/* text.c - see text.h */
#include "lib/text.h"

/* text_has_8bit - see text.h */
bool text_has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return true;
	return false;
}
