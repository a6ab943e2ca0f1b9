/* low.h - includes nothing of ours */
#include <stddef.h>
