/* high.h - half of a circle */
#include "queue/other.h"
