/* other.c - the other half of the circle */
#include "queue/run/high.h"
