/* low.h - a wire header that reaches up into the run family (an offence) */
#include "queue/run/high.h"
