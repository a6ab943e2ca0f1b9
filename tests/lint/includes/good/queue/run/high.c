/* high.c - its own header, its private header (the same module) and a lower room */
#include "queue/run/high.h"
#include "queue/run/high_int.h"
#include "lib/low.h"
