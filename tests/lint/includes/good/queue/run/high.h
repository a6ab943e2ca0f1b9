/* high.h */
#include "lib/low.h"
