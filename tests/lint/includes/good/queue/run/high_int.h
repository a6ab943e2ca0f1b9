/* high_int.h - high's private header includes its public one: not a circle */
#include "queue/run/high.h"
