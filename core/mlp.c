/* mlp.c — to be written */
#include "mlp.h"
