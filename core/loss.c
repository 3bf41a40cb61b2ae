/* loss.c — to be written */
#include "loss.h"
