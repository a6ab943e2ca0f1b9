/* low.h - a lib header that reaches up into queue/ (an offence) */
#include "queue/run/high.h"
