/* high.h - half of a circle */
#include "queue/run/other.h"
