/* high.c - its own header, its private header (the same module) and a lower room */
#include "queue/high.h"
#include "queue/high_int.h"
#include "lib/low.h"
